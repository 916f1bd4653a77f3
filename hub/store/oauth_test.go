package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

const (
	aliceClient   = "jupyterhub-user-alice"
	aliceCallback = "/user/alice/oauth_callback"
)

func aliceWithClient(t *testing.T, s *Store, secret string) {
	t.Helper()
	mustUser(t, s, "alice")
	_, err := s.PutOAuthClient(context.Background(), OAuthClient{
		ID: aliceClient, RedirectURI: aliceCallback, Owner: "alice",
		Description: "Server at /user/alice/", AllowedScopes: []string{"access:servers!server=alice/"},
	}, secret)
	if err != nil {
		t.Fatal(err)
	}
}

func TestOAuthClientUpsert(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	aliceWithClient(t, s, "first-secret")
	c, err := s.GetOAuthClient(ctx, aliceClient)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != aliceClient || c.RedirectURI != aliceCallback || c.Owner != "alice" || c.Description != "Server at /user/alice/" ||
		!slices.Equal(c.AllowedScopes, []string{"access:servers!server=alice/"}) || c.Created.IsZero() {
		t.Errorf("stored %+v", c)
	}
	tokSecret, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, ClientID: aliceClient})
	if err != nil {
		t.Fatal(err)
	}

	// A new spawn re-registers the client with the new server token.
	up, err := s.PutOAuthClient(ctx, OAuthClient{ID: aliceClient, RedirectURI: "/user/alice/cb2"}, "second-secret")
	if err != nil {
		t.Fatal(err)
	}
	if up.RedirectURI != "/user/alice/cb2" || up.Owner != "" || up.Description != "" || len(up.AllowedScopes) != 0 || !up.Created.Equal(c.Created) {
		t.Errorf("after upsert %+v", up)
	}
	if _, err := s.LookupToken(ctx, tokSecret); err != nil {
		t.Errorf("upserting the client revoked its token: %v", err)
	}
	for _, tc := range []struct {
		id, secret string
		ok         bool
	}{
		{aliceClient, "second-secret", true},
		{aliceClient, "first-secret", false},
		{aliceClient, "", false},
		{"jupyterhub-user-bob", "second-secret", false},
	} {
		got, err := s.AuthenticateOAuthClient(ctx, tc.id, tc.secret)
		if tc.ok && (err != nil || got.ID != tc.id) {
			t.Errorf("authenticate %s with %q: %+v, %v", tc.id, tc.secret, got, err)
		}
		if !tc.ok && !errors.Is(err, ErrNotFound) {
			t.Errorf("authenticate %s with %q: %v, want ErrNotFound", tc.id, tc.secret, err)
		}
	}

	for _, tc := range []struct {
		name   string
		c      OAuthClient
		secret string
		err    error
	}{
		{"empty secret", OAuthClient{ID: "x", RedirectURI: "/cb"}, "", nil},
		{"empty id", OAuthClient{RedirectURI: "/cb"}, "s", nil},
		{"missing owner", OAuthClient{ID: "x", RedirectURI: "/cb", Owner: "bob"}, "s", ErrNotFound},
	} {
		if _, err := s.PutOAuthClient(ctx, tc.c, tc.secret); err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := s.GetOAuthClient(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rejected client was stored: %v", err)
	}

	if _, err := s.CreateCode(ctx, CodeSpec{ClientID: aliceClient, User: "alice", RedirectURI: "/user/alice/cb2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOAuthClient(ctx, aliceClient); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupToken(ctx, tokSecret); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted client's token still works: %v", err)
	}
	if n := count(t, s, "SELECT count(*) FROM oauth_codes"); n != 0 {
		t.Errorf("%d codes of the deleted client remain", n)
	}
	if err := s.DeleteOAuthClient(ctx, aliceClient); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestConsumeCode(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	aliceWithClient(t, s, "secret")
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "jupyterhub-user-bob", RedirectURI: "/user/bob/oauth_callback"}, "b"); err != nil {
		t.Fatal(err)
	}
	scopes := []string{"access:servers!server=alice/", "read:users:name!user=alice"}
	issue := func(ttl time.Duration) string {
		t.Helper()
		code, err := s.CreateCode(ctx, CodeSpec{ClientID: aliceClient, User: "alice", SessionID: "sess1", RedirectURI: aliceCallback, Scopes: scopes, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	code := issue(0)
	if len(code) != 64 {
		t.Errorf("code %q is not 64 hex characters", code)
	}
	clk.Advance(CodeTTL - time.Microsecond)
	got, err := s.ConsumeCode(ctx, code, aliceClient, aliceCallback)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != aliceClient || got.User != "alice" || got.SessionID != "sess1" || got.RedirectURI != aliceCallback ||
		!slices.Equal(got.Scopes, scopes) || got.ExpiresAt.Sub(got.Created) != CodeTTL {
		t.Errorf("grant %+v", got)
	}
	if _, err := s.ConsumeCode(ctx, code, aliceClient, aliceCallback); !errors.Is(err, ErrNotFound) {
		t.Errorf("second use: %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		name             string
		wait             time.Duration
		client, redirect string
	}{
		{"expired", CodeTTL, aliceClient, aliceCallback},
		{"other client", 0, "jupyterhub-user-bob", aliceCallback},
		{"redirect with trailing slash", 0, aliceClient, aliceCallback + "/"},
		{"absolute redirect", 0, aliceClient, "http://localhost" + aliceCallback},
		{"redirect in other case", 0, aliceClient, "/user/Alice/oauth_callback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := issue(0)
			clk.Advance(tc.wait)
			if _, err := s.ConsumeCode(ctx, code, tc.client, tc.redirect); !errors.Is(err, ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
			// A failed attempt burns the code.
			if _, err := s.ConsumeCode(ctx, code, aliceClient, aliceCallback); !errors.Is(err, ErrNotFound) {
				t.Errorf("the code survived a failed attempt: %v", err)
			}
		})
	}
	if _, err := s.ConsumeCode(ctx, "0123", aliceClient, aliceCallback); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown code: %v", err)
	}
	for _, spec := range []CodeSpec{
		{ClientID: aliceClient, User: "bob", RedirectURI: aliceCallback},
		{ClientID: "nope", User: "alice", RedirectURI: aliceCallback},
		{ClientID: aliceClient, User: "alice", RedirectURI: aliceCallback, TTL: -time.Second},
	} {
		if _, err := s.CreateCode(ctx, spec); err == nil {
			t.Errorf("CreateCode(%+v) succeeded", spec)
		}
	}
}

// TestConsumeCodeRace has 20 goroutines redeem one code at once: exactly
// one may win. They share the file through four Stores, so the race is
// decided by SQLite's locking and not only by the writer pool's queue.
func TestConsumeCodeRace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	aliceWithClient(t, s, "secret")
	stores := []*Store{s}
	for range 3 {
		other, err := Open(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		stores = append(stores, other)
	}
	for round := range 3 {
		code, err := s.CreateCode(ctx, CodeSpec{ClientID: aliceClient, User: "alice", RedirectURI: aliceCallback})
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = stores[i%len(stores)].ConsumeCode(ctx, code, aliceClient, aliceCallback)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, ErrNotFound):
				t.Errorf("round %d: a loser got %v, want ErrNotFound", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d of %d racing consumers won, want exactly 1", round, wins, n)
		}
	}
}

// The desktop app's client exists from the start, has no secret that any
// presented one matches, and its codes keep their PKCE challenge.
func TestDesktopAppClient(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	c, err := s.GetOAuthClient(ctx, "classhub-desktop")
	if err != nil || c.Owner != "" {
		t.Fatalf("the desktop client: %+v, %v", c, err)
	}
	for _, secret := range []string{"", "!public client", hashSecret("")} {
		if _, err := s.AuthenticateOAuthClient(ctx, "classhub-desktop", secret); !errors.Is(err, ErrNotFound) {
			t.Errorf("the public client authenticated with secret %q: %v", secret, err)
		}
	}
	code, err := s.CreateCode(ctx, CodeSpec{ClientID: "classhub-desktop", User: "alice", RedirectURI: "http://127.0.0.1:5000/callback",
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeCode(ctx, code, "classhub-desktop", "http://127.0.0.1:5000/callback")
	if err != nil || got.Challenge != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" || got.SessionID != "" {
		t.Fatalf("ConsumeCode = %+v, %v", got, err)
	}
}
