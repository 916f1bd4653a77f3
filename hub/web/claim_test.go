package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/classhub/classhub/hub/store"
)

// TestNobodyClaimsAnInstructor adds instructors every way there is — the
// admin page's "Make them instructors", the REST API's POST (both forms)
// and PATCH of a student still waiting for a password — and has a
// stranger type each name with a password of their choosing: nobody gets
// in, nobody reaches the admin page, no account changes. Before setup
// codes every one of these logged the stranger in as an instructor.
func TestNobodyClaimsAnInstructor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addUser("root", "root-password", true)
	e.addUser("pending", "", false) // a student waiting for a first password
	root := e.loggedIn("root")
	rootToken := root.csrf()
	root.post("/hub/admin/users", url.Values{"_xsrf": {rootToken}, "usernames": {"ta1"}, "admin": {"1"}})
	tok, _, err := e.hub.Store().CreateToken(ctx, apiTokenSpec("root"))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.apiCall(false, tok, "POST", "/hub/api/users", `{"usernames": ["ta2"], "admin": true}`); code != http.StatusCreated {
		t.Fatalf("POST /users: %d %s", code, body)
	}
	if code, body := e.apiCall(false, tok, "POST", "/hub/api/users/ta3", `{"admin": true}`); code != http.StatusCreated {
		t.Fatalf("POST /users/ta3: %d %s", code, body)
	}
	if code, body := e.apiCall(false, tok, "PATCH", "/hub/api/users/pending", `{"admin": true}`); code != http.StatusOK {
		t.Fatalf("PATCH /users/pending: %d %s", code, body)
	}
	for _, name := range []string{"ta1", "ta2", "ta3", "pending"} {
		before, err := e.store.GetUser(ctx, name)
		if err != nil || !before.Admin {
			t.Fatalf("%s: %+v, %v; want an instructor", name, before, err)
		}
		stranger := e.client()
		p := stranger.login(name, "chosen by a stranger", "/hub/admin")
		if p.StatusCode != http.StatusForbidden || stranger.session() != "" {
			t.Errorf("a stranger typing %s's name got %d and a session %v", name, p.StatusCode, stranger.session() != "")
		}
		if p := stranger.get("/hub/admin"); p.StatusCode == http.StatusOK {
			t.Errorf("a stranger reached the admin page as %s", name)
		}
		if after, _ := e.store.GetUser(ctx, name); after != before {
			t.Errorf("typing %s's name changed the account: %+v, was %+v", name, after, before)
		}
	}
}

// apiTokenSpec is an API token with all of user's permissions.
func apiTokenSpec(user string) store.TokenSpec {
	return store.TokenSpec{User: user, Kind: store.KindAPI, Scopes: []string{"inherit"}}
}

// TestNobodyClaimsAResetStudent: in a class that claims accounts, a
// student the instructor resets (say, who forgot her password) waits for
// the reset's new setup code; a stranger typing her name with a password
// of their choosing does not get her account and files.
func TestNobodyClaimsAResetStudent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.setClaimAccounts(true)
	if _, err := e.hub.AddUsers(ctx, []string{"bob"}, false); err != nil {
		t.Fatal(err)
	}
	bob := e.client()
	wantStatus(t, bob.login("bob", "bobs-first-password", "/hub/home"), http.StatusFound)

	reset, err := e.hub.ResetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.store.GetUser(ctx, "bob")
	stranger := e.client()
	stranger.addr = "192.0.2.66"
	p := stranger.login("bob", "chosen by a stranger", "/hub/home")
	if p.StatusCode != http.StatusForbidden || stranger.session() != "" {
		t.Errorf("a stranger typing a reset student's name got %d and a session %v", p.StatusCode, stranger.session() != "")
	}
	if after, _ := e.store.GetUser(ctx, "bob"); after != before {
		t.Errorf("typing bob's name changed the account: %+v, was %+v", after, before)
	}
	// The setup code still gets bob in.
	if _, err := e.hub.SetUpAccount(ctx, "bob", reset.SetupCode, "bobs-new-password"); err != nil {
		t.Errorf("the reset's setup code: %v", err)
	}
}
