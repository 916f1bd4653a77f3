package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
)

// authorizeURL is what alice's server sends a visitor's browser to.
func authorizeURL(owner, state string) string {
	return api.AuthorizePath + "?" + url.Values{"client_id": {core.OAuthClientID(owner)},
		"redirect_uri": {core.OAuthCallback(owner)}, "response_type": {"code"}, "state": {state}}.Encode()
}

// codes counts the OAuth codes in the store, which only the store's own
// package can read otherwise.
func (e *env) codes() int {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.store.Path()+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM oauth_codes").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// serverToken is the JUPYTERHUB_API_TOKEN, and OAuth client secret, the
// fake spawner last handed owner's server.
func (e *env) serverToken(owner string) string {
	e.t.Helper()
	tok := ""
	for _, r := range e.spawner.Requests() {
		if r.User == owner {
			tok = r.APIToken
		}
	}
	if tok == "" {
		e.t.Fatalf("%s's server got no token", owner)
	}
	return tok
}

// apiCall is a request from inside a container: to the internal listener
// (internal) or the public one, with a token.
func (e *env) apiCall(internal bool, token, method, path, body string) (int, string) {
	e.t.Helper()
	h := e.api.Handler()
	if internal {
		h = e.api.InternalHandler()
	}
	req := httptest.NewRequest(method, "http://hub.test"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// exchange trades code for an access token as owner's server does, at the
// internal listener, with its own token as the client secret.
func (e *env) exchange(owner, code string) string {
	e.t.Helper()
	status, body := e.apiCall(true, "", "POST", "/hub/api/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "client_id": {core.OAuthClientID(owner)}, "client_secret": {e.serverToken(owner)},
		"redirect_uri": {core.OAuthCallback(owner)}}.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); status != 200 || err != nil || tok.AccessToken == "" {
		e.t.Fatalf("code exchange = %d %s", status, body)
	}
	return tok.AccessToken
}

// codeFrom returns the code of a redirect back to owner's server.
func codeFrom(t *testing.T, p page, owner, state string) string {
	t.Helper()
	wantStatus(t, p, http.StatusFound)
	loc, err := url.Parse(p.Header.Get("Location"))
	if err != nil || loc.Path != core.OAuthCallback(owner) || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("redirect to %q, want %s with a code and state %q", p.Header.Get("Location"), core.OAuthCallback(owner), state)
	}
	return loc.Query().Get("code")
}

func TestOwnServerNeedsNoConsent(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.start("alice")
	alice := e.loggedIn("alice")
	code := codeFrom(t, alice.get(authorizeURL("alice", "s1")), "alice", "s1")
	tok := e.exchange("alice", code)
	status, body := e.apiCall(true, tok, "GET", "/hub/api/user", "")
	if status != 200 || !strings.Contains(body, `"name":"alice"`) {
		t.Fatalf("/hub/api/user with alice's OAuth token = %d %s", status, body)
	}
}

// TestInstructorOpeningAStudentsServer is the attack of finding 1 and 5:
// the instructor follows a link to alice's server (the admin page's Open,
// or one alice planted), and alice, who runs that server, takes whatever
// reaches it and tries to become the instructor with it.
func TestInstructorOpeningAStudentsServer(t *testing.T) {
	e := newEnv(t)
	e.addUser("teacher", "teacher-password", true)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bob-password", false)
	e.start("alice")
	e.start("bob")
	teacher := e.client()
	wantStatus(t, teacher.login("teacher", "teacher-password", ""), http.StatusFound)
	cookie, xsrf := teacher.session(), teacher.csrf()

	// A plain GET, as a link or an <img> makes, only asks.
	consent := teacher.get(authorizeURL("alice", "s1"))
	wantStatus(t, consent, http.StatusOK)
	wantBody(t, consent, "alice", "teacher", `action="/hub/api/oauth2/authorize"`, `method="post"`,
		scopes.ServerAccessScope("alice", ""), "Allow")
	if n := e.codes(); n != 0 {
		t.Fatalf("a GET for someone else's server issued %d codes", n)
	}
	if consent.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(consent.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the consent page may be framed: %v", consent.Header)
	}

	// Forged answers: no token, another login's token, no login at all.
	form := url.Values{}
	for _, m := range regexpHidden.FindAllStringSubmatch(consent.Body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("_xsrf") != xsrf || form.Get("client_id") != core.OAuthClientID("alice") || form.Get("state") != "s1" {
		t.Fatalf("consent form fields %v", form)
	}
	sess, err := e.store.LookupSession(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	otherLogin := e.loggedIn("teacher")
	for name, tc := range map[string]struct {
		c    *client
		xsrf string
	}{
		"no token":        {teacher, ""},
		"another login's": {teacher, otherLogin.csrf()},
		"the session id":  {teacher, sess.ID},
		"the cookie":      {teacher, cookie},
		"no login":        {e.client(), xsrf},
	} {
		f := cloneValues(form)
		f.Set("_xsrf", tc.xsrf)
		p := tc.c.post(api.AuthorizePath, f)
		if p.StatusCode != http.StatusForbidden || p.Header.Get("Location") != "" {
			t.Errorf("%s: a forged consent = %d, Location %q", name, p.StatusCode, p.Header.Get("Location"))
		}
	}
	if n := e.codes(); n != 0 {
		t.Fatalf("forged consents issued %d codes", n)
	}
	// alice answering for herself gets a code for herself only.
	alice := e.loggedIn("alice")
	f := cloneValues(form)
	f.Set("_xsrf", alice.csrf())
	aliceTok := e.exchange("alice", codeFrom(t, alice.post(api.AuthorizePath, f), "alice", "s1"))
	if status, body := e.apiCall(true, aliceTok, "GET", "/hub/api/user", ""); status != 200 || !strings.Contains(body, `"name":"alice"`) {
		t.Errorf("alice's own answer gave %d %s", status, body)
	}
	before := e.codes()

	// The teacher means it.
	code := codeFrom(t, teacher.post(api.AuthorizePath, form), "alice", "s1")
	if e.codes() != before+1 {
		t.Fatalf("the consent issued %d codes", e.codes()-before)
	}
	tok := e.exchange("alice", code)

	// Everything alice's server can ask with what it received.
	var seen []string
	call := func(internal bool, method, path, body string) int {
		status, out := e.apiCall(internal, tok, method, path, body)
		seen = append(seen, method+" "+path+" "+out)
		return status
	}
	status := call(true, "GET", "/hub/api/user", "")
	var self map[string]any
	json.Unmarshal([]byte(seen[len(seen)-1][len("GET /hub/api/user "):]), &self)
	if status != 200 || self["name"] != "teacher" {
		t.Fatalf("/hub/api/user with the OAuth token = %d %v", status, self)
	}
	want := append([]string{scopes.ServerAccessScope("alice", "")}, scopes.IdentifyScopes("teacher")...)
	if got := toStrings(self["scopes"]); !sameSet(got, want) {
		t.Errorf("the token alice's server got holds %v, want only %v", got, want)
	}
	for _, internal := range []bool{true, false} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/hub/api/user", ""},
			{"GET", "/hub/api/users", ""},
			{"GET", "/hub/api/users/bob", ""},
			{"GET", "/hub/api/users/teacher", ""},
			{"GET", "/hub/api/users/teacher/tokens", ""},
			{"POST", "/hub/api/users/teacher/tokens", `{"note": "mine now"}`},
			{"POST", "/hub/api/users/alice/tokens", `{"note": "mine now"}`},
			{"PATCH", "/hub/api/users/alice", `{"admin": true}`},
			{"POST", "/hub/api/users", `{"usernames": ["mallory"], "admin": true}`},
			{"DELETE", "/hub/api/users/bob/server", ""},
			{"POST", "/hub/api/users/teacher/server", ""},
			{"POST", "/hub/api/users/bob/activity", `{"last_activity": "2025-03-10T09:00:00Z"}`},
			{"GET", "/hub/api/users/bob/server/progress", ""},
			{"GET", "/hub/api/info", ""},
		} {
			status := call(internal, r.method, r.path, r.body)
			// The identify scopes let it read the teacher's name, no more.
			mayRead := r.path == "/hub/api/user" || r.path == "/hub/api/users/teacher" && r.method == "GET"
			if !mayRead && status < 400 {
				t.Errorf("internal=%v %s %s with the instructor's OAuth token = %d", internal, r.method, r.path, status)
			}
		}
	}
	if u, _ := e.store.GetUser(context.Background(), "alice"); u.Admin {
		t.Fatal("alice made herself an admin")
	}
	if _, err := e.store.GetUser(context.Background(), "mallory"); err == nil {
		t.Fatal("alice created a user")
	}
	// The token is no login cookie.
	replay := e.client()
	replay.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}, []*http.Cookie{{Name: auth.SessionCookie, Value: tok, Path: "/hub/"}})
	wantStatus(t, replay.get("/hub/admin"), http.StatusFound)
	// Nor is anything the API answered.
	for _, out := range seen {
		for _, secret := range []string{cookie, xsrf} {
			if strings.Contains(out, secret) {
				t.Errorf("alice's server read an instructor secret in %s", out)
			}
		}
		for _, word := range strings.FieldsFunc(out, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) {
			if len(word) < 32 {
				continue
			}
			replay := e.client()
			replay.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}, []*http.Cookie{{Name: auth.SessionCookie, Value: word, Path: "/hub/"}})
			if p := replay.get("/hub/admin"); p.StatusCode == http.StatusOK {
				t.Errorf("%q from %s works as the instructor's login", word, out)
			}
			if status, _ := e.apiCall(false, word, "GET", "/hub/api/users/teacher/tokens", ""); status < 400 {
				t.Errorf("%q from %s works as an instructor's token", word, out)
			}
		}
	}
	// Nothing secret went to the log either.
	logged := e.logged()
	for _, secret := range []string{cookie, xsrf, code, tok, e.serverToken("alice")} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log has a secret %q:\n%s", secret, logged)
		}
	}
}

func TestAuthorizeRefusesBadRequestsAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.addUser("teacher", "teacher-password", true)
	e.addUser("alice", "alice-password", false)
	e.start("alice")
	teacher := e.loggedIn("teacher")
	good := url.Values{"client_id": {core.OAuthClientID("alice")}, "redirect_uri": {core.OAuthCallback("alice")}, "response_type": {"code"}}
	for name, tc := range map[string]struct{ key, value, want string }{
		"unknown server":   {"client_id", "jupyterhub-user-nobody", "no server"},
		"no server":        {"client_id", "", "no server"},
		"foreign redirect": {"redirect_uri", "https://evil.example/cb", "does not lead back"},
		"other path":       {"redirect_uri", "/user/alice/oauth_callback/../../bob/", "does not lead back"},
	} {
		q := cloneValues(good)
		q.Set(tc.key, tc.value)
		for _, method := range []string{"GET", "POST"} {
			var p page
			if method == "GET" {
				p = teacher.get(api.AuthorizePath + "?" + q.Encode())
			} else {
				f := cloneValues(q)
				f.Set("_xsrf", teacher.csrf())
				p = teacher.post(api.AuthorizePath, f)
			}
			if p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" || !strings.Contains(p.Body, tc.want) ||
				!strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s = %d %q, Location %q; want a 400 page saying %q", method, name, p.StatusCode,
					p.Header.Get("Content-Type"), p.Header.Get("Location"), tc.want)
			}
		}
	}
	// A browser that is not logged in logs in first, and comes back.
	wantRedirect(t, e.client().get(authorizeURL("alice", "s")), http.StatusFound,
		"/hub/login?next="+url.QueryEscape(authorizeURL("alice", "s")))
	if n := e.codes(); n != 0 {
		t.Errorf("bad requests issued %d codes", n)
	}
}

var regexpHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, s := range a {
		m[s] = true
	}
	for _, s := range b {
		if !m[s] {
			return false
		}
	}
	return true
}

// The app's consent page asks in words what the app may do, offers Deny,
// and lets its form end at a loopback address and nowhere else new; a
// server's consent page does not.
func TestAppConsentPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.start("alice")
	alice := e.loggedIn("alice")
	q := url.Values{"client_id": {auth.AppClientID}, "redirect_uri": {"http://127.0.0.1:5000/callback"}, "response_type": {"code"},
		"state": {"s"}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
	p := alice.get(api.AuthorizePath + "?" + q.Encode())
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "The classhub app on your computer wants to start, stop and open your notebook server", `name="deny"`, "Allow",
		"start and stop your notebook server", `name="code_challenge"`)
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://127.0.0.1:* http://[::1]:*") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the app's consent page: CSP %q", csp)
	}
	if n := e.codes(); n != 0 {
		t.Errorf("the app's GET issued %d codes", n)
	}
	own := alice.get(authorizeURL("alice", "s1"))
	if strings.Contains(own.Header.Get("Content-Security-Policy"), "127.0.0.1") {
		t.Errorf("a server's authorize allows the loopback: %q", own.Header.Get("Content-Security-Policy"))
	}
}
