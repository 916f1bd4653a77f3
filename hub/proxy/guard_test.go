package proxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// admitNone is a Guard that lets nothing through and counts what it saw.
type admitNone struct{ asked atomic.Int32 }

func (g *admitNone) Admit(w http.ResponseWriter, r *http.Request, user string) bool {
	g.asked.Add(1)
	http.Error(w, "no", http.StatusForbidden)
	return false
}

// A guarded route forwards only what its Guard admits, only on the
// server's own origin; with no Guard, or no origins for its cookies,
// nothing.
func TestGuardedRoutes(t *testing.T) {
	g := &admitNone{}
	o := newOriginHub(t, Options{Guard: g}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) { o.hits["alice"].Add(1) })
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab"); code != http.StatusForbidden || g.asked.Load() != 1 {
		t.Errorf("alice's origin = %d, guard asked %d times", code, g.asked.Load())
	}
	if code, _, _ := get(t, noRedirects, o.main.URL+"/user/alice/lab"); code != http.StatusFound || g.asked.Load() != 1 {
		t.Errorf("the hub's origin = %d, want a redirect to alice's, without forwarding", code)
	}
	if u, ok := o.p.Route("alice"); !ok || u.String() != backend.URL {
		t.Errorf("Route = %v %v", u, ok)
	}

	bare := newOriginHub(t, Options{}, "alice")
	bare.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, bare.origins["alice"].URL+"/user/alice/lab"); code != http.StatusServiceUnavailable {
		t.Errorf("a guarded route without a Guard = %d, want 503", code)
	}
	noOrigins := New(Options{Guard: &admitAll{}, ErrorLog: discard})
	noOrigins.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, newFrontend(t, noOrigins).URL+"/user/alice/lab"); code != http.StatusServiceUnavailable {
		t.Errorf("a guarded route without origins = %d, want 503", code)
	}
	o.noHits(t, "alice")

	// SetRoute makes the route unguarded again.
	o.p.SetRoute("alice", mustURL(t, backend.URL))
	if code, _, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab"); code != http.StatusOK || g.asked.Load() != 1 {
		t.Errorf("after SetRoute = %d", code)
	}
}

type admitAll struct{}

func (admitAll) Admit(http.ResponseWriter, *http.Request, string) bool { return true }

func TestScrubber(t *testing.T) {
	const tok = "0123456789abcdef"
	for in, want := range map[string]string{
		`{"token": "` + tok + `", "x": 1}`:  `{"token": "", "x": 1}`,
		"no token here":                     "no token here",
		tok + tok + "a" + tok:               "a",
		"<" + tok[:7] + ">" + tok[7:] + tok: "<" + tok[:7] + ">" + tok[7:],
		"0123456789abcde":                   "0123456789abcde",
		"":                                  "",
	} {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if one {
				r = iotest.OneByteReader(r)
			}
			res := &http.Response{Header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}, "Content-Length": {"9"}},
				Body: io.NopCloser(r), ContentLength: 9}
			scrubToken(res, tok)
			got, err := io.ReadAll(iotest.OneByteReader(res.Body))
			if err != nil || string(got) != want || res.Header.Get("Content-Length") != "" || res.ContentLength != -1 {
				t.Errorf("scrub %q (one byte at a time: %v) = %q %v, want %q", in, one, got, err, want)
			}
		}
	}
	res := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(tok))}
	scrubToken(res, tok)
	if got, _ := io.ReadAll(res.Body); string(got) != tok {
		t.Error("a JSON answer was changed")
	}
}

// A guarded server's pages reach the browser without its token.
func TestGuardedPagesHoldNoToken(t *testing.T) {
	o := newOriginHub(t, Options{Guard: admitAll{}}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprintf(w, `<script id="jupyter-config-data">{"token": "%s"}</script>`, r.Header.Get("Authorization")[len("token "):])
	})
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "the-server-token")
	code, body, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab")
	if code != 200 || strings.Contains(body, "the-server-token") || !strings.Contains(body, `{"token": ""}`) {
		t.Errorf("the page = %d %q", code, body)
	}
}
