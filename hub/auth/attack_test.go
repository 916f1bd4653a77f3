package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/store"
)

// TestResetStudentNotClaimedInClaimingClass: a student's account the
// instructor reset waits for its new setup code; even in a class that
// claims accounts, typing its name and a password of one's own gets nobody
// in (else a reset hands the student's files to whoever types first).
func TestResetStudentNotClaimedInClaimingClass(t *testing.T) {
	a, st := newAuth(t)
	a.ClaimAccounts = func() bool { return true }
	ctx := context.Background()
	hash, _ := HashPassword("the student's own")
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "bob", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ResetCredentials(ctx, "bob", store.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, first, err := a.CheckPassword(ctx, "bob", "mallory's password"); !errors.Is(err, ErrBadLogin) || first {
		t.Errorf("claiming a reset account = %v, %v; want ErrBadLogin", first, err)
	}
	if u, _ := st.GetUser(ctx, "bob"); u.PasswordHash != "" {
		t.Errorf("the reset account got a password: %+v", u)
	}
	// The owner (an instructor without a password, not waiting for one)
	// cannot be claimed either.
	if _, first, err := a.CheckPassword(ctx, "teacher", "i am the teacher now"); !errors.Is(err, ErrBadLogin) || first {
		t.Errorf("claiming the owner = %v, %v; want ErrBadLogin", first, err)
	}
}

// TestCSRFTokenIsPerSession: one session's anti-forgery token (a student's
// own, which their pages show them) never passes for another's session,
// in the header, the query or an urlencoded body; nor does an empty one.
func TestCSRFTokenIsPerSession(t *testing.T) {
	mine := store.Session{CSRFSecret: "student-secret"}
	victim := store.Session{CSRFSecret: "teacher-secret"}
	reqs := map[string]func() *http.Request{
		"header": func() *http.Request {
			r := httptest.NewRequest("POST", "/hub/api/users/alice/server", nil)
			r.Header.Set(XSRFHeader, mine.CSRFSecret)
			return r
		},
		"query": func() *http.Request {
			return httptest.NewRequest("POST", "/hub/api/users/alice/server?_xsrf="+url.QueryEscape(mine.CSRFSecret), nil)
		},
		"form": func() *http.Request {
			r := httptest.NewRequest("POST", "/hub/api/users/alice/server", strings.NewReader("_xsrf="+url.QueryEscape(mine.CSRFSecret)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		},
	}
	for name, mk := range reqs {
		if !CheckCSRF(mk(), mine) {
			t.Errorf("%s: the session's own token refused", name)
		}
		if CheckCSRF(mk(), victim) {
			t.Errorf("%s: another session's token accepted", name)
		}
	}
	if CheckCSRF(httptest.NewRequest("POST", "/hub/api/users/alice/server?_xsrf=", nil), store.Session{}) {
		t.Error("an empty token accepted for a session without a secret")
	}
}
