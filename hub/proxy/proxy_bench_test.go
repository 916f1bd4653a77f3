package proxy

import (
	"io"
	"net/http"
	"net/http/httputil"
	"testing"
	"time"
)

// BenchmarkProxySmallGET compares a small GET straight to a server with the
// same GET through a bare httputil.ReverseProxy, through the proxy on the
// hub's listener (all servers on one origin) and on a user's own origin,
// all over loopback with keep-alive, so the proxy's cost beyond
// ReverseProxy's own is the difference between those and reverseproxy. writes/op counts the writes
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

	// The same request on alice's own origin, as the hub serves it: her
	// port's listener, the hub's cookie names to strip, her server's
	// cookies to check.
	op := New(Options{ErrorLog: discard, Activity: func(string, time.Time) {}, HubCookies: []string{"jupyterhub-hub-login"},
		Origins: &Origins{Port: func(string) (int, bool) { return 0, false }}})
	op.SetRoute("alice", target)
	origin, originWrites := newCountingServer(b, op.UserOrigin("alice"))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	for _, bc := range []struct {
		name, url string
		writes    *writeCounter
	}{
		{"direct", backend.URL + "/user/alice/api/status", backendWrites},
		{"reverseproxy", plain.URL + "/user/alice/api/status", plainWrites},
		{"proxy", front.URL + "/user/alice/api/status", frontWrites},
		{"origin", origin.URL + "/user/alice/api/status", originWrites},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			before := bc.writes.writes.Load()
			req, err := http.NewRequest("GET", bc.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			// What a logged-in browser sends to her server.
			req.Header.Set("Cookie", "_xsrf=2|4f1c2a|0123456789abcdef|1764000000; jupyterhub-user-alice=2|1:0|10:1764000000|20:jupyterhub-user-alice|44:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=|0123456789abcdef")
			for b.Loop() {
				res, err := client.Do(req)
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
