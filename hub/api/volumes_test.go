package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/spawner"
)

// own calls one of classhub's own endpoints, which the upstream spec does
// not describe.
func (e *env) own(method, path, user string, body any) (int, string) {
	e.t.Helper()
	var rb []byte
	if body != nil {
		rb, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(rb))
	req.Header.Set("Authorization", "token "+e.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

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

// TestResetAndWipeFiles: JupyterHub's DELETE .../server {"remove": true}
// deletes the container and keeps the files; classhub's DELETE
// .../server/files deletes them only for an admin, with the name typed
// again and the server gone, and touches no one else.
func TestResetAndWipeFiles(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob"} {
		if resp, _ := e.call("POST", "/hub/api/users/"+u+"/server", u, nil); resp.StatusCode != 201 {
			t.Fatalf("start %s: %s", u, resp.Status)
		}
	}
	alice, bob := e.volumeOf("alice"), e.volumeOf("bob")
	if alice == "" || bob == "" {
		t.Fatal("the servers made no volumes")
	}
	// A student may not wipe anyone's files, their own neither.
	for _, u := range []string{"alice", "bob"} {
		if code, _ := e.own("DELETE", "/hub/api/users/alice/server/files", u, map[string]string{"confirm": "alice"}); code != 403 && code != 404 {
			t.Errorf("%s wiping alice's files = %d", u, code)
		}
	}
	if code, body := e.own("DELETE", "/hub/api/users/alice/server/files", "teacher", map[string]string{"confirm": "alice"}); code != 400 || !strings.Contains(body, "delete the server first") {
		t.Errorf("wipe while the server exists = %d %s", code, body)
	}
	if resp, _ := e.call("DELETE", "/hub/api/users/alice/server", "teacher", map[string]bool{"remove": true}); resp.StatusCode != 204 {
		t.Fatalf("remove alice's server: %s", resp.Status)
	}
	if s, _ := e.spawner.Status(context.Background(), "alice"); s.State != spawner.StateMissing {
		t.Errorf("remove left the container: %+v", s)
	}
	for _, body := range []any{nil, map[string]string{}, map[string]string{"confirm": "bob"}, map[string]string{"confirm": "ALICE"}} {
		if code, msg := e.own("DELETE", "/hub/api/users/alice/server/files", "teacher", body); code != 400 || !strings.Contains(msg, "type their name") {
			t.Errorf("wipe confirmed with %v = %d %s", body, code, msg)
		}
	}
	if e.volumeOf("alice") != alice {
		t.Fatal("an unconfirmed wipe deleted alice's files")
	}
	if code, msg := e.own("DELETE", "/hub/api/users/nobody/server/files", "teacher", map[string]string{"confirm": "nobody"}); code != 404 {
		t.Errorf("wipe of nobody = %d %s", code, msg)
	}
	if code, msg := e.own("DELETE", "/hub/api/users/alice/server/files", "teacher", map[string]string{"confirm": "alice"}); code != 204 {
		t.Fatalf("confirmed wipe = %d %s", code, msg)
	}
	if e.volumeOf("alice") != "" || e.volumeOf("bob") != bob {
		t.Errorf("after wiping alice: alice %q, bob %q", e.volumeOf("alice"), e.volumeOf("bob"))
	}
}

// TestKeptVolumes: only an admin lists, restores and deletes the kept
// volumes of deleted students; a student cannot take one.
func TestKeptVolumes(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.call("POST", "/hub/api/users/bob/server", "bob", nil); resp.StatusCode != 201 {
		t.Fatalf("start bob: %s", resp.Status)
	}
	bob := e.volumeOf("bob")
	if resp, _ := e.call("DELETE", "/hub/api/users/bob", "teacher", nil); resp.StatusCode != 204 {
		t.Fatalf("delete bob: %s", resp.Status)
	}
	code, body := e.own("GET", "/hub/api/volumes", "alice", nil)
	if code != 403 || strings.Contains(body, bob) {
		t.Errorf("a student listing kept volumes = %d %s", code, body)
	}
	if code, _ := e.own("POST", "/hub/api/volumes/"+bob+"/restore", "alice", map[string]string{"user": "alice"}); code != 403 {
		t.Errorf("a student restoring a kept volume to themselves = %d", code)
	}
	if code, _ := e.own("DELETE", "/hub/api/volumes/"+bob, "alice", map[string]string{"confirm": "bob"}); code != 403 {
		t.Errorf("a student deleting a kept volume = %d", code)
	}
	code, body = e.own("GET", "/hub/api/volumes", "teacher", nil)
	var list []volumeJSON
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list) != 1 || list[0].Name != bob || list[0].User != "bob" {
		t.Fatalf("kept volumes = %d %s", code, body)
	}
	if code, msg := e.own("POST", "/hub/api/volumes/"+bob+"/restore", "teacher", map[string]string{"user": "nobody"}); code != 404 {
		t.Errorf("restore to nobody = %d %s", code, msg)
	}
	if code, msg := e.own("POST", "/hub/api/volumes/"+bob+"/restore", "teacher", map[string]string{}); code != 400 {
		t.Errorf("restore to no one = %d %s", code, msg)
	}
	if code, msg := e.own("DELETE", "/hub/api/volumes/"+bob, "teacher", map[string]string{"confirm": "alice"}); code != 400 {
		t.Errorf("delete confirmed with another name = %d %s", code, msg)
	}
	if code, msg := e.own("DELETE", "/hub/api/volumes/classhub-nothing-work", "teacher", map[string]string{"confirm": "bob"}); code != 404 {
		t.Errorf("delete of no volume = %d %s", code, msg)
	}
	if code, msg := e.own("POST", "/hub/api/volumes/"+bob+"/restore", "teacher", map[string]string{"user": "alice"}); code != 204 {
		t.Fatalf("restore to alice = %d %s", code, msg)
	}
	if v := e.volumeOf("alice"); v == "" {
		t.Error("alice has no volume after the restore")
	}
	// Alice's files are hers now, not a kept volume to delete.
	if code, _ := e.own("DELETE", "/hub/api/volumes/"+e.volumeOf("alice"), "teacher", map[string]string{"confirm": "alice"}); code != 404 {
		t.Errorf("delete of a live account's volume = %d", code)
	}
}
