package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

func clientOf(user string) string { return "jupyterhub-user-" + user }

// newVisits is a hub with alice's and bob's servers registered as OAuth
// clients, and an admin.
func newVisits(t *testing.T) (*Visits, *store.Store) {
	t.Helper()
	a, st := newAuth(t)
	ctx := context.Background()
	st.CreateUser(ctx, store.NewUser{Name: "bob"})
	for _, u := range []string{"alice", "bob"} {
		if _, err := st.PutOAuthClient(ctx, store.OAuthClient{ID: clientOf(u), Owner: u, RedirectURI: "/user/" + u + "/oauth_callback"}, "s-"+u); err != nil {
			t.Fatal(err)
		}
	}
	return &Visits{Auth: a, ClientID: clientOf}, st
}

func mustToken(t *testing.T, st *store.Store, spec store.TokenSpec) string {
	t.Helper()
	s, _, err := st.CreateToken(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVisitTokenDoesOnlyTheVisit: the instructor's own API token, sent to
// alice's server, reaches it as a token of the instructor's that may use
// alice's server and do nothing else: not use another server, not act on
// users, not outlive the token it stands for by more than its own life.
func TestVisitTokenDoesOnlyTheVisit(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	admin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindAPI, Scopes: []string{"inherit"}, ExpiresIn: 20 * time.Minute})
	sent, err := v.ForServer(ctx, "alice", admin)
	if err != nil || sent == "" || sent == admin {
		t.Fatalf("ForServer(the instructor's token) = %q, %v; want a visit token", sent, err)
	}
	p, err := v.Auth.FromToken(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if p.User.Name != "teacher" || p.Token.ClientID != clientOf("alice") {
		t.Errorf("the visit token is %s's for %q, want the instructor's for alice's server", p.User.Name, p.Token.ClientID)
	}
	if !scopes.Allows(p.Scopes, "access:servers", scopes.OnServer("alice", "")) {
		t.Error("the visit token may not use alice's server")
	}
	for _, no := range []struct {
		scope  string
		target scopes.Target
	}{
		{"access:servers", scopes.OnServer("bob", "")},
		{"servers", scopes.OnServer("alice", "")},
		{"admin:users", scopes.OnUser("alice")},
		{"tokens", scopes.OnUser("teacher")},
		{"read:users", scopes.OnUser("bob")},
	} {
		if scopes.Allows(p.Scopes, no.scope, no.target) {
			t.Errorf("the visit token has %s on %+v", no.scope, no.target)
		}
	}
	if left := time.Until(p.Token.ExpiresAt); left > 20*time.Minute || left < 19*time.Minute {
		t.Errorf("the visit token lives %v, want no longer than the token it stands for (20m)", left)
	}

	// Reused while good; made again once alice's server deleted it.
	if again, _ := v.ForServer(ctx, "alice", admin); again != sent {
		t.Error("a second request made a second visit token")
	}
	if err := st.DeleteToken(ctx, "teacher", p.Token.ID); err != nil {
		t.Fatal(err)
	}
	if again, err := v.ForServer(ctx, "alice", admin); err != nil || again == sent || again == "" {
		t.Errorf("after the server deleted its visit token: %q, %v; want a new one", again, err)
	}
	// One per server.
	if forBob, _ := v.ForServer(ctx, "bob", admin); forBob == sent || forBob == "" {
		t.Errorf("bob's server got %q", forBob)
	}
}

// TestVisitTokensPassOrVanish: the owner's own tokens and a token issued
// for that very server reach it as they are; a token that may not use the
// server, an unknown one, and a revoked one reach it as nothing.
func TestVisitTokensPassOrVanish(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	own := mustToken(t, st, store.TokenSpec{User: "alice", Kind: store.KindAPI})
	forServer := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindOAuth, ClientID: clientOf("alice"),
		Scopes: []string{scopes.ServerAccessScope("alice", "")}})
	forBobsServer := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindOAuth, ClientID: clientOf("bob"),
		Scopes: []string{scopes.ServerAccessScope("bob", "")}})
	bobs := mustToken(t, st, store.TokenSpec{User: "bob", Kind: store.KindAPI, Scopes: []string{"inherit"}})
	for _, c := range []struct {
		name, secret, want string
	}{
		{"alice's own", own, own},
		{"issued for alice's server", forServer, forServer},
		{"issued for bob's server", forBobsServer, ""},
		{"a classmate's", bobs, ""},
		{"unknown", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
	} {
		if got, err := v.ForServer(ctx, "alice", c.secret); err != nil || got != c.want {
			t.Errorf("%s: ForServer = %q, %v; want %q", c.name, got, err, c.want)
		}
	}

	admin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindAPI, Scopes: []string{"inherit"}})
	if sent, _ := v.ForServer(ctx, "alice", admin); sent == "" {
		t.Fatal("no visit token")
	}
	tok, err := st.LookupToken(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteToken(ctx, "teacher", tok.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := v.ForServer(ctx, "alice", admin); err != nil || got != "" {
		t.Errorf("a revoked token: ForServer = %q, %v; want nothing sent", got, err)
	}
}

// TestVisitTokenEndsWithTheLogin: a visit token made for a token that came
// from a login is revoked by logging out, as that token is.
func TestVisitTokenEndsWithTheLogin(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	_, se, err := st.CreateSession(ctx, "teacher", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fromLogin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindOAuth, ClientID: clientOf("bob"),
		SessionID: se.ID, Scopes: []string{"access:servers"}})
	sent, err := v.ForServer(ctx, "alice", fromLogin)
	if err != nil || sent == "" {
		t.Fatalf("ForServer = %q, %v", sent, err)
	}
	if _, err := st.DeleteTokensBySession(ctx, se.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LookupToken(ctx, sent); err == nil {
		t.Error("the visit token outlived the login")
	}
}

// TestVisitTokenNeverOutlivesItsToken: a token in its last instant gets
// no visit token that never expires (a lifetime of 0 is "never" to the
// store).
func TestVisitTokenNeverOutlivesItsToken(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	admin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindAPI, Scopes: []string{"inherit"}, ExpiresIn: 20 * time.Minute})
	tok, err := st.LookupToken(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return tok.ExpiresAt }
	sent, err := v.ForServer(ctx, "alice", admin)
	if err != nil {
		t.Fatalf("ForServer in the token's last instant: %v; want nothing sent", err)
	}
	if sent == "" {
		return
	}
	if p, err := v.Auth.FromToken(ctx, sent); err == nil && (p.Token.ExpiresAt.IsZero() || p.Token.ExpiresAt.After(tok.ExpiresAt)) {
		t.Errorf("the visit token for a token expiring at %v expires at %v (zero: never)", tok.ExpiresAt, p.Token.ExpiresAt)
	}
}

// TestShortLivedTokenVisitsWithOneToken: a token with less than a quarter
// of VisitTokenTTL left gets one visit token, reused until both end, not a
// new one (a row in the database) per request.
func TestShortLivedTokenVisitsWithOneToken(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	admin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindAPI, Scopes: []string{"inherit"}, ExpiresIn: 10 * time.Minute})
	first, err := v.ForServer(ctx, "alice", admin)
	if err != nil || first == "" {
		t.Fatalf("ForServer = %q, %v", first, err)
	}
	if again, err := v.ForServer(ctx, "alice", admin); err != nil || again != first {
		t.Errorf("a second request made a second visit token (%v)", err)
	}
}

// TestVisitTokenRelayedGoesNowhere: alice's server, which holds the
// instructor's visit token, replays it to bob's server (the proxy hands it
// to ForServer as any visitor's token): bob's server gets nothing, and no
// visit token for bob is made from it. The visit token's note names the
// token it stands for by prefix only, never by its secret.
func TestVisitTokenRelayedGoesNowhere(t *testing.T) {
	v, st := newVisits(t)
	ctx := context.Background()
	admin := mustToken(t, st, store.TokenSpec{User: "teacher", Kind: store.KindAPI, Scopes: []string{"inherit"}})
	visit, err := v.ForServer(ctx, "alice", admin)
	if err != nil || visit == "" {
		t.Fatalf("ForServer = %q, %v", visit, err)
	}
	if got, err := v.ForServer(ctx, "bob", visit); err != nil || got != "" {
		t.Errorf("alice's server relaying the visit token to bob's: ForServer = %q, %v; want nothing sent", got, err)
	}
	if got, err := v.ForServer(ctx, "alice", visit); err != nil || got != visit {
		t.Errorf("the visit token back at alice's server: ForServer = %q, %v; want it as it is", got, err)
	}
	p, err := v.Auth.FromToken(ctx, visit)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Token.Note, admin) || len(p.Token.Prefix) >= len(admin)/2 {
		t.Errorf("the visit token's note %q (prefix %q) reveals the instructor's token", p.Token.Note, p.Token.Prefix)
	}
}
