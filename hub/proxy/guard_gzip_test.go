package proxy

import (
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A guarded server that compresses its pages (the visitor's browser asks
// for gzip, and the proxy passes Accept-Encoding on) gets its token past
// scrubToken, which skips any Content-Encoding.
func TestGuardedGzipPagesHoldNoToken(t *testing.T) {
	o := newOriginHub(t, Options{Guard: admitAll{}}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")[len("token "):]
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprintf(zw, `<script id="jupyter-config-data">{"token": "%s"}</script>`, tok)
			zw.Close()
			return
		}
		fmt.Fprintf(w, `<script id="jupyter-config-data">{"token": "%s"}</script>`, tok)
	})
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "the-server-token")
	code, body, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab")
	if code != 200 || strings.Contains(body, "the-server-token") {
		t.Errorf("a gzipped page = %d %q", code, body)
	}
}
