package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
)

// TestServerVersionCannotInjectHeaders: the version the internal listener
// answers a server with comes from its image's label; a label holding CR
// LF must not add a header (a cookie planted for the hub's host) or split
// the response, and the public API never answers with it.
func TestServerVersionCannotInjectHeaders(t *testing.T) {
	e := newEnv(t)
	evil := "5.2.1\r\nSet-Cookie: jupyterhub-session-id=planted; Path=/\r\n\r\n{\"x\":1}"
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}, ServerVersion: func(*http.Request) string { return evil }})
	for _, tc := range []struct {
		name    string
		handler http.Handler
	}{{"internal", a.InternalHandler()}, {"public", a.Handler()}} {
		srv := httptest.NewServer(tc.handler)
		resp, err := http.Get(srv.URL + "/hub/api")
		if err != nil {
			srv.Close()
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: the version planted a cookie: %q", tc.name, resp.Header.Values("Set-Cookie"))
		}
		v := resp.Header.Get("X-JupyterHub-Version")
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("%s: X-JupyterHub-Version = %q", tc.name, v)
		}
		if tc.name == "public" && v != core.Version {
			t.Errorf("public: X-JupyterHub-Version = %q, want %q", v, core.Version)
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil || m["version"] != core.Version {
			t.Errorf("%s: body %q (%v)", tc.name, body, err)
		}
	}
}

// credentialLike matches a generated password or setup code
// ("k7mq-x3ph-w9rt", "K7MQ-X3PH-W9RT").
var credentialLike = regexp.MustCompile(`[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}`)

// TestCreatedUsersCarryNoCredential: creating users through the API makes
// an instructor's password and students' setup codes; none may be in the
// response, where scripts print and log it.
func TestCreatedUsersCarryNoCredential(t *testing.T) {
	for _, c := range []string{auth.GeneratePassword(), auth.NewSetupCode()} {
		if !credentialLike.MatchString(c) {
			t.Fatalf("the check would miss %q", c)
		}
	}
	e := newEnv(t)
	check := func(what string, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s = %d %s", what, resp.StatusCode, body)
		}
		if credentialLike.Match(body) {
			t.Errorf("%s answered a credential: %s", what, body)
		}
		for _, k := range []string{"password", "code", "setup", "secret", "token"} {
			if strings.Contains(strings.ToLower(string(body)), `"`+k) {
				t.Errorf("%s answered a %s field: %s", what, k, body)
			}
		}
	}
	resp, body := e.call("POST", "/hub/api/users", "teacher", map[string]any{"usernames": []string{"carol", "dave"}})
	check("POST /hub/api/users (students)", resp, body)
	resp, body = e.call("POST", "/hub/api/users", "teacher", map[string]any{"usernames": []string{"ta"}, "admin": true})
	check("POST /hub/api/users (instructor)", resp, body)
	resp, body = e.call("POST", "/hub/api/users/erin", "teacher", map[string]any{"admin": false})
	check("POST /hub/api/users/erin", resp, body)
	resp, body = e.call("POST", "/hub/api/users/frank", "teacher", map[string]any{"admin": true})
	check("POST /hub/api/users/frank (instructor)", resp, body)
}

// TestStudentCannotCreateUsersForCredentials: a student's token (as their
// server holds) cannot create an account, on either listener, to get a
// credential or an instructor's account made.
func TestStudentCannotCreateUsersForCredentials(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call("POST", "/hub/api/users", "alice", map[string]any{"usernames": []string{"mallory"}, "admin": true})
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Errorf("a student creating users = %d %s", resp.StatusCode, body)
	}
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}})
	srv := httptest.NewServer(a.InternalHandler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/hub/api/users/mallory", strings.NewReader(`{"admin":true}`))
	req.Header.Set("Authorization", "token "+e.tokens["alice"])
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("creating a user on the internal listener = %d", r.StatusCode)
	}
	if _, err := e.store.GetUser(t.Context(), "mallory"); err == nil {
		t.Error("mallory was created")
	}
}

// TestStudentCannotFollowAnotherStart: one student's token cannot read
// another's spawn progress (its messages name their image and server).
func TestStudentCannotFollowAnotherStart(t *testing.T) {
	e := newEnv(t)
	if resp, body := e.call("POST", "/hub/api/users/alice/server", "alice", nil); resp.StatusCode >= 300 {
		t.Fatalf("alice's start = %d %s", resp.StatusCode, body)
	}
	resp, body := e.call("GET", "/hub/api/users/alice/server/progress", "bob", nil)
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob following alice's start = %d %s", resp.StatusCode, body)
	}
}

// TestInstructorVisitHandsAStudentServerNothing: the instructor opening
// alice's notebook is normal. Alice's server, which she controls, gets no
// code by merely sending the instructor's browser to the authorize URL
// (consent first), cannot trade a code meant for bob's server, cannot
// send the code anywhere but its registered callback, and the token the
// visit gives it acts on nothing but alice's server.
func TestInstructorVisitHandsAStudentServerNothing(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	aliceServer := e.startServer("alice")
	bobServer := e.startServer("bob")
	teacher := login(t, authn, "teacher")

	// A GET, as a redirect from alice's server makes, shows the consent
	// page and issues no code.
	q := url.Values{"client_id": {core.OAuthClientID("alice")}, "redirect_uri": {core.OAuthCallback("alice")},
		"response_type": {"code"}, "state": {"s"}}
	req := httptest.NewRequest("GET", AuthorizePath+"?"+q.Encode(), nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: teacher.cookie})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "code=") || !strings.Contains(rec.Body.String(), "consent") {
		t.Errorf("a GET into alice's server did not ask for consent: %d %s %s", rec.Code, loc, rec.Body)
	}

	// The consent POST never redirects the code elsewhere than the
	// registered callback, whatever the form says.
	for _, redirect := range []string{core.OAuthCallback("alice") + "/../../evil", "http://evil.test/cb", core.OAuthCallback("bob")} {
		form := url.Values{"client_id": {core.OAuthClientID("alice")}, "redirect_uri": {redirect},
			"response_type": {"code"}, "_xsrf": {teacher.xsrf}}
		req := httptest.NewRequest("POST", AuthorizePath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: teacher.cookie})
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if loc := rec.Header().Get("Location"); strings.Contains(loc, "code=") {
			t.Errorf("redirect_uri %s: the code went to %s", redirect, loc)
		}
	}

	// A consent POST from another origin (a page alice serves) is refused.
	form := url.Values{"client_id": {core.OAuthClientID("alice")}, "redirect_uri": {core.OAuthCallback("alice")},
		"response_type": {"code"}, "_xsrf": {"guessed"}}
	req = httptest.NewRequest("POST", "http://hub.test"+AuthorizePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://hub.test:8001")
	req.Header.Set("Sec-Fetch-Site", "same-site")
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: teacher.cookie})
	rec = httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); rec.Code < 400 || strings.Contains(loc, "code=") {
		t.Errorf("a cross-origin consent = %d %s", rec.Code, loc)
	}

	// A code the instructor gave bob's server is no use to alice's.
	form = url.Values{"client_id": {core.OAuthClientID("bob")}, "redirect_uri": {core.OAuthCallback("bob")},
		"response_type": {"code"}, "_xsrf": {teacher.xsrf}}
	req = httptest.NewRequest("POST", AuthorizePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: teacher.cookie})
	rec = httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("the consent for bob's server = %d %v", rec.Code, loc)
	}
	for _, f := range []url.Values{
		{"client_id": {core.OAuthClientID("alice")}, "client_secret": {aliceServer}, "redirect_uri": {core.OAuthCallback("alice")}},
		{"client_id": {core.OAuthClientID("alice")}, "client_secret": {aliceServer}, "redirect_uri": {core.OAuthCallback("bob")}},
		{"client_id": {core.OAuthClientID("bob")}, "client_secret": {aliceServer}, "redirect_uri": {core.OAuthCallback("bob")}},
	} {
		f.Set("grant_type", "authorization_code")
		f.Set("code", code)
		if status, body := do(t, a.InternalHandler(), cred{}, "POST", "/hub/api/oauth2/token", f.Encode()); status == 200 || strings.Contains(body, "access_token") {
			t.Errorf("alice's server traded bob's code (%v) = %d %s", f, status, body)
		}
	}
	// A code presented by the wrong client is burnt (store.ConsumeCode).
	status, body := do(t, a.InternalHandler(), cred{}, "POST", "/hub/api/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "client_id": {core.OAuthClientID("bob")}, "client_secret": {bobServer}, "redirect_uri": {core.OAuthCallback("bob")}}.Encode())
	if status == 200 {
		t.Errorf("a code alice's server presented still worked for bob's = %d %s", status, body)
	}

	// The token the instructor's visit gives alice's server acts as the
	// instructor on nothing else.
	tok := cred{token: oauthToken(t, a, teacher, "alice", aliceServer)}
	for _, h := range []http.Handler{a.InternalHandler(), a.Handler()} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/hub/api/users", ""},
			{"GET", "/hub/api/users/bob", ""},
			{"GET", "/hub/api/users/teacher/tokens", ""},
			{"POST", "/hub/api/users/teacher/tokens", `{"note": "mine now"}`},
			{"POST", "/hub/api/users", `{"usernames": ["mallory"], "admin": true}`},
			{"PATCH", "/hub/api/users/alice", `{"admin": true}`},
			{"POST", "/hub/api/users/bob/server", ""},
			{"DELETE", "/hub/api/users/bob/server", ""},
			{"GET", "/hub/api/users/bob/server/progress", ""},
			{"POST", "/hub/api/users/teacher/activity", `{"last_activity": "2025-03-10T09:00:00Z"}`},
			{"GET", "/hub/api/info", ""},
		} {
			if status, body := do(t, h, tok, r.method, r.path, r.body); status < 400 {
				t.Errorf("%s %s with the instructor's OAuth token held by alice's server = %d %s", r.method, r.path, status, body)
			}
		}
	}
	if u, _ := e.store.GetUser(context.Background(), "alice"); u.Admin {
		t.Fatal("alice's server made her an admin")
	}
	if _, err := e.store.GetUser(context.Background(), "mallory"); err == nil {
		t.Fatal("alice's server created an account")
	}
}
