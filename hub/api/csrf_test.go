package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/auth"
)

// login starts a session for user as the login page would and returns
// its cookie header and anti-forgery token.
func (e *env) login(user string) (cookie, xsrf string) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	s, err := (&auth.Authenticator{Store: e.store}).Login(rec, httptest.NewRequest("POST", "/hub/login", nil), user)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			return c.Name + "=" + c.Value, auth.CSRFToken(s)
		}
	}
	e.t.Fatal("Login set no session cookie")
	return "", ""
}

func (e *env) tokenCount(user string) int {
	e.t.Helper()
	toks, err := e.store.ListTokens(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(toks)
}

// A page a student serves runs in the visitor's browser with the
// visitor's cookie: whatever it asks the API without the anti-forgery
// token, or from another origin, is refused and changes nothing.
func TestCookieCallsNeedTheAntiForgeryToken(t *testing.T) {
	e := newEnv(t)
	cookie, xsrf := e.login("bob")
	host := strings.TrimPrefix(e.srv.URL, "http://")
	student := "http://" + strings.Split(host, ":")[0] + ":8101"

	refused := []struct {
		name string
		hdr  []string
	}{
		{"no token, no Sec-Fetch headers", nil},
		{"fetch from another port", []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors"}},
		{"fetch from another site", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}},
		{"navigation from another port", []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "navigate"}},
		{"navigation from another site", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}},
		{"same-origin fetch without the token", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}},
		{"a wrong token", []string{auth.XSRFHeader, strings.Repeat("0", len(xsrf))}},
	}
	// Cookies ignore ports: a student's page can plant any cookie the hub
	// receives. None of them stands in for the token.
	for _, name := range []string{"_xsrf", "XSRF-TOKEN", "xsrf", "jupyterhub-session-id", "jupyterhub-hub-login-xsrf", auth.XSRFHeader} {
		refused = append(refused, struct {
			name string
			hdr  []string
		}{"planted cookie " + name, []string{"Cookie", cookie + "; " + name + "=planted", auth.XSRFHeader, "planted"}})
	}
	for _, c := range refused {
		hdr := append([]string{"Cookie", cookie}, c.hdr...)
		resp, body := e.call("GET", "/hub/api/user", "", nil, hdr...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "anti-forgery token") {
			t.Errorf("GET /hub/api/user, %s: %s %s, want 403 naming the anti-forgery token", c.name, resp.Status, body)
		}
		if strings.Contains(string(body), "bob") {
			t.Errorf("GET /hub/api/user, %s: the answer names its caller: %s", c.name, body)
		}
		resp, body = e.call("POST", "/hub/api/users/bob/tokens", "", map[string]any{"note": "stolen"}, hdr...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST tokens, %s: %s %s, want 403", c.name, resp.Status, body)
		}
	}

	// With the token but from another origin: refused before anything is
	// looked at, whichever header the browser sends.
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "same-site", "Origin", student},
		{"Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"},
		{"Origin", student}, // an old browser, or plain HTTP on the LAN
	} {
		hdr = append([]string{"Cookie", cookie, auth.XSRFHeader, xsrf}, hdr...)
		resp, body := e.call("POST", "/hub/api/users/bob/tokens", "", map[string]any{"note": "stolen"}, hdr...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "cross-origin") {
			t.Errorf("POST tokens with %v: %s %s, want 403 cross-origin", hdr[4:], resp.Status, body)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("a refusal may be framed: X-Frame-Options %q", resp.Header.Get("X-Frame-Options"))
		}
	}
	if n := e.tokenCount("bob"); n != 1 { // the API token newEnv made
		t.Fatalf("refused calls left bob with %d tokens, want 1", n)
	}

	// Our own pages: the token in the header or, for EventSource, the query.
	for _, c := range []struct {
		path string
		hdr  []string
	}{
		{"/hub/api/user", []string{auth.XSRFHeader, xsrf, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}},
		{"/hub/api/user?_xsrf=" + xsrf, []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}},
		{"/hub/api/user", []string{auth.XSRFHeader, xsrf}},
		// The person typed the address, or followed a link of the hub's.
		{"/hub/api/user", []string{"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"}},
		{"/hub/api/user", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"}},
	} {
		resp, body := e.call("GET", c.path, "", nil, append([]string{"Cookie", cookie}, c.hdr...)...)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"bob"`) {
			t.Errorf("GET %s with %v: %s %s, want bob's model", c.path, c.hdr, resp.Status, body)
		}
	}
	resp, body := e.call("POST", "/hub/api/users/bob/tokens", "", map[string]any{"note": "mine"},
		"Cookie", cookie, auth.XSRFHeader, xsrf, "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL)
	if resp.StatusCode != 201 {
		t.Errorf("POST tokens from the hub's own page: %s %s, want 201", resp.Status, body)
	}
	// Programs authenticate with a token and send no Origin: no anti-
	// forgery token needed, reads or writes.
	if resp, body := e.call("GET", "/hub/api/user", "bob", nil); resp.StatusCode != 200 {
		t.Errorf("GET /hub/api/user with a token: %s %s", resp.Status, body)
	}
	if resp, body := e.call("POST", "/hub/api/users/bob/tokens", "bob", map[string]any{"note": "script"}); resp.StatusCode != 201 {
		t.Errorf("POST tokens with a token: %s %s", resp.Status, body)
	}
}

// No API answer may be framed: a student's page could otherwise lay it
// under its own to trick a click.
func TestAPIRefusesFraming(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/hub/api", "/hub/api/user", "/hub/api/nothing-here"} {
		resp, _ := e.call("GET", path, "", nil)
		if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: X-Frame-Options %q, CSP %q", path, resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
		}
	}
}
