package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/auth"
)

// plant puts a login cookie with value into c's browser for path, as a
// page alice serves on another port of the hub's host can.
func (c *client) plant(path, value string) {
	c.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: path},
		[]*http.Cookie{{Name: auth.SessionCookie, Value: value, Path: path}})
}

// TestPlantedLoginCookie tosses alice's own login cookie into bob's
// browser for paths the hub's pages, API and authorization endpoint use:
// bob is never alice, each page says what happened instead of sending him
// round the login page, the planted copies are gone after one answer, and
// bob is himself again.
func TestPlantedLoginCookie(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bob-password", false)
	e.start("alice")
	alice := e.loggedIn("alice").session()
	bob := e.loggedIn("bob")
	xsrf := http.Header{}
	xsrf.Set(auth.XSRFHeader, bob.csrf())

	bob.plant("/hub/home", alice)
	p := bob.get("/hub/home")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "did not set", "clear this site", `action="/hub/login?next=%2fhub%2fhome"`)
	wantNoBody(t, p, "alice")
	wantStatus(t, bob.get("/hub/home"), http.StatusOK)
	wantBody(t, bob.get("/hub/home"), "bob")

	bob.plant("/hub/api/", alice)
	p = bob.do("GET", "/hub/api/user", nil, xsrf)
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "did not set")
	wantNoBody(t, p, `"alice"`)
	p = bob.do("GET", "/hub/api/user", nil, xsrf)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `"name":"bob"`)

	// The login page would send the browser back to authorize with the
	// same cookies; the refusal says why instead.
	bob.plant("/hub/api/oauth2/", alice)
	p = bob.get(authorizeURL("alice", "s1"))
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "did not set")
	if n := e.codes(); n != 0 {
		t.Errorf("a request with a planted login cookie issued %d codes", n)
	}
	wantBody(t, bob.get(authorizeURL("alice", "s1")), "You (bob) may not use alice")

	// Where the hub cannot see it (a path bob has not opened yet),
	// logging in again removes it.
	bob.plant("/hub/admin", alice)
	bob.plant("/hub/token", alice)
	wantStatus(t, bob.post("/hub/logout", url.Values{"_xsrf": {bob.csrf()}}), http.StatusFound)
	wantStatus(t, bob.login("bob", "bob-password", ""), http.StatusFound)
	for _, path := range []string{"/hub/admin", "/hub/token"} {
		u := &url.URL{Scheme: "http", Host: "hub.test", Path: path}
		var n int
		for _, c := range bob.jar.Cookies(u) {
			if c.Name == auth.SessionCookie {
				n++
			}
		}
		if n != 1 {
			t.Errorf("after logging in again, bob's browser sends %d login cookies to %s, want his own only", n, path)
		}
	}
	wantBody(t, bob.get("/hub/token"), "bob")
}

// TestFormsMayLeadToUsersOrigins: the pages' form-action allows the
// users' origins the proxy names, and nothing else, on every page and on
// the consent page, whose Allow ends on the server's origin.
func TestFormsMayLeadToUsersOrigins(t *testing.T) {
	e := newEnv(t)
	e.addUser("teacher", "teacher-password", true)
	e.addUser("alice", "alice-password", false)
	e.start("alice")
	e.web.userOrigins = func(r *http.Request) string { return "http://" + strings.Split(r.Host, ":")[0] + ":*" }
	teacher := e.client()
	wantStatus(t, teacher.login("teacher", "teacher-password", ""), http.StatusFound)
	for _, target := range []string{"/hub/login", "/hub/home", authorizeURL("alice", "s1")} {
		csp := teacher.get(target).Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self' http://hub.test:*;") {
			t.Errorf("%s: CSP %q does not let its forms lead to users' origins", target, csp)
		}
	}
	e.web.userOrigins = func(*http.Request) string { return "" }
	if csp := teacher.get("/hub/login").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Errorf("without users' origins, CSP %q", csp)
	}
}
