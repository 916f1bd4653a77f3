package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// setup posts the first-login form as a browser does.
func (c *client) setup(user, code, pw, confirm string) page {
	c.e.t.Helper()
	form := c.get("/hub/setup")
	wantStatus(c.e.t, form, http.StatusOK)
	return c.post("/hub/setup", url.Values{"_xsrf": {form.xsrf(c.e.t)}, "username": {user}, "code": {code},
		"password": {pw}, "confirm": {confirm}})
}

// TestPreCreatedStudentNeedsTheCode: a student an instructor added
// cannot be claimed by typing the name, nor with a wrong code, a used
// code or another student's; bad input says what is wrong and changes
// nothing; the right code sets the password once and logs them in.
func TestPreCreatedStudentNeedsTheCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created, err := e.hub.AddUsers(ctx, []string{"alice", "bob"}, false)
	if err != nil {
		t.Fatal(err)
	}
	code, bobsCode := created[0].SetupCode, created[1].SetupCode
	before, _ := e.store.GetUser(ctx, "alice")
	unchanged := func(when string) {
		t.Helper()
		if after, _ := e.store.GetUser(ctx, "alice"); after != before {
			t.Fatalf("%s changed alice: %+v, was %+v", when, after, before)
		}
	}

	// The login page sends first-timers to the setup page; typing the
	// name with a password of one's own gets nobody in.
	wantBody(t, e.client().get("/hub/login"), `href="/hub/setup"`)
	stranger := e.client()
	p := stranger.login("alice", "chosen by a stranger", "")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "Invalid username or password.")
	unchanged("typing alice's name")

	for i, bad := range []struct {
		name, user, code, pw, confirm string
		status                        int
		says                          string
	}{
		{"a wrong code", "alice", "AAAA-BBBB-CCCC", "alices-password", "alices-password", http.StatusForbidden, "do not match"},
		{"bob's code", "alice", bobsCode, "alices-password", "alices-password", http.StatusForbidden, "do not match"},
		{"no code", "alice", "", "alices-password", "alices-password", http.StatusForbidden, "do not match"},
		{"an unknown name", "nobody", code, "alices-password", "alices-password", http.StatusForbidden, "do not match"},
		{"a bad name", "Not A Name", code, "alices-password", "alices-password", http.StatusBadRequest, "may only hold"},
		{"mismatched passwords", "alice", code, "alices-password", "alices-passw0rd", http.StatusBadRequest, "not the same"},
		{"a short password", "alice", code, "short", "short", http.StatusBadRequest, "too short"},
	} {
		// Each from its own computer: this is about what each says, and
		// TestWrongSetupCodesAreThrottled about repeated wrong codes.
		c := e.client()
		c.addr = fmt.Sprintf("192.0.2.%d", 10+i)
		p := c.setup(bad.user, bad.code, bad.pw, bad.confirm)
		if p.StatusCode != bad.status || !strings.Contains(p.Body, bad.says) || c.session() != "" {
			t.Errorf("%s: status %d, session %v, want %d saying %q:\n%s", bad.name, p.StatusCode, c.session() != "", bad.status, bad.says, p.Body)
		}
		wantNoBody(t, p, code, bobsCode)
		unchanged(bad.name)
	}

	// The right code, typed as people type it off paper.
	c := e.client()
	p = c.setup(" alice ", strings.ToLower(strings.ReplaceAll(code, "-", " ")), "alices-password", "alices-password")
	wantRedirect(t, p, http.StatusFound, "/hub/spawn/alice")
	if s, err := e.store.LookupSession(ctx, c.session()); err != nil || s.User != "alice" {
		t.Fatalf("no session for alice after the setup: %+v, %v", s, err)
	}
	u, _ := e.store.GetUser(ctx, "alice")
	if u.MustSetPassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("alices-password")) != nil {
		t.Fatalf("alice's password is not the one chosen: %+v", u)
	}
	// A used code is spent.
	p = e.client().setup("alice", code, "takeover-password", "takeover-password")
	wantStatus(t, p, http.StatusForbidden)
	if u2, _ := e.store.GetUser(ctx, "alice"); u2 != u {
		t.Fatal("a used code changed alice's password")
	}
	wantRedirect(t, e.client().login("alice", "alices-password", ""), http.StatusFound, "/hub/")

	// Codes never reach the log or an API response.
	rootTok, _, err := e.store.CreateToken(ctx, apiTokenSpec("alice"))
	if err != nil {
		t.Fatal(err)
	}
	e.addUser("root", "root-password", true)
	adminTok, _, _ := e.store.CreateToken(ctx, apiTokenSpec("root"))
	for _, tok := range []string{rootTok, adminTok} {
		for _, path := range []string{"/hub/api/users", "/hub/api/users/bob", "/hub/api/user"} {
			if _, body := e.apiCall(false, tok, "GET", path, ""); strings.Contains(body, code) || strings.Contains(body, bobsCode) ||
				strings.Contains(body, strings.ReplaceAll(bobsCode, "-", "")) {
				t.Errorf("GET %s shows a setup code: %s", path, body)
			}
		}
	}
	if logs := e.logged(); strings.Contains(logs, code) || strings.Contains(logs, bobsCode) {
		t.Errorf("a setup code is in the log:\n%s", logs)
	}
}

// TestWrongSetupCodesAreThrottled: a wrong code counts as a failed login,
// so guessing codes from one machine is soon refused.
func TestWrongSetupCodesAreThrottled(t *testing.T) {
	e := newEnv(t)
	created, err := e.hub.AddUsers(context.Background(), []string{"alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("wrong setup codes were never throttled")
		}
		p := c.setup("alice", "AAAA-BBBB-"+strings.Repeat("C", 4), "alices-password", "alices-password")
		if p.StatusCode == http.StatusTooManyRequests {
			wantBody(t, p, "Too many wrong setup codes")
			break
		}
		wantStatus(t, p, http.StatusForbidden)
	}
	// Throttled means not even the right code is tried.
	wantStatus(t, c.setup("alice", created[0].SetupCode, "alices-password", "alices-password"), http.StatusTooManyRequests)
	if u, _ := e.store.GetUser(context.Background(), "alice"); u.PasswordHash != "" {
		t.Error("a throttled setup set the password")
	}
}

// TestClaimAccountsIsForStudentsOnly: a workshop's claim_accounts lets
// the first login take a pre-created student's account, never an
// instructor's.
func TestClaimAccountsIsForStudentsOnly(t *testing.T) {
	e := newEnv(t)
	e.setClaimAccounts(true)
	if _, err := e.hub.AddUsers(context.Background(), []string{"alice"}, false); err != nil {
		t.Fatal(err)
	}
	e.addUser("ta", "", true)
	wantRedirect(t, e.client().login("alice", "alices-password", ""), http.StatusFound, "/hub/")
	wantStatus(t, e.client().login("ta", "chosen by a stranger", ""), http.StatusForbidden)
	if u, _ := e.store.GetUser(context.Background(), "ta"); u.PasswordHash != "" {
		t.Error("the instructor was claimed")
	}
}

// csvRows reads CSV text.
func csvRows(t *testing.T, text string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", text, err)
	}
	return rows
}
