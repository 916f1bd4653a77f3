package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/store"
)

// TestAddUsersNeverClaimable: an instructor gets a generated password, a
// student a setup code; neither account waits for whoever types its name.
func TestAddUsersNeverClaimable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admins, err := f.hub.AddUsers(ctx, []string{"ta"}, true)
	if err != nil || len(admins) != 1 {
		t.Fatalf("AddUsers(admin) = %+v, %v", admins, err)
	}
	ta := admins[0]
	if !ta.Generated || len(ta.Password) < auth.MinPasswordLen || ta.SetupCode != "" || ta.MustSetPassword || !ta.Admin {
		t.Errorf("the instructor's account: %+v", ta)
	}
	if bcrypt.CompareHashAndPassword([]byte(ta.PasswordHash), []byte(ta.Password)) != nil {
		t.Error("the generated password is not the instructor's")
	}
	students, err := f.hub.AddUsers(ctx, []string{"alice"}, false)
	if err != nil || len(students) != 1 {
		t.Fatalf("AddUsers = %+v, %v", students, err)
	}
	alice := students[0]
	if alice.SetupCode == "" || alice.Password != "" || alice.PasswordHash != "" || !alice.MustSetPassword {
		t.Errorf("the student's account: %+v", alice)
	}
	if ok, _ := f.store.HasSetupCode(ctx, "alice"); !ok {
		t.Error("alice has no setup code in the store")
	}
	a := &auth.Authenticator{Store: f.store}
	for _, name := range []string{"ta", "alice"} {
		if _, _, err := a.CheckPassword(ctx, name, "chosen by a stranger"); !errors.Is(err, auth.ErrBadLogin) {
			t.Errorf("claiming %s by name = %v, want ErrBadLogin", name, err)
		}
	}
}

func TestSetUpAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created, err := f.hub.AddUsers(ctx, []string{"alice", "bob"}, false)
	if err != nil {
		t.Fatal(err)
	}
	code := created[0].SetupCode
	before, _ := f.store.GetUser(ctx, "alice")
	var rule *auth.PasswordRuleError
	if _, err := f.hub.SetUpAccount(ctx, "alice", code, "short"); !errors.As(err, &rule) {
		t.Errorf("a short password = %v, want a rule error", err)
	}
	for _, try := range []struct{ name, code string }{
		{"alice", created[1].SetupCode}, {"bob", code}, {"alice", ""}, {"alice", "AAAA-AAAA-AAAA"}, {"nobody", code},
	} {
		if _, err := f.hub.SetUpAccount(ctx, try.name, try.code, "a good password"); !errors.Is(err, ErrBadSetupCode) {
			t.Errorf("SetUpAccount(%s, %q) = %v, want ErrBadSetupCode", try.name, try.code, err)
		}
	}
	if after, _ := f.store.GetUser(ctx, "alice"); after != before {
		t.Errorf("failed setups changed alice: %+v, want %+v", after, before)
	}
	// Typed as people type it off paper.
	typed := " " + code[:4] + " " + code[5:9] + " " + code[10:] + " "
	if _, err := f.hub.SetUpAccount(ctx, "alice", typed, "a good password"); err != nil {
		t.Fatalf("SetUpAccount with %q: %v", typed, err)
	}
	a := &auth.Authenticator{Store: f.store}
	if _, _, err := a.CheckPassword(ctx, "alice", "a good password"); err != nil {
		t.Errorf("the chosen password: %v", err)
	}
	if _, err := f.hub.SetUpAccount(ctx, "alice", code, "another password"); !errors.Is(err, ErrBadSetupCode) {
		t.Errorf("a used code = %v, want ErrBadSetupCode", err)
	}
	if _, _, err := a.CheckPassword(ctx, "alice", "a good password"); err != nil {
		t.Errorf("a used code changed the password: %v", err)
	}
}

// TestResetUser: a reset takes every credential but the running server's
// token, which the next start replaces.
func TestResetUser(t *testing.T) {
	f := newFixture(t, "alice")
	f.sp.KeepTokens = true
	ctx := context.Background()
	f.hub.Boot(ctx)
	if _, err := f.hub.SetUpAccount(ctx, "alice", mustCode(t, f, "alice"), "alice's password"); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	serverTok := f.sp.Requests()[0].APIToken
	api, _, err := f.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	oauth, _, err := f.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindOAuth, ClientID: OAuthClientID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	session, _, err := f.store.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	acct, err := f.hub.ResetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if acct.SetupCode == "" || acct.Password != "" || acct.PasswordHash != "" {
		t.Errorf("the reset student: %+v", acct)
	}
	for what, secret := range map[string]string{"API token": api, "OAuth token": oauth} {
		if _, err := f.store.LookupToken(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the %s survived the reset: %v", what, err)
		}
	}
	if _, err := f.store.LookupSession(ctx, session); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session survived the reset: %v", err)
	}
	a := &auth.Authenticator{Store: f.store}
	if _, _, err := a.CheckPassword(ctx, "alice", "alice's password"); !errors.Is(err, auth.ErrBadLogin) {
		t.Errorf("the old password = %v, want ErrBadLogin", err)
	}
	// The running server keeps its token and keeps running.
	if s, _ := f.hub.Status(ctx, "alice"); !s.Ready {
		t.Errorf("the reset stopped alice's server: %+v", s)
	}
	if _, err := f.store.LookupToken(ctx, serverTok); err != nil {
		t.Errorf("the running server's token went: %v", err)
	}
	// Its next start gets a new one; the old one stops working.
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	reqs := f.sp.Requests()
	if next := reqs[len(reqs)-1].APIToken; next == serverTok {
		t.Error("the start after the reset reused the server token from before it")
	}
	if _, err := f.store.LookupToken(ctx, serverTok); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the server token from before the reset still works: %v", err)
	}
	// A start without a reset in between keeps the kept container's token.
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	reqs = f.sp.Requests()
	if reqs[len(reqs)-1].APIToken != reqs[len(reqs)-2].APIToken {
		t.Error("a plain restart replaced the server token")
	}

	// An instructor's reset gives a password, never a code.
	if _, err := f.hub.AddUsers(ctx, []string{"ta"}, true); err != nil {
		t.Fatal(err)
	}
	acct, err = f.hub.ResetUser(ctx, "ta")
	if err != nil || acct.Password == "" || acct.SetupCode != "" || acct.MustSetPassword {
		t.Fatalf("ResetUser(ta) = %+v, %v", acct, err)
	}
	if _, _, err := a.CheckPassword(ctx, "ta", acct.Password); err != nil {
		t.Errorf("the instructor's new password: %v", err)
	}
	if _, err := f.hub.ResetUser(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("ResetUser(nobody) = %v, want ErrNoSuchUser", err)
	}
}

func TestSetPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.CreateUser(ctx, store.NewUser{Name: "owner", Admin: true}); err != nil {
		t.Fatal(err)
	}
	var rule *auth.PasswordRuleError
	if err := f.hub.SetPassword(ctx, "owner", "short"); !errors.As(err, &rule) {
		t.Errorf("a short password = %v, want a rule error", err)
	}
	if u, _ := f.store.GetUser(ctx, "owner"); u.PasswordHash != "" {
		t.Error("a short password was set")
	}
	if err := f.hub.SetPassword(ctx, "owner", "the owner's password"); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Store: f.store}
	if _, _, err := a.CheckPassword(ctx, "owner", "the owner's password"); err != nil {
		t.Errorf("the owner's password: %v", err)
	}
	if err := f.hub.SetPassword(ctx, "nobody", "a good password"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("SetPassword(nobody) = %v, want ErrNoSuchUser", err)
	}
}

// mustCode gives name a fresh setup code and returns it.
func mustCode(t *testing.T, f *fixture, name string) string {
	t.Helper()
	code := auth.NewSetupCode()
	if err := f.store.PutSetupCode(context.Background(), name, auth.NormalizeSetupCode(code), time.Hour); err != nil {
		t.Fatal(err)
	}
	return code
}

func TestRenewSetupCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created, err := f.hub.AddUsers(ctx, []string{"alice", "bob"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.hub.AddUsers(ctx, []string{"ta"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.hub.SetUpAccount(ctx, "bob", created[1].SetupCode, "bob's password"); err != nil {
		t.Fatal(err)
	}
	renewed, err := f.hub.RenewSetupCodes(ctx, []string{"alice", "bob", "ta"})
	if err != nil || len(renewed) != 1 || renewed[0].Name != "alice" || renewed[0].SetupCode == created[0].SetupCode {
		t.Fatalf("RenewSetupCodes = %+v, %v; want a new code for alice only", renewed, err)
	}
	if _, err := f.hub.SetUpAccount(ctx, "alice", created[0].SetupCode, "a good password"); !errors.Is(err, ErrBadSetupCode) {
		t.Errorf("the replaced code = %v, want ErrBadSetupCode", err)
	}
	if _, err := f.hub.SetUpAccount(ctx, "alice", renewed[0].SetupCode, "a good password"); err != nil {
		t.Errorf("the new code: %v", err)
	}
}
