package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDefaultHooks(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(http.ResponseWriter, *http.Request)
		want string
	}{
		{"NotRunning", func(w http.ResponseWriter, r *http.Request) { NotRunning(w, r, "alice") },
			"No notebook server is running for alice. Open the hub home page to start it.\n"},
		{"Unavailable", func(w http.ResponseWriter, r *http.Request) { Unavailable(w, r, "alice", errors.New("refused")) },
			"The notebook server for alice is not answering; it may be starting or stopped. Open the hub home page to restart it.\n"},
	} {
		rec := httptest.NewRecorder()
		tc.call(rec, httptest.NewRequest("GET", "/user/alice/", nil))
		if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != tc.want ||
			rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %v %q", tc.name, rec.Code, rec.Header(), rec.Body)
		}
	}
}

func TestNotCanonical(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		code           int
		location       string
	}{
		{"GET", "/user/bob/../alice/x", http.StatusMovedPermanently, "/user/alice/x"},
		{"HEAD", "/user/bob/../alice/x?a=1&b=%2F", http.StatusMovedPermanently, "/user/alice/x?a=1&b=%2F"},
		{"POST", "/user/bob/../alice/x?a=1", http.StatusBadRequest, ""},
		{"OPTIONS", "/user/alice", http.StatusBadRequest, ""},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, "http://hub.test/", nil)
		r.URL = mustURL(t, tc.target)
		notCanonical(rec, r, classify(r.URL).location)
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.location {
			t.Errorf("%s %s: %d Location %q, want %d %q", tc.method, tc.target, rec.Code, rec.Header().Get("Location"), tc.code, tc.location)
		}
		if tc.code == http.StatusBadRequest && !strings.Contains(rec.Body.String(), "/user/alice/") {
			t.Errorf("%s %s: body %q does not say where to send it", tc.method, tc.target, rec.Body)
		}
	}
}

func TestProxyErrorIgnoresClientThatLeft(t *testing.T) {
	called := false
	p := New(Options{ErrorLog: discard, Unavailable: func(http.ResponseWriter, *http.Request, string, error) { called = true }})
	rt := &route{user: "alice", target: mustURL(t, "http://127.0.0.1:1")}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := httptest.NewRequest("GET", "/user/alice/", nil).WithContext(ctx)
	// ReverseProxy's outbound copy does not show that the client left;
	// only the client's own request does.
	out := in.Clone(context.Background())
	rec := httptest.NewRecorder()
	p.proxyError(rt, &forwardWriter{ResponseWriter: rec, in: in}, out, context.Canceled)
	if called || rec.Body.Len() != 0 {
		t.Errorf("client gone: Unavailable called %v, body %q; want neither", called, rec.Body)
	}
	// The same error while the client still waits is reported.
	in = httptest.NewRequest("GET", "/user/alice/", nil)
	out = in.Clone(in.Context())
	p.proxyError(rt, &forwardWriter{ResponseWriter: rec, in: in}, out, context.Canceled)
	if !called {
		t.Error("backend canceled while the client waits: Unavailable not called")
	}
}
