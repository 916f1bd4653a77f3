package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/classhub/classhub/hub/store"
)

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addUser("alice", "alices-password", false)
	c := e.client()
	wantRedirect(t, c.login("alice", "alices-password", ""), http.StatusFound, "/hub/")
	other := e.client()
	other.addr = "192.0.2.50"
	wantRedirect(t, other.login("alice", "alices-password", ""), http.StatusFound, "/hub/")
	wantBody(t, c.get("/hub/home"), `href="/hub/password"`)

	form := c.get("/hub/password")
	wantStatus(t, form, http.StatusOK)
	wantBody(t, form, `name="old"`, `name="confirm"`)
	tok := form.xsrf(t)
	before, _ := e.store.GetUser(ctx, "alice")
	for _, bad := range []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"a forged form", url.Values{"old": {"alices-password"}, "password": {"stolen-password"}, "confirm": {"stolen-password"}}, http.StatusForbidden, "did not come from this hub"},
		{"a wrong old password", url.Values{"_xsrf": {tok}, "old": {"guess"}, "password": {"stolen-password"}, "confirm": {"stolen-password"}}, http.StatusForbidden, "current password is not right"},
		{"mismatched passwords", url.Values{"_xsrf": {tok}, "old": {"alices-password"}, "password": {"new-password-1"}, "confirm": {"new-password-2"}}, http.StatusBadRequest, "not the same"},
		{"a short password", url.Values{"_xsrf": {tok}, "old": {"alices-password"}, "password": {"short"}, "confirm": {"short"}}, http.StatusBadRequest, "too short: use at least 8 characters"},
	} {
		p := c.post("/hub/password", bad.form)
		if p.StatusCode != bad.status {
			t.Errorf("%s: status %d, want %d:\n%s", bad.name, p.StatusCode, bad.status, p.Body)
		}
		wantBody(t, p, bad.message)
		if after, _ := e.store.GetUser(ctx, "alice"); after != before {
			t.Fatalf("%s changed alice: %+v", bad.name, after)
		}
	}
	wantStatus(t, other.get("/hub/home"), http.StatusOK)

	p := c.post("/hub/password", url.Values{"_xsrf": {tok}, "old": {"alices-password"}, "password": {"alices-new-password"}, "confirm": {"alices-new-password"}})
	wantRedirect(t, p, http.StatusSeeOther, "/hub/password?changed=1")
	wantBody(t, c.get("/hub/password?changed=1"), "Your password is changed")
	// This browser stays logged in; the other one is logged out.
	wantStatus(t, c.get("/hub/home"), http.StatusOK)
	wantRedirect(t, other.get("/hub/home"), http.StatusFound, "/hub/login?next=%2Fhub%2Fhome")
	wantStatus(t, e.client().login("alice", "alices-password", ""), http.StatusForbidden)
	wantRedirect(t, e.client().login("alice", "alices-new-password", ""), http.StatusFound, "/hub/")
}

// TestChangePasswordWithoutOne: the laptop's owner, who logs in by login
// link, has no password to type; the page says where to set one.
func TestChangePasswordWithoutOne(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.CreateUser(context.Background(), store.NewUser{Name: "owner", Admin: true}); err != nil {
		t.Fatal(err)
	}
	c := e.loggedIn("owner")
	p := c.get("/hub/password")
	wantBody(t, p, "has no password", "users passwd owner")
	wantNoBody(t, p, `name="old"`)
	p = c.post("/hub/password", url.Values{"_xsrf": {c.csrf()}, "old": {""}, "password": {"owners-password"}, "confirm": {"owners-password"}})
	wantStatus(t, p, http.StatusBadRequest)
	if u, _ := e.store.GetUser(context.Background(), "owner"); u.PasswordHash != "" {
		t.Error("a password was set without the current one")
	}
}

// TestSetupCodesCSV: new setup codes to print need an admin and the admin
// page's anti-forgery token; they replace the old codes of the students
// still waiting, and no one else's.
func TestSetupCodesCSV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addUser("root", "root-password", true)
	e.addUser("bob", "bobs-password", false)
	created, err := e.hub.AddUsers(ctx, []string{"alice"}, false)
	if err != nil {
		t.Fatal(err)
	}
	root, bob := e.loggedIn("root"), e.loggedIn("bob")
	wantStatus(t, bob.post("/hub/admin/setup-codes", url.Values{"_xsrf": {bob.csrf()}}), http.StatusForbidden)
	wantStatus(t, e.client().post("/hub/admin/setup-codes", url.Values{}), http.StatusForbidden)
	wantStatus(t, root.post("/hub/admin/setup-codes", url.Values{}), http.StatusForbidden)
	wantStatus(t, root.post("/hub/admin/setup-codes", url.Values{"_xsrf": {bob.csrf()}}), http.StatusForbidden)
	if _, err := e.hub.SetUpAccount(ctx, "alice", created[0].SetupCode, "x-still-valid"); err != nil {
		t.Fatalf("a refused export replaced alice's code: %v", err)
	}

	// alice set up her account just now: make another waiting student.
	created, err = e.hub.AddUsers(ctx, []string{"carol"}, false)
	if err != nil {
		t.Fatal(err)
	}
	p := root.post("/hub/admin/setup-codes", url.Values{"_xsrf": {root.csrf()}})
	wantStatus(t, p, http.StatusOK)
	if ct, cc := p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"); ct != "text/csv; charset=utf-8" || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}
	rows := csvRows(t, p.Body)
	if len(rows) != 2 || rows[1][0] != "carol" || rows[1][2] == "" || rows[1][3] != "http://hub.test/" {
		t.Fatalf("CSV %q", p.Body)
	}
	if _, err := e.hub.SetUpAccount(ctx, "carol", created[0].SetupCode, "carols-password"); err == nil {
		t.Error("carol's old code still works")
	}
	if _, err := e.hub.SetUpAccount(ctx, "carol", rows[1][2], "carols-password"); err != nil {
		t.Errorf("carol's new code: %v", err)
	}
	// Nobody left waiting: the page says so.
	p = root.post("/hub/admin/setup-codes", url.Values{"_xsrf": {root.csrf()}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "nobody needs a setup code")
}
