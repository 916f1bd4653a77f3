package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/spawner"
)

func (f *fixture) volumes(t *testing.T) map[string]spawner.Volume {
	t.Helper()
	vs, err := f.sp.Volumes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]spawner.Volume{}
	for _, v := range vs {
		m[v.Name] = v
	}
	return m
}

func (f *fixture) kept(t *testing.T) []string {
	t.Helper()
	vs, err := f.hub.KeptVolumes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	return names
}

func (f *fixture) account(t *testing.T, name string) spawner.Account {
	t.Helper()
	u, err := f.store.GetUser(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return AccountOf(u)
}

// TestResetKeepsOrWipesFiles: a reset deletes the server and keeps the
// files; a wipe needs the student's name typed again, and a wrong or
// missing one changes nothing.
func TestResetKeepsOrWipesFiles(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	f.mustStart(t, "bob")
	acct := f.account(t, "alice")
	reqs := f.sp.Requests()
	if got := reqs[0].Account; got.Key != acct.Key || acct.Key == "" {
		t.Fatalf("start request's account = %+v, want %+v", got, acct)
	}
	vol := spawner.AccountVolumeName("alice", acct.Key)

	if err := f.hub.ResetServer(ctx, "alice", false, ""); err != nil {
		t.Fatalf("reset keeping files: %v", err)
	}
	if sv, _ := f.sp.Status(ctx, "alice"); sv.State != spawner.StateMissing {
		t.Errorf("reset left the container: %+v", sv)
	}
	if _, ok := f.volumes(t)[vol]; !ok {
		t.Error("a reset without wipe deleted the files")
	}
	for _, typed := range []string{"", "Alice", "bob", "alice "} {
		if err := f.hub.ResetServer(ctx, "alice", true, typed); !errors.Is(err, ErrConfirm) {
			t.Errorf("wipe confirmed with %q = %v, want ErrConfirm", typed, err)
		}
	}
	if _, ok := f.volumes(t)[vol]; !ok {
		t.Error("an unconfirmed wipe deleted the files")
	}
	if err := f.hub.ResetServer(ctx, "nobody", true, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("reset of nobody = %v, want ErrNoSuchUser", err)
	}
	if err := f.hub.ResetServer(ctx, "alice", true, "alice"); err != nil {
		t.Fatalf("confirmed wipe: %v", err)
	}
	vs := f.volumes(t)
	if _, ok := vs[vol]; ok {
		t.Error("a confirmed wipe kept the files")
	}
	if _, ok := vs[spawner.AccountVolumeName("bob", f.account(t, "bob").Key)]; !ok {
		t.Error("wiping alice touched bob's files")
	}
	if sv, _ := f.sp.Status(ctx, "bob"); sv.State != spawner.StateRunning {
		t.Errorf("wiping alice touched bob's server: %+v", sv)
	}
	if err := f.hub.DeleteUserAndFiles(ctx, "bob", "alice"); !errors.Is(err, ErrConfirm) {
		t.Errorf("delete bob and files confirmed with alice = %v", err)
	}
	if _, err := f.store.GetUser(ctx, "bob"); err != nil {
		t.Errorf("an unconfirmed delete deleted bob: %v", err)
	}
	if err := f.hub.DeleteUserAndFiles(ctx, "bob", "bob"); err != nil {
		t.Fatalf("delete bob and files: %v", err)
	}
	if len(f.volumes(t)) != 0 || len(f.kept(t)) != 0 {
		t.Errorf("volumes after deleting bob with his files: %v", f.volumes(t))
	}
}

// TestDeletedStudentsFilesAreKeptNotInherited: a deleted student's volume
// is kept and listed; a new student of the same name starts without it;
// only an instructor's restore gives it to an account, one without files.
func TestDeletedStudentsFilesAreKeptNotInherited(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	old := spawner.AccountVolumeName("alice", f.account(t, "alice").Key)
	if err := f.hub.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := f.kept(t); len(got) != 1 || got[0] != old {
		t.Fatalf("kept volumes after deleting alice = %v, want [%s]", got, old)
	}
	// SQLite gives the deleted newest id to the next user: the key must
	// still differ.
	if _, err := f.hub.AddUsers(ctx, []string{"alice"}, false); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	now := spawner.AccountVolumeName("alice", f.account(t, "alice").Key)
	if now == old {
		t.Fatalf("the new alice got the old alice's volume %s", old)
	}
	if got := f.kept(t); len(got) != 1 || got[0] != old {
		t.Errorf("kept volumes = %v, want only the old alice's", got)
	}

	if err := f.hub.ResetServer(ctx, "alice", false, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.hub.RestoreVolume(ctx, old, "alice"); !errors.Is(err, spawner.ErrHasFiles) {
		t.Errorf("restore onto an account with files = %v, want ErrHasFiles", err)
	}
	if err := f.hub.RestoreVolume(ctx, now, "bob"); !errors.Is(err, ErrNotKept) {
		t.Errorf("restore of a live account's volume = %v, want ErrNotKept", err)
	}
	if err := f.hub.RestoreVolume(ctx, old, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("restore to nobody = %v, want ErrNoSuchUser", err)
	}
	if err := f.hub.RestoreVolume(ctx, "classhub-nothing-work", "bob"); !errors.Is(err, ErrNotKept) {
		t.Errorf("restore of no volume = %v, want ErrNotKept", err)
	}
	if err := f.hub.DeleteVolume(ctx, now, "alice"); !errors.Is(err, ErrNotKept) {
		t.Errorf("delete of a live account's volume = %v, want ErrNotKept", err)
	}
	if err := f.hub.DeleteVolume(ctx, old, ""); !errors.Is(err, ErrConfirm) {
		t.Errorf("delete of a kept volume unconfirmed = %v, want ErrConfirm", err)
	}
	if err := f.hub.RestoreVolume(ctx, old, "bob"); err != nil {
		t.Fatalf("restore to bob: %v", err)
	}
	if _, ok := f.volumes(t)[spawner.AccountVolumeName("bob", f.account(t, "bob").Key)]; !ok {
		t.Error("bob has no volume after the restore")
	}
	if got := f.kept(t); len(got) != 0 {
		t.Errorf("kept volumes after the restore = %v", got)
	}
}

// TestOldStyleVolumes: a volume an older classhub named by the user alone
// is its user's when the account is not younger than it, and kept when
// the account is.
func TestOldStyleVolumes(t *testing.T) {
	f := newFixture(t, "carol", "dave")
	ctx := context.Background()
	carol, _ := f.store.GetUser(ctx, "carol")
	f.sp.AddVolume(spawner.Volume{Name: spawner.VolumeName("carol"), User: "carol", Created: carol.Created.Add(-time.Hour)})
	f.sp.AddVolume(spawner.Volume{Name: spawner.VolumeName("dave"), User: "dave", Created: time.Now().Add(time.Minute)})
	f.sp.AddVolume(spawner.Volume{Name: spawner.VolumeName("erin"), User: "erin", Created: time.Now()})
	got := map[string]bool{}
	for _, n := range f.kept(t) {
		got[n] = true
	}
	if !got[spawner.VolumeName("carol")] || !got[spawner.VolumeName("erin")] || got[spawner.VolumeName("dave")] || len(got) != 2 {
		t.Errorf("kept = %v, want carol's older volume and erin's", got)
	}
	if err := f.hub.DeleteVolume(ctx, spawner.VolumeName("erin"), "erin"); err != nil {
		t.Errorf("delete erin's kept volume: %v", err)
	}
}

// TestAccountKeysOutliveReusedIDs: SQLite hands a deleted newest user's
// id to the next user; the key, which names the files, still differs.
func TestAccountKeysOutliveReusedIDs(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := AddUsers(ctx, st, []string{"zed"}, false); err != nil {
		t.Fatal(err)
	}
	first, _ := st.GetUser(ctx, "zed")
	if err := DeleteUser(ctx, st, nil, "zed"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // creation times are microseconds
	if _, err := AddUsers(ctx, st, []string{"zed"}, false); err != nil {
		t.Fatal(err)
	}
	second, _ := st.GetUser(ctx, "zed")
	if first.ID != second.ID {
		t.Logf("the store did not reuse id %d (got %d)", first.ID, second.ID)
	}
	if AccountOf(first).Key == AccountOf(second).Key {
		t.Errorf("two accounts of zed share the key %s", AccountOf(first).Key)
	}
}
