package spawner

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// TestVolumeMigration starts a user the way an older classhub did (a
// volume named by the user alone), saves a file, and starts them again as
// their account: the file moves into the account's volume and the old
// volume goes. A later account of the same name starts empty, an old
// volume older than an account is never adopted by it, and kept volumes
// are restored and deleted only by name.
func TestVolumeMigration(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("mig")
	acct := Account{Key: "7-" + e.id, Created: time.Now().Add(-time.Hour)}

	old := e.start(user, "token-one")
	if out, code := execIn(t, e.cli, old.ID, "sh", "-c", "mkdir -p "+WorkDir+"/sub && echo kept > "+WorkDir+"/sub/proof.txt && chmod 600 "+WorkDir+"/sub/proof.txt"); code != 0 {
		t.Fatalf("write the file: %d %s", code, out)
	}
	// A running server's volume is never copied: it stays in use.
	req := e.req(user, "token-one")
	req.Account = acct
	srv, err := e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatalf("Start as the account while running: %v", err)
	}
	if srv.ID != old.ID {
		t.Errorf("a running server was replaced to move its volume")
	}
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}

	srv, err = e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatalf("Start as the account: %v", err)
	}
	info := e.inspect(srv.ID)
	want := AccountVolumeName(user, acct.Key)
	if len(info.Mounts) != 1 || info.Mounts[0].Name != want {
		t.Fatalf("mounts after the move = %+v, want %s", info.Mounts, want)
	}
	if out, code := execIn(t, e.cli, srv.ID, "cat", WorkDir+"/sub/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after the move: exit %d, %q", code, out)
	}
	if srv.Volume != want {
		t.Errorf("Start reports volume %q, want %q", srv.Volume, want)
	}
	out, code := execIn(t, e.cli, srv.ID, "stat", "-c", "%U %a", WorkDir, WorkDir+"/sub/proof.txt")
	if lines := strings.Fields(out); code != 0 || len(lines) != 4 || lines[0] != "jovyan" || lines[2] != "jovyan" || lines[3] != "600" {
		t.Errorf("owners and modes after the move: exit %d, %q", code, out)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(user)); !cerrdefs.IsNotFound(err) {
		t.Errorf("the old volume after the move: %v", err)
	}
	v, err := e.cli.VolumeInspect(e.ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if v.Labels[engine.LabelAccount] != acct.Key || v.Labels[engine.LabelUser] != user || v.Labels[engine.LabelRole] != RoleWork {
		t.Errorf("labels of the account's volume = %v", v.Labels)
	}

	// The account is deleted (its server goes, its volume is kept) and
	// another of the same name is made: it starts empty.
	if err := e.d.Delete(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	next := Account{Key: "8-" + e.id, Created: time.Now()}
	req.Account = next
	srv, err = e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatalf("Start as the new account: %v", err)
	}
	if _, code := execIn(t, e.cli, srv.ID, "test", "-e", WorkDir+"/sub/proof.txt"); code == 0 {
		t.Error("a new account of the same name got the old account's files")
	}
	if err := e.d.Delete(e.ctx, user); err != nil {
		t.Fatal(err)
	}

	// An old-style volume made before an account is not that account's.
	other := e.user("old")
	if _, err := e.cli.VolumeCreate(e.ctx, volume.CreateOptions{Name: VolumeName(other), Labels: e.d.labels(RoleWork, other)}); err != nil {
		t.Fatal(err)
	}
	late := Account{Key: "9-" + e.id, Created: time.Now().Add(2 * time.Second)}
	if err := e.d.DeleteData(e.ctx, other, late); err != nil {
		t.Fatalf("DeleteData of an account without files: %v", err)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(other)); err != nil {
		t.Errorf("DeleteData of a newer account removed an older account's volume: %v", err)
	}

	vols, err := e.d.Volumes(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vols {
		if strings.HasPrefix(v.User, "t"+e.id) {
			names = append(names, v.Name)
		}
	}
	slices.Sort(names)
	wantNames := []string{AccountVolumeName(user, acct.Key), AccountVolumeName(user, next.Key), VolumeName(other)}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("Volumes = %v, want %v", names, wantNames)
	}

	// Restore: the first account's files go to the third account; not
	// to one that has files.
	err = e.d.RestoreVolume(e.ctx, AccountVolumeName(user, acct.Key), user, next)
	if !errors.Is(err, ErrHasFiles) {
		t.Errorf("restore onto an account with files = %v, want ErrHasFiles", err)
	}
	third := e.user("third")
	thirdAcct := Account{Key: "10-" + e.id, Created: time.Now()}
	if err := e.d.RestoreVolume(e.ctx, AccountVolumeName(user, acct.Key), third, thirdAcct); err != nil {
		t.Fatalf("RestoreVolume: %v", err)
	}
	req = e.req(third, "token-three")
	req.Account = thirdAcct
	srv, err = e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if out, code := execIn(t, e.cli, srv.ID, "cat", WorkDir+"/sub/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after restore: exit %d, %q", code, out)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, AccountVolumeName(user, acct.Key)); !cerrdefs.IsNotFound(err) {
		t.Errorf("the restored volume is still there: %v", err)
	}
	if err := e.d.DeleteVolume(e.ctx, AccountVolumeName(third, thirdAcct.Key)); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("DeleteVolume of a mounted volume = %v, want a refusal", err)
	}
	if err := e.d.DeleteVolume(e.ctx, "classhub-no-such-volume-"+e.id); err == nil {
		t.Error("DeleteVolume of no volume succeeded")
	}
	if err := e.d.DeleteVolume(e.ctx, VolumeName(other)); err != nil {
		t.Errorf("DeleteVolume: %v", err)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(other)); !cerrdefs.IsNotFound(err) {
		t.Errorf("volume after DeleteVolume: %v", err)
	}
}

// TestVolumeMoveCutShort: a move the hub did not finish (killed during
// the copy) is made again from the start at the next start; a finished
// move whose old volume stayed is left as it is and the old volume goes.
func TestVolumeMoveCutShort(t *testing.T) {
	e := newTestEnv(t)
	img, err := e.cli.ImageInspect(e.ctx, testImage)
	if err != nil {
		t.Fatal(err)
	}
	// oldStyle leaves user a volume named by them alone with proof.txt.
	oldStyle := func(user string) {
		t.Helper()
		srv := e.start(user, "token-old")
		if out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "echo kept > "+WorkDir+"/proof.txt"); code != 0 {
			t.Fatalf("write the file: %d %s", code, out)
		}
		if err := e.d.Delete(e.ctx, user); err != nil {
			t.Fatal(err)
		}
	}
	// into makes acct's volume and runs script in it, as a copy would
	// have left it.
	into := func(user string, acct Account, script string) {
		t.Helper()
		if err := e.d.createAccountVolume(e.ctx, AccountVolumeName(user, acct.Key), user, acct.Key); err != nil {
			t.Fatal(err)
		}
		code, tail, err := e.d.runVolumeHelper(e.ctx, img.ID, user, script, []string{"/to"}, []mount.Mount{
			{Type: mount.TypeVolume, Source: AccountVolumeName(user, acct.Key), Target: "/to"}})
		if err != nil || code != 0 {
			t.Fatalf("prepare the volume: %d %s %v", code, tail, err)
		}
	}
	startAs := func(user string, acct Account) string {
		t.Helper()
		req := e.req(user, "token-new")
		req.Account = acct
		srv, err := e.d.Start(e.ctx, req)
		if err != nil {
			t.Fatalf("Start as the account: %v", err)
		}
		return srv.ID
	}

	cut := e.user("cut")
	cutAcct := Account{Key: "1-" + e.id, Created: time.Now().Add(-time.Hour)}
	oldStyle(cut)
	into(cut, cutAcct, `: > "$1/`+copyMarker+`"; echo partial > "$1/partial.txt"`)
	id := startAs(cut, cutAcct)
	if out, code := execIn(t, e.cli, id, "cat", WorkDir+"/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after a move made again: %d %q", code, out)
	}
	for _, f := range []string{"partial.txt", copyMarker} {
		if _, code := execIn(t, e.cli, id, "test", "-e", WorkDir+"/"+f); code == 0 {
			t.Errorf("%s of the cut-short copy is still there", f)
		}
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(cut)); !cerrdefs.IsNotFound(err) {
		t.Errorf("the old volume after the move: %v", err)
	}

	done := e.user("done")
	doneAcct := Account{Key: "2-" + e.id, Created: time.Now().Add(-time.Hour)}
	oldStyle(done)
	into(done, doneAcct, `echo since > "$1/since.txt"`)
	id = startAs(done, doneAcct)
	if out, code := execIn(t, e.cli, id, "cat", WorkDir+"/since.txt"); code != 0 || strings.TrimSpace(out) != "since" {
		t.Errorf("a finished move was made again: %d %q", code, out)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(done)); !cerrdefs.IsNotFound(err) {
		t.Errorf("the old volume of a finished move: %v", err)
	}
}
