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
