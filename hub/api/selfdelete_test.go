package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/classhub/classhub/hub/auth"
)

// tokenID is the API id of tok, as GET /hub/api/user names it.
func tokenID(t *testing.T, a *API, tok string) string {
	t.Helper()
	status, body := do(t, a.Handler(), cred{token: tok}, "GET", "/hub/api/user", "")
	var m struct {
		TokenID string `json:"token_id"`
	}
	if json.Unmarshal([]byte(body), &m); status != 200 || m.TokenID == "" {
		t.Fatalf("GET /hub/api/user = %d %s", status, body)
	}
	return m.TokenID
}

// A token may delete itself, and nothing else through that rule: neither
// alice's server, which holds its own token and the OAuth token of every
// visitor, nor the instructor's app token, which may not manage tokens,
// can delete the instructor's other tokens (app, API token, login to
// another server), whichever token it presents and whoever's name it puts
// in the path; deleting the visitor's token it was handed logs out only
// the logins to alice's own server.
func TestTokenSelfDeletionReachesNoOtherToken(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	aliceServer := e.startServer("alice")
	teacherServer := e.startServer("teacher")
	teacher := login(t, authn, "teacher")
	visit := oauthToken(t, a, teacher, "alice", aliceServer)
	own := oauthToken(t, a, teacher, "teacher", teacherServer)
	app := appToken(t, a, teacher, "t")
	api := e.tokens["teacher"]
	victims := map[string]string{"app": app, "own server login": own, "API token": api}
	ids := map[string]string{}
	for what, tok := range victims {
		ids[what] = tokenID(t, a, tok)
	}
	visitID, serverID := tokenID(t, a, visit), tokenID(t, a, aliceServer)

	attackers := []struct{ what, tok string }{{"alice's server", aliceServer}, {"the visitor's token", visit}, {"the instructor's app", app}}
	for _, attacker := range attackers {
		for what, id := range ids {
			if id == ids["app"] && attacker.tok == app {
				continue // its own deletion, allowed
			}
			for _, name := range []string{"teacher", "alice"} {
				path := "/hub/api/users/" + name + "/tokens/" + id
				if status, body := do(t, a.Handler(), cred{token: attacker.tok}, "DELETE", path, ""); status < 400 {
					t.Errorf("%s deleted the instructor's %s via %s: %d %s", attacker.what, what, path, status, body)
				}
			}
		}
		// Another token's id under the attacker's own name, or the
		// attacker's id under another name.
		other := map[string]string{"alice's server": visitID, "the visitor's token": serverID, "the instructor's app": visitID}[attacker.what]
		for _, path := range []string{"/hub/api/users/alice/tokens/" + other, "/hub/api/users/teacher/tokens/" + other} {
			if status, body := do(t, a.Handler(), cred{token: attacker.tok}, "DELETE", path, ""); status < 400 {
				t.Errorf("%s: DELETE %s = %d %s", attacker.what, path, status, body)
			}
		}
	}
	// The visitor's token deletes itself: that is every login to alice's
	// server, and nothing of the instructor's beyond it.
	if status, body := do(t, a.Handler(), cred{token: visit}, "DELETE", "/hub/api/users/teacher/tokens/"+visitID, ""); status != http.StatusNoContent {
		t.Fatalf("the visitor's token deleting itself = %d %s", status, body)
	}
	if status, _ := do(t, a.Handler(), cred{token: visit}, "GET", "/hub/api/user", ""); status != 403 {
		t.Errorf("a deleted token still answers %d", status)
	}
	for what, tok := range victims {
		if status, body := do(t, a.Handler(), cred{token: tok}, "GET", "/hub/api/user", ""); status != 200 {
			t.Errorf("the instructor's %s is gone after alice's server deleted the visitor token: %d %s", what, status, body)
		}
	}
	if status, body := do(t, a.Handler(), teacher, "GET", "/hub/api/user", ""); status != 200 {
		t.Errorf("the instructor's login is gone: %d %s", status, body)
	}
}
