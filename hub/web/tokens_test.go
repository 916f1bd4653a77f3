package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/store"
)

var newTokenRE = regexp.MustCompile(`id="new-token" class="token" type="text" value="([0-9a-f]+)"`)

func TestTokenPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	ctx := context.Background()
	wantRedirect(t, e.client().get("/hub/token"), http.StatusFound, "/hub/login?next=%2Fhub%2Ftoken")
	c := e.loggedIn("alice")
	e.start("alice") // gives alice a server token, which the page leaves alone

	p := c.get("/hub/token")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "You have no tokens.", `name="note"`, `name="expires_in"`, `<option value="86400" selected>`)

	// Making one needs the page's token.
	wantStatus(t, c.post("/hub/token", url.Values{"action": {"create"}, "expires_in": {"3600"}}), http.StatusForbidden)
	p = c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"create"}, "note": {"grading script"}, "expires_in": {"3600"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "shown only this once", "grading script")
	m := newTokenRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the new token is not shown:\n%s", p.Body)
	}
	tok, err := e.store.LookupToken(ctx, m[1])
	if err != nil || tok.User != "alice" || tok.Kind != store.KindAPI || tok.Note != "grading script" {
		t.Fatalf("token %+v, %v", tok, err)
	}
	if d := tok.ExpiresAt.Sub(tok.Created); d != time.Hour {
		t.Errorf("token lasts %v, want 1h", d)
	}
	// Listed, never shown again.
	p = c.get("/hub/token")
	wantBody(t, p, "grading script", `name="id" value="`+tok.APIID()+`"`)
	if strings.Contains(p.Body, m[1]) {
		t.Fatal("the token's secret is shown again")
	}
	wantNoBody(t, p, "Server at /user/alice/")

	wantStatus(t, c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"create"}, "expires_in": {"soon"}}), http.StatusBadRequest)

	// Revoking.
	wantStatus(t, c.post("/hub/token", url.Values{"action": {"revoke"}, "id": {tok.APIID()}}), http.StatusForbidden)
	wantRedirect(t, c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"revoke"}, "id": {tok.APIID()}}),
		http.StatusSeeOther, "/hub/token?revoked=1")
	if _, err := e.store.LookupToken(ctx, m[1]); err == nil {
		t.Fatal("the token still works")
	}
	wantBody(t, c.get("/hub/token?revoked=1"), "Token revoked", "You have no tokens.")

	// Nobody revokes someone else's token, or their server's.
	_, bobs, _ := e.store.CreateToken(ctx, store.TokenSpec{User: "bob", Kind: store.KindAPI})
	wantStatus(t, c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"revoke"}, "id": {bobs.APIID()}}), http.StatusNotFound)
	if _, err := e.store.GetToken(ctx, "bob", bobs.ID); err != nil {
		t.Fatal("alice revoked bob's token")
	}
	toks, _ := e.store.ListTokens(ctx, "alice")
	for _, st := range toks {
		if st.Kind == store.KindServer {
			wantStatus(t, c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"revoke"}, "id": {st.APIID()}}), http.StatusBadRequest)
			if _, err := e.store.GetToken(ctx, "alice", st.ID); err != nil {
				t.Fatal("the server's token was revoked")
			}
		}
	}
}

func TestTokenRevokeOAuthApplication(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	ctx := context.Background()
	e.start("bob") // registers bob's server as an OAuth client
	client := "jupyterhub-user-bob"
	var mine []store.Token
	for i := 0; i < 2; i++ {
		_, tok, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindOAuth, ClientID: client})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tok)
	}
	_, bobs, _ := e.store.CreateToken(ctx, store.TokenSpec{User: "bob", Kind: store.KindOAuth, ClientID: client})
	c := e.loggedIn("alice")
	wantBody(t, c.get("/hub/token"), client)
	wantStatus(t, c.post("/hub/token", url.Values{"_xsrf": {c.csrf()}, "action": {"revoke"}, "id": {mine[0].APIID()}}), http.StatusSeeOther)
	for _, tok := range mine {
		if _, err := e.store.GetToken(ctx, "alice", tok.ID); err == nil {
			t.Errorf("alice's token %s for %s survived", tok.APIID(), client)
		}
	}
	if _, err := e.store.GetToken(ctx, "bob", bobs.ID); err != nil {
		t.Error("revoking alice's application revoked bob's token too")
	}
}
