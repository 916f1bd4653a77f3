package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
