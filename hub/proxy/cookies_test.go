package proxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCookieStaysUnder(t *testing.T) {
	const prefix = "/user/alice"
	for line, keep := range map[string]bool{
		"a=1":                                 true,
		"a=1; Path=/user/alice/":              true,
		"a=1; Path=/user/alice":               true,
		"a=1; path=/user/alice/lab; HttpOnly": true,
		"_xsrf=2|x; expires=Sun, 06 Dec 2026 10:00:00 GMT; Path=/user/alice/": true,
		"a=1; Path=/hub/":                              false,
		"a=1; Path=/":                                  false,
		"a=1; Path=":                                   false,
		"a=1; Path=/user/":                             false,
		"a=1; Path=/user/alicebob/":                    false,
		"a=1; Path=/user/bob/":                         false,
		"a=1; Path=/user/alice/../hub":                 false,
		"a=1; Path=/user/alice/./../../hub/":           false,
		"a=1; Path=/user/alice/%2e%2e/hub/":            false,
		`a=1; Path=/user/alice/..\hub`:                 false,
		"a=1; Domain=127.0.0.1; Path=/user/alice/":     false,
		"a=1; domain=.example.org":                     false,
		"a=1; DOMAIN=":                                 false,
		"a=1; PATH=/hub/":                              false,
		"a=1; Path=/user/alice/; Path=/hub/":           false,
		"a=1;Path=/hub/":                               false,
		"a=1; Path = /hub/":                            false,
		"a=1; Path=/user/alice/; Secure; SameSite=Lax": true,
		"a=Path=/hub/; Path=/user/alice/":              true, // the value is not an attribute
	} {
		if got := cookieStaysUnder(line, prefix); got != keep {
			t.Errorf("cookieStaysUnder(%q) = %v, want %v", line, got, keep)
		}
	}
}

// TestServersCannotSetCookiesOutsideTheirPath sends a server's Set-Cookie
// headers through the proxy: only those confined to the server's path reach
// the browser.
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
		if r.URL.Path == "/user/alice/only-bad" {
			w.Header()["Set-Cookie"] = []string{"hub=1; Path=/hub/"}
		}
		fmt.Fprint(w, "ok")
	})
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	_, _, h := get(t, noRedirects, front.URL+"/user/alice/tree")
	if got, want := h.Values("Set-Cookie"), []string{"own=1; Path=/user/alice/; HttpOnly", "plain=1"}; !slices.Equal(got, want) {
		t.Errorf("Set-Cookie through the proxy = %q, want %q", got, want)
	}
	if _, _, h := get(t, noRedirects, front.URL+"/user/alice/only-bad"); len(h.Values("Set-Cookie")) != 0 {
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
