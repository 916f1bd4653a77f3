package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/core/coretest"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// cred is one way to call the API: a token, or a login cookie with its
// anti-forgery token.
type cred struct{ token, cookie, xsrf string }

// do serves one request on h and returns its status and body. Event
// streams are cut after a few seconds.
func do(t *testing.T, h http.Handler, c cred, method, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, method, "http://hub.test"+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "token "+c.token)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.cookie})
		req.Header.Set(auth.XSRFHeader, c.xsrf)
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

// startServer starts name's server on the fake spawner and returns the
// token it was given (JUPYTERHUB_API_TOKEN).
func (e *env) startServer(name string) string {
	e.t.Helper()
	if _, err := e.hub.Start(context.Background(), name); err != nil {
		e.t.Fatal(err)
	}
	coretest.WaitStatus(e.t, e.hub, name, func(s core.ServerStatus) bool { return s.Ready })
	tok := ""
	for _, r := range e.spawner.Requests() {
		if r.User == name {
			tok = r.APIToken
		}
	}
	return tok
}

// login logs user in as a browser would and returns the cookie's value
// and the session's anti-forgery token.
func login(t *testing.T, a *auth.Authenticator, user string) cred {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := a.Login(rec, httptest.NewRequest("POST", "/hub/login", nil), user)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			return cred{cookie: c.Value, xsrf: auth.CSRFToken(s)}
		}
	}
	t.Fatal("Login set no cookie")
	return cred{}
}

// oauthToken runs the OAuth flow of visitor into owner's server, as the
// consent page's POST and the server's code exchange do.
func oauthToken(t *testing.T, a *API, visitor cred, owner, serverToken string) string {
	t.Helper()
	form := url.Values{"client_id": {core.OAuthClientID(owner)}, "redirect_uri": {core.OAuthCallback(owner)},
		"response_type": {"code"}, "state": {"s"}, "_xsrf": {visitor.xsrf}}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", AuthorizePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: visitor.cookie})
	a.Handler().ServeHTTP(rec, req)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	code := ""
	if loc != nil {
		code = loc.Query().Get("code")
	}
	if rec.Code != http.StatusFound || code == "" {
		t.Fatalf("authorize = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	status, body := do(t, a.InternalHandler(), cred{}, "POST", "/hub/api/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {core.OAuthClientID(owner)},
		"client_secret": {serverToken}, "redirect_uri": {core.OAuthCallback(owner)}}.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal([]byte(body), &tok); status != 200 || tok.AccessToken == "" {
		t.Fatalf("token exchange = %d %s", status, body)
	}
	return tok.AccessToken
}

// TestNoResponseCarriesTheLoginCookie walks every GET route of the API, on
// both listeners, with every kind of credential the instructor has or a
// server of theirs was given: no answer may contain the login cookie's
// secret or the anti-forgery token.
func TestNoResponseCarriesTheLoginCookie(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	aliceServer := e.startServer("alice")
	e.startServer("teacher")
	teacher := login(t, authn, "teacher")
	viaSession := oauthToken(t, a, teacher, "alice", aliceServer)
	_, tok, err := e.store.CreateToken(context.Background(), store.TokenSpec{User: "teacher", Kind: store.KindAPI, Note: "listed"})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]cred{"cookie": teacher, "api token": {token: e.tokens["teacher"]},
		"OAuth token via the session": {token: viaSession}, "alice's server": {token: aliceServer}}
	walked := 0
	for _, rt := range a.routes() {
		method, pattern, _ := strings.Cut(rt.pattern, " ")
		if method != "GET" {
			continue
		}
		for _, user := range []string{"teacher", "alice"} {
			path := strings.NewReplacer("{name}", user, "{id}", tok.APIID(), "{$}", "").Replace(pattern)
			for credName, c := range creds {
				for _, h := range []http.Handler{a.Handler(), a.InternalHandler()} {
					status, body := do(t, h, c, "GET", path, "")
					walked++
					for _, secret := range []string{teacher.cookie, teacher.xsrf} {
						if strings.Contains(body, secret) {
							t.Errorf("GET %s with the %s = %d and carries a login secret: %s", path, credName, status, body)
						}
					}
				}
			}
		}
	}
	// The session still has a non-secret id where JupyterHub's model has one.
	_, body := do(t, a.Handler(), teacher, "GET", "/hub/api/user", "")
	var self map[string]any
	json.Unmarshal([]byte(body), &self)
	if id, _ := self["session_id"].(string); id == "" || id == teacher.cookie {
		t.Errorf("session_id = %v, want the session's handle", self["session_id"])
	}
	if walked < 40 {
		t.Errorf("walked only %d requests", walked)
	}
}

// TestServerTokenIsScopedToItsServer: JUPYTERHUB_API_TOKEN sits in the
// student's container, so it must do what the server needs and nothing
// else, from either listener.
func TestServerTokenIsScopedToItsServer(t *testing.T) {
	e := newEnv(t)
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}})
	tok := e.startServer("alice")
	e.startServer("bob")
	c := cred{token: tok}
	status, body := do(t, a.InternalHandler(), c, "GET", "/hub/api/user", "")
	var self map[string]any
	json.Unmarshal([]byte(body), &self)
	if status != 200 || self["name"] != "alice" {
		t.Fatalf("/hub/api/user with alice's server token = %d %s", status, body)
	}
	for _, s := range toStrings(self["scopes"]) {
		sc := scopes.MustParse(s)
		if !sc.Filtered() || !strings.HasPrefix(sc.Value, "alice") {
			t.Errorf("alice's server token holds %s, which reaches beyond alice", s)
		}
	}
	if status, _ := do(t, a.InternalHandler(), c, "POST", "/hub/api/users/alice/activity", `{"last_activity": "2025-03-10T09:00:00Z"}`); status != 200 {
		t.Errorf("the server cannot report its activity: %d", status)
	}
	for _, h := range []http.Handler{a.InternalHandler(), a.Handler()} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/hub/api/users", ""},
			{"GET", "/hub/api/users/bob", ""},
			{"GET", "/hub/api/users/teacher", ""},
			{"GET", "/hub/api/users/alice/tokens", ""},
			{"POST", "/hub/api/users/alice/tokens", `{"note": "forever"}`},
			{"PATCH", "/hub/api/users/alice", `{"admin": true}`},
			{"POST", "/hub/api/users/bob/server", ""},
			{"DELETE", "/hub/api/users/bob/server", ""},
			{"DELETE", "/hub/api/users/alice/server", ""},
			{"POST", "/hub/api/users/bob/activity", `{"last_activity": "2025-03-10T09:00:00Z"}`},
			{"GET", "/hub/api/info", ""},
		} {
			if status, body := do(t, h, c, r.method, r.path, r.body); status < 400 {
				t.Errorf("%s %s with alice's server token = %d %s", r.method, r.path, status, body)
			}
		}
	}
	if u, _ := e.store.GetUser(context.Background(), "alice"); u.Admin {
		t.Fatal("alice's server made her an admin")
	}
}
