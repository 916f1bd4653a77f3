package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestSetupCode(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Name: "alice", MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetupCode(ctx, "alice", "CODE1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasSetupCode(ctx, "alice"); err != nil || !ok {
		t.Fatalf("HasSetupCode = %v, %v", ok, err)
	}
	secret, _, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, s, "alice")

	// A wrong code, another user's name or an unknown one change nothing.
	mustUser(t, s, "bob")
	for _, try := range []struct{ user, code string }{{"alice", "CODE2"}, {"alice", ""}, {"bob", "CODE1"}, {"nobody", "CODE1"}} {
		if _, err := s.RedeemSetupCode(ctx, try.user, try.code, "$2a$10$x"); !errors.Is(err, ErrBadCode) {
			t.Errorf("redeeming %q for %s = %v, want ErrBadCode", try.code, try.user, err)
		}
	}
	if got := mustGet(t, s, "alice"); got != before {
		t.Errorf("wrong codes changed alice: %+v, want %+v", got, before)
	}

	u, err := s.RedeemSetupCode(ctx, "alice", "CODE1", "$2a$10$mine")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "$2a$10$mine" || u.MustSetPassword {
		t.Errorf("after redeeming: %+v", u)
	}
	if _, err := s.LookupSession(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session from before the setup still works: %v", err)
	}
	// A used code is gone.
	if _, err := s.RedeemSetupCode(ctx, "alice", "CODE1", "$2a$10$again"); !errors.Is(err, ErrBadCode) {
		t.Errorf("redeeming a used code = %v, want ErrBadCode", err)
	}
	if got := mustGet(t, s, "alice"); got.PasswordHash != "$2a$10$mine" {
		t.Errorf("a used code changed the password: %+v", got)
	}

	// An expired code is refused; a new one replaces the old.
	if err := s.PutSetupCode(ctx, "bob", "OLD", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetupCode(ctx, "bob", "NEW", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemSetupCode(ctx, "bob", "OLD", "$2a$10$x"); !errors.Is(err, ErrBadCode) {
		t.Errorf("a replaced code = %v, want ErrBadCode", err)
	}
	clk.Advance(time.Hour)
	if ok, _ := s.HasSetupCode(ctx, "bob"); ok {
		t.Error("an expired code still counts")
	}
	if _, err := s.RedeemSetupCode(ctx, "bob", "NEW", "$2a$10$x"); !errors.Is(err, ErrBadCode) {
		t.Errorf("an expired code = %v, want ErrBadCode", err)
	}
	if n, err := s.Prune(ctx); err != nil || n < 1 || count(t, s, "SELECT count(*) FROM setup_codes") != 0 {
		t.Errorf("Prune = %d, %v, and left %d setup codes", n, err, count(t, s, "SELECT count(*) FROM setup_codes"))
	}
}

// TestSetupCodeOfInstructor: making someone an instructor drops their
// setup code, which a student was handed.
func TestSetupCodeOfInstructor(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Name: "ta", MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetupCode(ctx, "ta", "CODE", time.Hour); err != nil {
		t.Fatal(err)
	}
	admin := true
	u, err := s.UpdateUser(ctx, "ta", UserUpdate{Admin: &admin})
	if err != nil {
		t.Fatal(err)
	}
	if u.MustSetPassword {
		t.Errorf("an instructor waits for a first password: %+v", u)
	}
	if _, err := s.RedeemSetupCode(ctx, "ta", "CODE", "$2a$10$x"); !errors.Is(err, ErrBadCode) {
		t.Errorf("redeeming an instructor's old code = %v, want ErrBadCode", err)
	}
	if _, ok, _ := s.ClaimPassword(ctx, "ta", "$2a$10$x"); ok {
		t.Error("claimed an instructor")
	}
	if got := mustGet(t, s, "ta"); got.PasswordHash != "" {
		t.Errorf("the instructor got a password: %+v", got)
	}
}

// TestSetupCodeRace redeems one code from many goroutines: exactly one
// sets the password.
func TestSetupCodeRace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Name: "alice", MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetupCode(ctx, "alice", "CODE", time.Hour); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hash := "$2a$10$" + string(rune('a'+i))
			if _, err := s.RedeemSetupCode(ctx, "alice", "CODE", hash); err == nil {
				mu.Lock()
				won = append(won, hash)
				mu.Unlock()
			} else if !errors.Is(err, ErrBadCode) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || mustGet(t, s, "alice").PasswordHash != won[0] {
		t.Errorf("winners %v, alice's hash %q", won, mustGet(t, s, "alice").PasswordHash)
	}
}

func TestResetCredentials(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Name: "alice", PasswordHash: "$2a$10$old"}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "bob")
	session, se, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	server, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "jupyterhub-user-alice", RedirectURI: "/user/alice/oauth_callback", Owner: "alice"}, server); err != nil {
		t.Fatal(err)
	}
	oauth, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "jupyterhub-user-alice"})
	if err != nil {
		t.Fatal(err)
	}
	// An OAuth token not tied to the session: revoked all the same.
	sessionOAuth, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "jupyterhub-user-alice", SessionID: se.ID})
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.CreateCode(ctx, CodeSpec{ClientID: "jupyterhub-user-alice", User: "alice", RedirectURI: "/user/alice/oauth_callback"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := s.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := s.CreateToken(ctx, TokenSpec{User: "bob", Kind: KindAPI})
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Second)
	u, err := s.ResetCredentials(ctx, "alice", Credentials{SetupCode: "NEWCODE", CodeTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "" || !u.MustSetPassword || !u.Reset.Equal(clk.Now().UTC().Truncate(time.Microsecond)) {
		t.Errorf("after the reset: %+v (now %v)", u, clk.Now())
	}
	if _, err := s.LookupSession(ctx, session); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session survived the reset: %v", err)
	}
	for what, secret := range map[string]string{"API token": api, "OAuth token": oauth, "session's OAuth token": sessionOAuth} {
		if _, err := s.LookupToken(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Errorf("the %s survived the reset: %v", what, err)
		}
	}
	if _, err := s.ConsumeCode(ctx, code, "jupyterhub-user-alice", "/user/alice/oauth_callback"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the OAuth code survived the reset: %v", err)
	}
	if _, err := s.ConsumeLoginLink(ctx, link); !errors.Is(err, ErrNotFound) {
		t.Errorf("the login link survived the reset: %v", err)
	}
	// The running server's token stays; so does everyone else's.
	if _, err := s.LookupToken(ctx, server); err != nil {
		t.Errorf("the server's token went: %v", err)
	}
	if _, err := s.LookupToken(ctx, bobs); err != nil {
		t.Errorf("bob's token went: %v", err)
	}
	if _, err := s.RedeemSetupCode(ctx, "alice", "NEWCODE", "$2a$10$new"); err != nil {
		t.Errorf("the new setup code: %v", err)
	}

	// An instructor's reset gives a password and no code.
	u, err = s.ResetCredentials(ctx, "bob", Credentials{PasswordHash: "$2a$10$gen"})
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "$2a$10$gen" || u.MustSetPassword {
		t.Errorf("bob after the reset: %+v", u)
	}
	if _, err := s.ResetCredentials(ctx, "nobody", Credentials{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("resetting nobody = %v, want ErrNotFound", err)
	}
}

func mustGet(t *testing.T, s *Store, name string) User {
	t.Helper()
	u, err := s.GetUser(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
