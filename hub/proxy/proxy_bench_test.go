package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkProxySmallGET compares a small GET straight to a server with the
// same GET through the proxy, both over loopback with keep-alive.
func BenchmarkProxySmallGET(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"started":"2024-05-01T10:00:00Z","last_activity":"2024-05-01T10:31:07Z","connections":1,"kernels":1}`)
	}))
	defer backend.Close()
	p := New(Options{ErrorLog: discard, Activity: func(string, time.Time) {}})
	p.SetRoute("alice", mustURL(b, backend.URL))
	front := httptest.NewServer(p)
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	for _, bc := range []struct{ name, url string }{
		{"direct", backend.URL + "/user/alice/api/status"},
		{"proxy", front.URL + "/user/alice/api/status"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Get(bc.url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}
