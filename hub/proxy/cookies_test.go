package proxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestConfineCookie(t *testing.T) {
	const prefix = "/user/alice"
	const dropped = "(dropped)"
	for line, want := range map[string]string{
		"a=1":                                 "a=1",
		"a=1; Path=/user/alice/":              "a=1; Path=/user/alice/",
		"a=1; Path=/user/alice":               "a=1; Path=/user/alice",
		"a=1; path=/user/alice/lab; HttpOnly": "a=1; path=/user/alice/lab; HttpOnly",
		"a=1; Path=/user/alice/; Secure; SameSite=Lax": "a=1; Path=/user/alice/; Secure; SameSite=Lax",
		"a=Path=/hub/; Path=/user/alice/":              "a=Path=/hub/; Path=/user/alice/", // the value is not an attribute
		// Outside her path: moved under it, other attributes kept.
		"_xsrf=2|x; expires=Sun, 06 Dec 2026 10:00:00 GMT; Path=/": "_xsrf=2|x; expires=Sun, 06 Dec 2026 10:00:00 GMT; Path=/user/alice/",
		"a=1; Path=/hub/":                    "a=1; Path=/user/alice/",
		"a=1; Path=/hub/; HttpOnly":          "a=1; HttpOnly; Path=/user/alice/",
		"a=1; Path=":                         "a=1; Path=/user/alice/",
		"a=1; Path=/user/":                   "a=1; Path=/user/alice/",
		"a=1; Path=/user/alicebob/":          "a=1; Path=/user/alice/",
		"a=1; Path=/user/bob/":               "a=1; Path=/user/alice/",
		"a=1; Path=/user/alice/../hub":       "a=1; Path=/user/alice/",
		"a=1; Path=/user/alice/./../../hub/": "a=1; Path=/user/alice/",
		"a=1; Path=/user/alice/%2e%2e/hub/":  "a=1; Path=/user/alice/",
		`a=1; Path=/user/alice/..\hub`:       "a=1; Path=/user/alice/",
		"a=1; PATH=/hub/":                    "a=1; Path=/user/alice/",
		"a=1; Path=/user/alice/; Path=/hub/": "a=1; Path=/user/alice/",
		"a=1; Path=/hub/; Path=/user/alice/": "a=1; Path=/user/alice/",
		"a=1;Path=/hub/":                     "a=1; Path=/user/alice/",
		"a=1; Path = /hub/":                  "a=1; Path=/user/alice/",
		// Any domain, even the host's own, is dropped.
		"a=1; Domain=127.0.0.1; Path=/user/alice/": dropped,
		"a=1; domain=.example.org":                 dropped,
		"a=1; DOMAIN=":                             dropped,
		"a=1; Path=/hub/; Domain=localhost":        dropped,
	} {
		got, ok := confineCookie(line, prefix)
		if !ok {
			got = dropped
		}
		if got != want {
			t.Errorf("confineCookie(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestServersCannotSetCookiesOutsideTheirPath sends a server's Set-Cookie
// headers through the proxy: what reaches the browser is confined to the
// server's path.
func TestServersCannotSetCookiesOutsideTheirPath(t *testing.T) {
	set := []string{
		"own=1; Path=/user/alice/; HttpOnly",
		"hub=1; Path=/hub/",
		"root=1; Path=/",
		"dom=1; Domain=127.0.0.1; Path=/user/alice/",
		"dots=1; Path=/user/alice/../hub",
		"lower=1; path=/hub/",
		"bob=1; Path=/user/bob/",
		"plain=1",
		"__Host-jupyterhub-hub-login=x; Path=/; Secure",
	}
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range set {
			w.Header().Add("Set-Cookie", c)
		}
		if r.URL.Path == "/user/alice/only-domain" {
			w.Header()["Set-Cookie"] = []string{"dom=1; Domain=127.0.0.1"}
		}
		fmt.Fprint(w, "ok")
	})
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	_, _, h := get(t, noRedirects, front.URL+"/user/alice/tree")
	want := []string{"own=1; Path=/user/alice/; HttpOnly", "hub=1; Path=/user/alice/", "root=1; Path=/user/alice/",
		"dots=1; Path=/user/alice/", "lower=1; Path=/user/alice/", "bob=1; Path=/user/alice/", "plain=1",
		"__Host-jupyterhub-hub-login=x; Secure; Path=/user/alice/"}
	if got := h.Values("Set-Cookie"); !slices.Equal(got, want) {
		t.Errorf("Set-Cookie through the proxy = %q, want %q", got, want)
	}
	for _, c := range h.Values("Set-Cookie") {
		parsed, err := http.ParseSetCookie(c)
		if err != nil || parsed.Domain != "" || (parsed.Path != "" && !strings.HasPrefix(parsed.Path+"/", "/user/alice/")) {
			t.Errorf("%q reaches beyond /user/alice/: %+v, %v", c, parsed, err)
		}
	}
	if _, _, h := get(t, noRedirects, front.URL+"/user/alice/only-domain"); len(h.Values("Set-Cookie")) != 0 {
		t.Errorf("Set-Cookie = %q, want none", h.Values("Set-Cookie"))
	}
}

// TestHubLoginCookieNeverReachesAServer sends the hub's login cookie the
// ways a browser (or a crafted request) can, and checks what the server
// receives.
func TestHubLoginCookieNeverReachesAServer(t *testing.T) {
	got := make(chan []string, 1)
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("Cookie")
	})
	names := []string{"jupyterhub-hub-login", "__Host-jupyterhub-hub-login"}
	p := New(Options{ErrorLog: discard, HubCookies: names})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	for _, tc := range []struct {
		sent []string
		want []string
	}{
		{[]string{"jupyterhub-hub-login=SECRET"}, nil},
		{[]string{"_xsrf=x; jupyterhub-hub-login=SECRET; jupyterhub-user-alice=tok"}, []string{"_xsrf=x; jupyterhub-user-alice=tok"}},
		{[]string{"jupyterhub-hub-login=SECRET;jupyterhub-hub-login=SECRET2", "jupyterhub-user-alice=tok"}, []string{"jupyterhub-user-alice=tok"}},
		{[]string{"__Host-jupyterhub-hub-login=SECRET", " jupyterhub-hub-login = SECRET "}, nil},
		{[]string{"x-jupyterhub-hub-login=keep"}, []string{"x-jupyterhub-hub-login=keep"}},
	} {
		req, _ := http.NewRequest("GET", front.URL+"/user/alice/lab", nil)
		req.Header["Cookie"] = tc.sent
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		cookies := <-got
		if strings.Contains(strings.Join(cookies, ";"), "SECRET") || !slices.Equal(cookies, tc.want) {
			t.Errorf("sent %q, server got %q; want %q", tc.sent, cookies, tc.want)
		}
	}
}

// TestServersCannotSetTheHubsCookies: a server's Set-Cookie named like the
// hub's login, in any prefix or case and at any path, never reaches the
// browser; the server's own cookies still do.
func TestServersCannotSetTheHubsCookies(t *testing.T) {
	set := []string{
		"jupyterhub-hub-login=alice; Path=/user/alice/",
		"jupyterhub-hub-login=alice; Path=/hub/",
		"__Host-jupyterhub-hub-login=alice; Path=/; Secure; HttpOnly",
		"__HOST-JupyterHub-Hub-Login=alice; Path=/; Secure",
		"__Secure-jupyterhub-hub-login=alice; Path=/; Secure",
		" jupyterhub-hub-login =alice",
		"jupyterhub-user-alice=tok; Path=/user/alice/; HttpOnly",
		"x-jupyterhub-hub-login=keep; Path=/user/alice/",
	}
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range set {
			w.Header().Add("Set-Cookie", c)
		}
		if r.URL.Path == "/user/alice/only-hub" {
			w.Header()["Set-Cookie"] = []string{"__Host-jupyterhub-hub-login=alice; Path=/; Secure"}
		}
		fmt.Fprint(w, "ok")
	})
	p := New(Options{ErrorLog: discard, HubCookies: []string{"jupyterhub-hub-login", "__Host-jupyterhub-hub-login"}})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	_, _, h := get(t, noRedirects, front.URL+"/user/alice/tree")
	want := []string{"jupyterhub-user-alice=tok; Path=/user/alice/; HttpOnly", "x-jupyterhub-hub-login=keep; Path=/user/alice/"}
	if got := h.Values("Set-Cookie"); !slices.Equal(got, want) {
		t.Errorf("Set-Cookie through the proxy = %q, want only the server's own %q", got, want)
	}
	if _, _, h := get(t, noRedirects, front.URL+"/user/alice/only-hub"); len(h.Values("Set-Cookie")) != 0 {
		t.Errorf("Set-Cookie = %q, want none", h.Values("Set-Cookie"))
	}
}
