package proxy

import (
	"io"
	"net/http"
	"net/http/httputil"
	"testing"
	"time"
)

// BenchmarkProxySmallGET compares a small GET straight to a server with the
// same GET through a bare httputil.ReverseProxy and through the proxy, all
// over loopback with keep-alive, so the proxy's cost beyond ReverseProxy's
// own is the difference between the last two. writes/op counts the writes
// to the client: on a VM each is a costly system call.
func BenchmarkProxySmallGET(b *testing.B) {
	backend, backendWrites := newCountingServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"started":"2024-05-01T10:00:00Z","last_activity":"2024-05-01T10:31:07Z","connections":1,"kernels":1}`)
	}))
	target := mustURL(b, backend.URL)

	plainTransport := &http.Transport{MaxIdleConnsPerHost: 16}
	defer plainTransport.CloseIdleConnections()
	plain, plainWrites := newCountingServer(b, &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: plainTransport,
		ErrorLog:  discard,
	})

	p := New(Options{ErrorLog: discard, Activity: func(string, time.Time) {}})
	p.SetRoute("alice", target)
	front, frontWrites := newCountingServer(b, p)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	for _, bc := range []struct {
		name, url string
		writes    *writeCounter
	}{
		{"direct", backend.URL + "/user/alice/api/status", backendWrites},
		{"reverseproxy", plain.URL + "/user/alice/api/status", plainWrites},
		{"proxy", front.URL + "/user/alice/api/status", frontWrites},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			before := bc.writes.writes.Load()
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
			b.ReportMetric(float64(bc.writes.writes.Load()-before)/float64(b.N), "writes/op")
		})
	}
}
