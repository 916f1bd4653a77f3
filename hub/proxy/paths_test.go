package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   decision
	}{
		{"/", decision{verdict: toHub}},
		{"/hub/login?next=/user/alice/", decision{verdict: toHub}},
		{"/user", decision{verdict: toHub}},
		{"/user/", decision{verdict: toHub}},
		{"/users/alice/", decision{verdict: toHub}},
		{"/user/alice/..", decision{verdict: toHub}},
		{"/user/%2e%2e/", decision{verdict: toHub}},
		{"/user/alice/%2e%2e/%2e%2e/hub/", decision{verdict: toHub}},

		{"/user/alice/", decision{verdict: toUser, user: "alice"}},
		{"/user/alice/lab/tree/x.ipynb", decision{verdict: toUser, user: "alice"}},
		{"/user/%61lice/", decision{verdict: toUser, user: "alice"}},
		{"/user/a%20b/x", decision{verdict: toUser, user: "a b"}},
		{"/user/a%3Fb/", decision{verdict: toUser, user: "a?b"}},
		{"/user/al%7Cice/", decision{verdict: toUser, user: "al|ice"}},
		{"/user/al|ice/x", decision{verdict: toUser, user: "al|ice"}},
		// After the user segment the path is the server's business.
		{"/user/alice/x/../y", decision{verdict: toUser, user: "alice"}},
		{"/user/alice/files/a%2Fb", decision{verdict: toUser, user: "alice"}},
		{"/user/alice/files/a%5Cb", decision{verdict: toUser, user: "alice"}},

		{"/user/alice", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/user/a%3Fb", decision{verdict: toCanonical, user: "a?b", location: "/user/a%3Fb/"}},
		{"/user/alice/.", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/user/a%2Fb/", decision{verdict: toCanonical, user: "a", location: "/user/a/b/"}},
		{"/user/bob/../alice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/user/bob/%2e%2e/alice/x", decision{verdict: toCanonical, user: "alice", location: "/user/alice/x"}},
		{"/user/bob/%2E%2E%2Falice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/hub/..%2Fuser/alice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/user/alice/../bob/", decision{verdict: toCanonical, user: "bob", location: "/user/bob/"}},
		{`/user/bob\..\alice/`, decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"//user/alice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/user//alice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/./user/alice/", decision{verdict: toCanonical, user: "alice", location: "/user/alice/"}},
		{"/%75ser/alice/x%20y", decision{verdict: toCanonical, user: "alice", location: "/user/alice/x%20y"}},
	} {
		u, err := url.ParseRequestURI(tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if got := classify(u); got != tc.want {
			t.Errorf("classify(%q) = %+v, want %+v", tc.target, got, tc.want)
		}
	}
	if got := classify(&url.URL{Scheme: "x", Opaque: "/user/alice/"}); got.verdict != toHub {
		t.Errorf("opaque URL: %+v, want the hub", got)
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "/",
		"a/b":              "/a/b",
		"/a//b/":           "/a/b/",
		"/a/./b/../c":      "/a/c",
		`\a\..\b\`:         "/b/",
		"/a/..":            "/",
		"/user/bob/../..":  "/",
		"/user/bob/../../": "/",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTraversalNeverReachesAlice sends tricks, byte for byte, from someone
// who may use bob's route and wants alice's server, or wants alice's
// cookies to reach bob's. Alice's server fails the test if any of them
// arrive; the redirects are safe because a browser following one sends the
// cookies of the path it lands on.
func TestTraversalNeverReachesAlice(t *testing.T) {
	var current atomic.Pointer[string]
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		if c := current.Load(); c == nil || !strings.HasPrefix(*c, "alice ") {
			t.Errorf("alice's server got %s %s, which was not for alice", r.Method, r.RequestURI)
		}
		io.WriteString(w, "alice")
	})
	bob := newBackend(t, "bob", func(w http.ResponseWriter, r *http.Request) {
		if user, ok := forwardedUser(r.RequestURI); !ok || user != "bob" {
			t.Errorf("bob's server got %s, not under /user/bob/", r.RequestURI)
		}
		io.WriteString(w, "bob")
	})
	hub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hub") })
	p := New(Options{Hub: hub, ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	p.SetRoute("bob", mustURL(t, bob.URL))
	front := newFrontend(t, p)
	addr := mustURL(t, front.URL).Host

	for _, tc := range []struct {
		method, target string
		want           string // "alice", "bob", "hub", "400" or the Location of a 301
	}{
		// Controls: the test would notice alice being reached.
		{"GET", "/user/alice/x", "alice"},
		{"GET", "/user/bob/x", "bob"},
		{"GET", "/user/%62ob/x", "bob"},

		{"GET", "/user/bob/../alice/", "/user/alice/"},
		{"GET", "/user/bob/../alice", "/user/alice/"},
		{"GET", "/user/bob/./../alice/x?y=1", "/user/alice/x?y=1"},
		{"GET", "/user/bob/x/../../alice/", "/user/alice/"},
		{"GET", "/user/bob/../../user/alice/", "/user/alice/"},
		{"GET", "/user/bob/%2e%2e/alice/", "/user/alice/"},
		{"GET", "/user/bob/%2E%2E/alice/", "/user/alice/"},
		{"GET", "/user/bob/.%2e/alice/", "/user/alice/"},
		{"GET", "/user/bob/%2e./alice/", "/user/alice/"},
		{"GET", "/user/bob/%2E%2E%2Falice/", "/user/alice/"},
		{"GET", "/user/bob/%2e%2e%2falice/api", "/user/alice/api"},
		{"GET", "/user/bob/..%2Falice/", "/user/alice/"},
		{"GET", "/user/bob%2F..%2Falice/", "/user/alice/"},
		{"GET", "/user/bob%2f%2e%2e%2falice/", "/user/alice/"},
		{"GET", `/user/bob/..\alice/`, "/user/alice/"},
		{"GET", `/user/bob\..\alice/`, "/user/alice/"},
		{"GET", "/user/bob/..%5Calice/", "/user/alice/"},
		{"GET", "/user/bob%5C..%5Calice/", "/user/alice/"},
		{"GET", "/user/bob/%2e%2e%5calice/", "/user/alice/"},
		{"GET", "/user/bob;/../alice/", "/user/alice/"},
		{"GET", "/user/./bob/../alice/", "/user/alice/"},
		{"GET", "//user/alice/", "/user/alice/"},
		{"GET", "/user//alice/", "/user/alice/"},
		{"GET", "/./user/alice/", "/user/alice/"},
		{"GET", "/%75ser/alice/", "/user/alice/"},
		{"GET", "/user/%2e%2e/user/alice/", "/user/alice/"},
		// Alice's cookies (path /user/alice/) must not reach bob's server,
		// nor the hub's cookie (path /hub/) reach a user's server.
		{"GET", "/user/alice/../bob/", "/user/bob/"},
		{"GET", "/user/alice/..%2Fbob/", "/user/bob/"},
		{"GET", "/user/alice%2F..%2Fbob/", "/user/bob/"},
		{"GET", "/user/alice/%2e%2e/bob/x", "/user/bob/x"},
		{"GET", "/hub/../user/alice/", "/user/alice/"},
		{"GET", "/hub/..%2Fuser/alice/", "/user/alice/"},
		{"GET", "/hub/%2e%2e/user/alice/", "/user/alice/"},
		// Absolute-form request targets are classified the same way.
		{"GET", "http://" + addr + "/user/bob/../alice/", "/user/alice/"},
		{"GET", "http://" + addr + "/user/bob/%2e%2e%2Falice/", "/user/alice/"},
		// Other methods are refused rather than redirected.
		{"POST", "/user/bob/../alice/api/contents", "400"},
		{"PUT", "/user/bob/%2e%2e%2Falice/api/contents/x", "400"},
		{"DELETE", "/user/bob%2F..%2Falice/api/kernels/k", "400"},
		// Bob's own odd paths stay with bob or go to the hub.
		{"GET", "/user/bob/%252e%252e/alice/", "bob"},
		{"GET", "/user/bob/..%252Falice/", "bob"},
		{"GET", "/user/bob/..", "hub"},
		{"GET", "/user/bob/%2e%2e/%2e%2e/hub/home", "hub"},
	} {
		name := tc.want + " " + tc.method + " " + tc.target
		current.Store(&name)
		res, body := rawRequest(t, addr, tc.method, tc.target)
		got := fmt.Sprint(res.StatusCode)
		switch res.StatusCode {
		case http.StatusOK:
			got = body
		case http.StatusMovedPermanently:
			got = res.Header.Get("Location")
		}
		if got != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.method, tc.target, got, tc.want)
		}
	}
}

// FuzzRouting checks the invariant for any request target: a request is
// forwarded only to the server of the user its forwarded path names after
// /user/, that name equals the route's user, and the path as the client
// sent it names the same user (so a browser's cookies for one user's
// server never go to another's). Redirects stay on this host and lead to a
// path the proxy accepts as it stands.
func FuzzRouting(f *testing.F) {
	for _, s := range []string{
		"/user/alice/", "/user/bob/../alice/", "/user/bob/%2e%2e/alice/", "/user/bob/%2E%2E%2Falice/",
		`/user/bob\..\alice/`, "/user/bob%2F..%2Falice/", "//user/alice/", "/hub/..%2Fuser/alice/",
		"/user/a%20b/x", "/user/al|ice/x", "/user/alice", "/user/%2e%2e/", "/user/./user/alice/",
		"/user/alice/..%2F..%2Fuser/bob/x", "http://h/user/bob/../alice/", "/user/al%2Fice/",
		"/user/..%2F/alice", "/user//", "*", "/user/alice/x?y=/user/bob/", "A0000000:/user/bob/0",
		"/user/alice%2Fx/|",
	} {
		f.Add(s)
	}
	// Names a cleaned path can never produce are routed too, to prove they
	// are never reached.
	users := []string{"alice", "bob", "a b", "al|ice", "al/ice", "..", ".", "", `al\ice`}
	byHost := map[string]string{}
	p := New(Options{
		ErrorLog: discard,
		Hub:      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Test-Hub", "1") }),
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			user, ok := byHost[r.URL.Host]
			h.Set("X-Test-Known", fmt.Sprint(ok))
			h.Set("X-Test-User", user)
			h.Set("X-Test-Uri", r.URL.RequestURI())
			return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody, Request: r}, nil
		}),
	})
	for i, u := range users {
		host := fmt.Sprintf("backend-%d.test:80", i)
		byHost[host] = u
		p.SetRoute(u, &url.URL{Scheme: "http", Host: host})
	}

	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: hub.test\r\n\r\n")))
		if err != nil {
			return
		}
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		res := rec.Result()

		if res.Header.Get("X-Test-Known") != "" {
			if res.Header.Get("X-Test-Known") != "true" {
				t.Fatalf("%q was forwarded to an unknown host", target)
			}
			user := res.Header.Get("X-Test-User")
			uri := res.Header.Get("X-Test-Uri")
			if got, ok := forwardedUser(uri); !ok || got != user {
				t.Fatalf("%q was forwarded to %q's server as %q, whose user segment is %q", target, user, uri, got)
			}
			if got, ok := forwardedUser(wirePath(req.RequestURI)); !ok || got != user {
				t.Fatalf("%q was forwarded to %q's server but names %q as sent", target, user, got)
			}
			return
		}
		if res.StatusCode == http.StatusMovedPermanently {
			loc := res.Header.Get("Location")
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
				t.Fatalf("%q redirects off this host to %q", target, loc)
			}
			u, err := url.ParseRequestURI(loc)
			if err != nil {
				t.Fatalf("%q redirects to unparsable %q: %v", target, loc, err)
			}
			if d := classify(u); d.verdict != toUser {
				t.Fatalf("%q redirects to %q, which is not canonical either (%+v)", target, loc, d)
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// forwardedUser returns the decoded segment after /user/ of an escaped
// request URI or path.
func forwardedUser(uri string) (string, bool) {
	p, _, _ := strings.Cut(uri, "?")
	rest, ok := strings.CutPrefix(p, "/user/")
	if !ok {
		return "", false
	}
	seg, _, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	name, err := url.PathUnescape(seg)
	return name, err == nil
}

// wirePath is the path of a request target as the client sent it: what
// follows "scheme:" and "//authority" in absolute form.
func wirePath(target string) string {
	if strings.HasPrefix(target, "/") {
		return target
	}
	_, rest, ok := strings.Cut(target, ":")
	if !ok {
		return target
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		if i := strings.IndexByte(after, '/'); i >= 0 {
			return after[i:]
		}
		return ""
	}
	return rest
}
