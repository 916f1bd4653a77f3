package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

func newAuth(t *testing.T) (*Authenticator, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	st.CreateUser(ctx, store.NewUser{Name: "alice", MustSetPassword: true})
	st.CreateUser(ctx, store.NewUser{Name: "teacher", Admin: true})
	return &Authenticator{Store: st}, st
}

func TestTokenFromRequest(t *testing.T) {
	tests := map[string]string{
		"token abc":  "abc",
		"Token abc":  "abc",
		"bearer abc": "abc",
		"Basic abc":  "",
		"abc":        "",
		"":           "",
	}
	for header, want := range tests {
		r := httptest.NewRequest("GET", "/hub/api/user?token=fromquery", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := TokenFromRequest(r); got != want {
			t.Errorf("TokenFromRequest(%q) = %q, want %q (never the query)", header, got, want)
		}
	}
}

func TestFromTokenCapsScopesAtTheOwner(t *testing.T) {
	a, st := newAuth(t)
	ctx := context.Background()
	secret, _, err := st.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: "api", Scopes: []string{"admin:users", "read:users!user=alice"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.FromToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if scopes.Holds(p.Scopes, "admin:users") {
		t.Errorf("alice's token holds admin:users: %v", p.Scopes)
	}
	if !scopes.Allows(p.Scopes, "read:users", scopes.OnUser("alice")) {
		t.Errorf("alice's token lost read:users on herself: %v", p.Scopes)
	}
	if _, err := a.FromToken(ctx, "nonsense"); !errors.Is(err, ErrBadToken) {
		t.Errorf("FromToken(nonsense) = %v, want ErrBadToken", err)
	}
}

// TestPendingAccountIsNotClaimed: a pre-created student waits for the
// setup code; typing their name and a password of one's choosing gets
// nobody in and changes nothing.
func TestPendingAccountIsNotClaimed(t *testing.T) {
	a, st := newAuth(t)
	ctx := context.Background()
	for _, claim := range []func() bool{nil, func() bool { return false }} {
		a.ClaimAccounts = claim
		if _, first, err := a.CheckPassword(ctx, "alice", "a good password"); !errors.Is(err, ErrBadLogin) || first {
			t.Errorf("claiming alice = %v, %v; want ErrBadLogin", first, err)
		}
	}
	if u, _ := st.GetUser(ctx, "alice"); u.PasswordHash != "" || !u.MustSetPassword {
		t.Errorf("alice after the tries: %+v", u)
	}
}

// TestClaimedAccountsNeverAnInstructor: even a class that claims accounts
// never lets an instructor's be claimed, whatever flags the account has.
func TestClaimedAccountsNeverAnInstructor(t *testing.T) {
	a, st := newAuth(t)
	a.ClaimAccounts = func() bool { return true }
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "ta", Admin: true, MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if _, first, err := a.CheckPassword(ctx, "ta", "i am the teacher now"); !errors.Is(err, ErrBadLogin) || first {
		t.Errorf("claiming an instructor = %v, %v; want ErrBadLogin", first, err)
	}
	if u, _ := st.GetUser(ctx, "ta"); u.PasswordHash != "" {
		t.Errorf("the instructor got a password: %+v", u)
	}
}

func TestFirstLoginSetsThePasswordThenChecksIt(t *testing.T) {
	a, _ := newAuth(t)
	a.ClaimAccounts = func() bool { return true }
	ctx := context.Background()
	var rule *PasswordRuleError
	if _, _, err := a.CheckPassword(ctx, "alice", "short"); !errors.As(err, &rule) || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("a too-short first password = %v, want a *PasswordRuleError", err)
	}
	_, first, err := a.CheckPassword(ctx, "alice", "a good password")
	if err != nil || !first {
		t.Fatalf("first login = %v, %v; want it to set the password", first, err)
	}
	if _, first, err := a.CheckPassword(ctx, "alice", "a good password"); err != nil || first {
		t.Errorf("second login = %v, %v", first, err)
	}
	if _, _, err := a.CheckPassword(ctx, "alice", "another password"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("wrong password = %v, want ErrBadLogin", err)
	}
	if _, _, err := a.CheckPassword(ctx, "nobody", "whatever1"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("unknown user = %v, want ErrBadLogin (not a different error)", err)
	}
}

func TestSessionLoginCSRFAndLogout(t *testing.T) {
	a, st := newAuth(t)
	ctx := context.Background()
	w := httptest.NewRecorder()
	sess, err := a.Login(w, httptest.NewRequest("POST", "/hub/login", nil), "alice")
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if cookie.Name != SessionCookie || cookie.Path != SessionPath || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite, path %s", cookie, SessionPath)
	}
	r := httptest.NewRequest("POST", "/hub/api/users/alice/server", nil)
	r.AddCookie(cookie)
	p, err := a.FromRequest(r)
	if err != nil || p.User.Name != "alice" || !p.ViaSession() || p.Session.ID != sess.ID {
		t.Fatalf("FromRequest with the cookie = %+v, %v", p, err)
	}
	// The cookie carries its own secret: neither the session's id, which
	// servers may see, nor its anti-forgery token, which pages show.
	if len(cookie.Value) < 64 || cookie.Value == sess.ID || cookie.Value == CSRFToken(sess) {
		t.Errorf("the login cookie %q is not a secret of its own (session %+v)", cookie.Value, sess)
	}
	for _, forged := range []string{sess.ID, CSRFToken(sess)} {
		fr := httptest.NewRequest("GET", "/hub/home", nil)
		fr.AddCookie(&http.Cookie{Name: SessionCookie, Value: forged})
		if _, err := a.FromSession(ctx, fr); !errors.Is(err, ErrBadToken) {
			t.Errorf("a cookie made of %q logged in: %v", forged, err)
		}
	}
	// Another login's anti-forgery token does not pass for this one.
	otherW := httptest.NewRecorder()
	other, err := a.Login(otherW, httptest.NewRequest("POST", "/hub/login", nil), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set(XSRFHeader, CSRFToken(other))
	if CheckCSRF(r, p.Session) {
		t.Error("another session's anti-forgery token passed")
	}
	r.Header.Del(XSRFHeader)
	if CheckCSRF(r, p.Session) {
		t.Error("a request without the anti-forgery token passed")
	}
	r.Header.Set(XSRFHeader, CSRFToken(p.Session))
	if !CheckCSRF(r, p.Session) {
		t.Error("a request with the anti-forgery token failed")
	}
	// An OAuth token issued through the session dies with it.
	oauthTok, _, _ := st.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: "api", Scopes: []string{"read:users!user=alice"}, SessionID: sess.ID})
	if err := a.Logout(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FromSession(ctx, r); err == nil {
		t.Error("the session survived logout")
	}
	if _, err := a.FromToken(ctx, oauthTok); !errors.Is(err, ErrBadToken) {
		t.Errorf("a token issued through the session survived logout: %v", err)
	}
}

func TestAnAccountWithoutPasswordCannotBeClaimed(t *testing.T) {
	a, _ := newAuth(t)
	// teacher was created with no password and is not waiting for one,
	// as the laptop's owner is.
	if _, first, err := a.CheckPassword(context.Background(), "teacher", "i am the teacher now"); !errors.Is(err, ErrBadLogin) || first {
		t.Fatalf("claiming a password-less admin = %v, %v; want ErrBadLogin", first, err)
	}
}

// TestConcurrentClaimsOneWins has several people log in to the same
// unclaimed account at the same moment, each with their own password:
// exactly one gets in, and only their password works afterwards.
func TestConcurrentClaimsOneWins(t *testing.T) {
	a, _ := newAuth(t)
	a.ClaimAccounts = func() bool { return true }
	ctx := context.Background()
	// Few, as each costs two full bcrypts; the store test races many.
	const claimers = 3
	type result struct {
		pw    string
		first bool
		err   error
	}
	results := make(chan result, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range claimers {
		pw := fmt.Sprintf("password of claimer %d", i)
		wg.Go(func() {
			<-start
			_, first, err := a.CheckPassword(ctx, "alice", pw)
			results <- result{pw, first, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var winner string
	for r := range results {
		switch {
		case r.err == nil && r.first && winner == "":
			winner = r.pw
		case r.err == nil:
			t.Errorf("%q also got in (first %v) after %q claimed the account", r.pw, r.first, winner)
		case !errors.Is(r.err, ErrBadLogin):
			t.Errorf("%q lost the claim with %v, want ErrBadLogin", r.pw, r.err)
		}
	}
	if winner == "" {
		t.Fatal("nobody claimed the account")
	}
	if _, first, err := a.CheckPassword(ctx, "alice", winner); err != nil || first {
		t.Errorf("the winner's next login = %v, %v", first, err)
	}
}
