package proxy

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSetForwarded(t *testing.T) {
	for _, tc := range []struct {
		name, remote, host string
		tls                bool
		want               map[string]string
	}{
		{"ipv4", "192.0.2.7:5000", "hub.example:8000", false,
			map[string]string{"X-Forwarded-For": "192.0.2.7", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "hub.example:8000", "X-Forwarded-Port": "8000"}},
		{"ipv6 tls default port", "[2001:db8::1]:5000", "hub.example", true,
			map[string]string{"X-Forwarded-For": "2001:db8::1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example", "X-Forwarded-Port": "443"}},
		{"no client address", "", "[::1]:8081", false,
			map[string]string{"X-Forwarded-For": "", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "[::1]:8081", "X-Forwarded-Port": "8081"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := httptest.NewRequest("GET", "/user/alice/", nil)
			in.RemoteAddr = tc.remote
			in.Host = tc.host
			if tc.tls {
				in.TLS = &tls.ConnectionState{}
			}
			out := in.Clone(in.Context())
			out.Header = http.Header{
				"X-Forwarded-For":  {"203.0.113.1", "203.0.113.2"},
				"X-Forwarded-Port": {"1"},
				"X-Real-Ip":        {"203.0.113.1"},
				"X-Scheme":         {"https"},
				"Forwarded":        {"for=203.0.113.1"},
				"Cookie":           {"jupyterhub-user-alice=v"},
			}
			setForwarded(out, in)
			tc.want["X-Real-Ip"] = ""
			tc.want["X-Scheme"] = ""
			tc.want["Forwarded"] = ""
			tc.want["Cookie"] = "jupyterhub-user-alice=v"
			for k, want := range tc.want {
				if got := out.Header.Values(k); len(got) > 1 || (len(got) == 1) != (want != "") || (want != "" && got[0] != want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// A student's server cannot, through its visitors' browsers, register a
// service worker for more than its own pages (its port may one day be
// another user's), nor clear the cookies of the whole host: the hub's
// login and every classmate's server's.
func TestServerHeadersThatReachBeyondItAreDropped(t *testing.T) {
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Service-Worker-Allowed", "/")
		h.Set("Clear-Site-Data", `"cookies", "storage"`)
		h.Set("Content-Type", "text/javascript")
		w.Write([]byte("self.addEventListener('fetch', e => {})"))
	})
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	code, _, h := get(t, front.Client(), front.URL+"/user/alice/files/sw.js")
	if code != http.StatusOK || h.Get("Content-Type") != "text/javascript" {
		t.Fatalf("GET = %d %v", code, h)
	}
	for _, k := range []string{"Service-Worker-Allowed", "Clear-Site-Data"} {
		if v := h.Values(k); len(v) != 0 {
			t.Errorf("%s: %q reached the visitor", k, v)
		}
	}
}
