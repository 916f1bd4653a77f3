package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/classhub/classhub/hub/spawner"
)

func (e *env) volumeOf(user string) string {
	e.t.Helper()
	vs, _ := e.spawner.Volumes(context.Background())
	for _, v := range vs {
		if v.User == user {
			return v.Name
		}
	}
	return ""
}

// TestAdminResetAsksWhatToDoWithTheFiles: a reset and a delete ask first,
// keep the files by default, and delete them only with the name typed
// again; nobody else's server or files change.
func TestAdminResetAsksWhatToDoWithTheFiles(t *testing.T) {
	e, root := adminEnv(t)
	e.start("alice")
	e.start("bob")
	alice, bob := e.volumeOf("alice"), e.volumeOf("bob")
	wantBody(t, root.get("/hub/admin"), `data-key="reset:alice"`, `href="/hub/admin/volumes"`)
	tok := root.csrf()
	post := func(form url.Values) page {
		form.Set("_xsrf", tok)
		return root.post("/hub/admin/action", form)
	}
	p := post(url.Values{"action": {"reset"}, "user": {"alice"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Reset alice&#39;s server?", "Reset, keep their files", `name="typed"`, "Reset and delete alice&#39;s files")
	if s, _ := e.spawner.Status(context.Background(), "alice"); s.State != spawner.StateRunning {
		t.Fatalf("asking reset alice's server: %+v", s)
	}
	wantRedirect(t, post(url.Values{"action": {"reset"}, "user": {"alice"}, "confirm": {"yes"}}), http.StatusSeeOther, "/hub/admin?done=reset&user=alice")
	if s, _ := e.spawner.Status(context.Background(), "alice"); s.State != spawner.StateMissing || e.volumeOf("alice") != alice {
		t.Errorf("after a reset: %+v, volume %q", s, e.volumeOf("alice"))
	}
	for _, typed := range []string{"", "bob", "Alice"} {
		p := post(url.Values{"action": {"reset"}, "user": {"alice"}, "confirm": {"yes"}, "wipe": {"yes"}, "typed": {typed}})
		wantStatus(t, p, http.StatusBadRequest)
		wantBody(t, p, "type their name, alice, again")
	}
	if e.volumeOf("alice") != alice {
		t.Fatal("an unconfirmed wipe deleted alice's files")
	}
	p = post(url.Values{"action": {"start"}, "user": {"alice"}, "wipe": {"yes"}, "typed": {"alice"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantRedirect(t, post(url.Values{"action": {"reset"}, "user": {"alice"}, "confirm": {"yes"}, "wipe": {"yes"}, "typed": {"alice"}}),
		http.StatusSeeOther, "/hub/admin?done=reset-wipe&user=alice")
	if e.volumeOf("alice") != "" || e.volumeOf("bob") != bob {
		t.Errorf("after wiping alice: alice %q, bob %q", e.volumeOf("alice"), e.volumeOf("bob"))
	}
	if s, _ := e.spawner.Status(context.Background(), "bob"); s.State != spawner.StateRunning {
		t.Errorf("wiping alice touched bob's server: %+v", s)
	}

	p = post(url.Values{"action": {"delete"}, "user": {"bob"}})
	wantBody(t, p, "Delete bob, keep their files", "Delete bob and their files")
	p = post(url.Values{"action": {"delete"}, "user": {"bob"}, "confirm": {"yes"}, "wipe": {"yes"}, "typed": {"alice"}})
	wantStatus(t, p, http.StatusBadRequest)
	if _, err := e.store.GetUser(context.Background(), "bob"); err != nil {
		t.Fatal("an unconfirmed delete with files deleted bob")
	}
	wantRedirect(t, post(url.Values{"action": {"delete"}, "user": {"bob"}, "confirm": {"yes"}}), http.StatusSeeOther, "/hub/admin?done=delete&user=bob")
	if e.volumeOf("bob") != bob {
		t.Error("deleting bob without a wipe deleted his files")
	}
}

// TestAdminKeptFiles: the kept files page lists a deleted student's
// files, restores them to an account named on purpose and deletes them
// with the name typed again; students cannot reach it.
func TestAdminKeptFiles(t *testing.T) {
	e, root := adminEnv(t)
	e.start("bob")
	bob := e.volumeOf("bob")
	if err := e.hub.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	alice := e.loggedIn("alice")
	wantStatus(t, alice.get("/hub/admin/volumes"), http.StatusForbidden)
	e.start("root")
	for _, action := range []string{"reset", "delete"} {
		form := url.Values{"_xsrf": {alice.csrf()}, "action": {action}, "user": {"root"}, "confirm": {"yes"}, "wipe": {"yes"}, "typed": {"root"}}
		wantStatus(t, alice.post("/hub/admin/action", form), http.StatusForbidden)
	}
	if s, _ := e.spawner.Status(context.Background(), "root"); s.State != spawner.StateRunning || e.volumeOf("root") == "" {
		t.Errorf("a student reset or wiped root's server: %+v, volume %q", s, e.volumeOf("root"))
	}
	wantStatus(t, alice.post("/hub/admin/volumes", url.Values{"_xsrf": {alice.csrf()}, "action": {"restore"}, "volume": {bob}, "user": {"alice"}}), http.StatusForbidden)
	if e.volumeOf("alice") != "" {
		t.Fatal("a student restored a kept volume to themselves")
	}

	p := root.get("/hub/admin/volumes")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, bob, "Restore", "Delete for good")
	tok := root.csrf()
	post := func(form url.Values) page {
		form.Set("_xsrf", tok)
		return root.post("/hub/admin/volumes", form)
	}
	p = post(url.Values{"action": {"delete"}, "volume": {bob}, "typed": {"alice"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "type their name, bob, again")
	p = post(url.Values{"action": {"restore"}, "volume": {bob}, "user": {"nobody"}})
	wantStatus(t, p, http.StatusNotFound)
	wantBody(t, p, "There is no user nobody")
	p = post(url.Values{"action": {"restore"}, "volume": {"classhub-nothing-work"}, "user": {"alice"}})
	wantStatus(t, p, http.StatusNotFound)
	wantRedirect(t, post(url.Values{"action": {"restore"}, "volume": {bob}, "user": {"alice"}}), http.StatusSeeOther, "/hub/admin/volumes?done=restore&user=alice")
	if e.volumeOf("alice") == "" {
		t.Error("alice has no files after the restore")
	}
	wantBody(t, root.get("/hub/admin/volumes?done=restore&user=alice"), "Restored the files to alice", "No kept files")
}
