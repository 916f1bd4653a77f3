package store

import (
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestCreateAndLookupToken(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "jupyterhub-user-alice", RedirectURI: "/user/alice/oauth_callback"}, "x"); err != nil {
		t.Fatal(err)
	}
	spec := TokenSpec{
		User: "alice", Kind: KindOAuth, Note: "for the server",
		Scopes:   []string{"access:servers!server=alice/", "read:users:name!user=alice"},
		ClientID: "jupyterhub-user-alice", SessionID: "0123456789abcdef0123456789abcdef",
		ExpiresIn: 14 * 24 * time.Hour,
	}
	secret, tok, err := s.CreateToken(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := hex.DecodeString(secret); err != nil || len(b) != 32 {
		t.Errorf("secret %q is not 32 random bytes in hex", secret)
	}
	now := clk.Now().UTC().Truncate(time.Microsecond)
	if tok.ID <= 0 || tok.APIID() != "a"+itoa(tok.ID) || tok.User != "alice" || tok.Prefix != secret[:4] ||
		tok.Kind != KindOAuth || tok.Note != spec.Note || !slices.Equal(tok.Scopes, spec.Scopes) ||
		tok.ClientID != spec.ClientID || tok.SessionID != spec.SessionID || tok.Created != now ||
		!tok.LastActivity.IsZero() || tok.ExpiresAt != now.Add(spec.ExpiresIn) {
		t.Errorf("created %+v", tok)
	}
	got, err := s.LookupToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	want := tok
	want.LastActivity = now
	if !equalToken(got, want) {
		t.Errorf("LookupToken = %+v, want %+v", got, want)
	}
	if g, err := s.GetToken(ctx, "alice", tok.ID); err != nil || !equalToken(g, want) {
		t.Errorf("GetToken = %+v, %v", g, err)
	}

	for _, bad := range []string{"", secret[:63], secret + "0", "a" + itoa(tok.ID)} {
		if _, err := s.LookupToken(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupToken(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	clk.Advance(spec.ExpiresIn - time.Microsecond)
	if _, err := s.LookupToken(ctx, secret); err != nil {
		t.Errorf("a microsecond before expiry: %v", err)
	}
	clk.Advance(time.Microsecond)
	if _, err := s.LookupToken(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("at expiry: %v, want ErrNotFound", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalToken(a, b Token) bool { return reflect.DeepEqual(a, b) }

func TestCreateTokenRejects(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	for _, tc := range []struct {
		name string
		spec TokenSpec
		err  error
	}{
		{"missing user", TokenSpec{User: "bob", Kind: KindAPI}, ErrNotFound},
		{"missing client", TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "nope"}, ErrNotFound},
		{"unknown kind", TokenSpec{User: "alice", Kind: "admin"}, nil},
		{"no kind", TokenSpec{User: "alice"}, nil},
		{"expired already", TokenSpec{User: "alice", Kind: KindAPI, ExpiresIn: -time.Second}, nil},
	} {
		_, _, err := s.CreateToken(ctx, tc.spec)
		if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v, want an error (%v)", tc.name, err, tc.err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM api_tokens"); n != 0 {
		t.Errorf("%d tokens stored by failed creates", n)
	}
}

func TestTokenActivityIsCoalesced(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	secret, tok, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		got, err := s.GetToken(ctx, "alice", tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastActivity
	}
	t0 := clk.Now().UTC().Truncate(time.Microsecond)
	for _, step := range []struct {
		advance time.Duration
		want    time.Time
	}{
		{0, t0},                                 // first use writes
		{30 * time.Second, t0},                  // within the minute: no write
		{29 * time.Second, t0},                  // 59 s after: still none
		{time.Second, t0.Add(time.Minute)},      // a minute after the last write
		{10 * time.Second, t0.Add(time.Minute)}, // coalesced again
		{time.Hour, t0.Add(time.Hour + 70*time.Second)},
	} {
		clk.Advance(step.advance)
		if _, err := s.LookupToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if got := stored(); !got.Equal(step.want) {
			t.Errorf("after +%v: stored last_activity %v, want %v", step.advance, got, step.want)
		}
	}

	// A coalesced use does not even ask for the write lock: with another
	// process holding it, the lookup still answers (instead of waiting out
	// the busy timeout and failing).
	other := rawDB(t, s.Path())
	defer other.Close()
	lock, err := other.Begin() // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec("UPDATE users SET admin = 1"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := s.LookupToken(ctx, secret); err != nil {
		t.Errorf("lookup while another process writes: %v", err)
	}
}

func TestTokenIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"a42", 42, true},
		{"a1", 1, true},
		{"42", 0, false},
		{"a", 0, false},
		{"a0", 0, false},
		{"a-3", 0, false},
		{"b42", 0, false},
		{"a4x", 0, false},
		{"", 0, false},
	} {
		got, err := ParseTokenID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTokenID(%q) = %d, %v", tc.in, got, err)
		}
		if !tc.ok && !errors.Is(err, ErrNotFound) {
			t.Errorf("ParseTokenID(%q) error %v is not ErrNotFound", tc.in, err)
		}
	}
	if got := (Token{ID: 7}).APIID(); got != "a7" {
		t.Errorf("APIID = %q", got)
	}
}

func TestListAndDeleteTokens(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	for _, c := range []string{"client-a", "client-b"} {
		if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: c, RedirectURI: "/cb"}, "x"); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(spec TokenSpec) Token {
		t.Helper()
		_, tok, err := s.CreateToken(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	api := mk(TokenSpec{User: "alice", Kind: KindAPI})
	short := mk(TokenSpec{User: "alice", Kind: KindAPI, ExpiresIn: time.Minute})
	sessA := mk(TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "client-a", SessionID: "s1"})
	sessB := mk(TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "client-b", SessionID: "s1"})
	bobA := mk(TokenSpec{User: "bob", Kind: KindOAuth, ClientID: "client-a", SessionID: "s2"})
	bobAPI := mk(TokenSpec{User: "bob", Kind: KindAPI})

	ids := func(user string) []int64 {
		t.Helper()
		toks, err := s.ListTokens(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, tk := range toks {
			if tk.User != user {
				t.Errorf("ListTokens(%q) returned %s's token", user, tk.User)
			}
			out = append(out, tk.ID)
		}
		return out
	}
	if got, want := ids("alice"), []int64{api.ID, short.ID, sessA.ID, sessB.ID}; !slices.Equal(got, want) {
		t.Errorf("alice's tokens %v, want %v", got, want)
	}
	clk.Advance(time.Minute)
	if got, want := ids("alice"), []int64{api.ID, sessA.ID, sessB.ID}; !slices.Equal(got, want) {
		t.Errorf("after expiry alice's tokens %v, want %v", got, want)
	}
	if got := ids("nobody"); len(got) != 0 {
		t.Errorf("nobody's tokens: %v", got)
	}

	if err := s.DeleteToken(ctx, "bob", api.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deleting alice's token: %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, "alice", api.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "alice", api.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if n, err := s.DeleteTokensBySession(ctx, "s1"); err != nil || n != 2 {
		t.Errorf("DeleteTokensBySession(s1) = %d, %v; want 2", n, err)
	}
	if got, want := ids("bob"), []int64{bobA.ID, bobAPI.ID}; !slices.Equal(got, want) {
		t.Errorf("bob's tokens after alice's logout %v, want %v", got, want)
	}
	if n, err := s.DeleteTokensByClient(ctx, "client-a"); err != nil || n != 1 {
		t.Errorf("DeleteTokensByClient(client-a) = %d, %v; want 1", n, err)
	}
	if got, want := ids("bob"), []int64{bobAPI.ID}; !slices.Equal(got, want) {
		t.Errorf("bob's tokens %v, want %v", got, want)
	}
	if n, err := s.DeleteTokensBySession(ctx, "s1"); err != nil || n != 0 {
		t.Errorf("second logout = %d, %v", n, err)
	}
	for _, f := range []func() (int64, error){
		func() (int64, error) { return s.DeleteTokensBySession(ctx, "") },
		func() (int64, error) { return s.DeleteTokensByClient(ctx, "") },
	} {
		if _, err := f(); err == nil {
			t.Error("an empty id deleted by match")
		}
	}

	// Ids are never reused, so a revoked "aN" cannot come back.
	last := mk(TokenSpec{User: "bob", Kind: KindAPI})
	if err := s.DeleteToken(ctx, "bob", last.ID); err != nil {
		t.Fatal(err)
	}
	if next := mk(TokenSpec{User: "bob", Kind: KindAPI}); next.ID <= last.ID {
		t.Errorf("token id %d reused after deleting %d", next.ID, last.ID)
	}
}
