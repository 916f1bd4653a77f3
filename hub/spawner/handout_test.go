package spawner

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
)

// stageTar lays files out as StageFolder takes them.
func stageTar(t *testing.T, files map[string]string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var man strings.Builder
	for name, body := range files {
		sum := sha256.Sum256([]byte(body))
		fmt.Fprintf(&man, "%s\t%s\n", hex.EncodeToString(sum[:]), name)
	}
	tw.WriteHeader(&tar.Header{Name: stagedManifest, Mode: 0o644, Size: int64(man.Len())})
	io.WriteString(tw, man.String())
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: stagedFiles + "/", Mode: 0o755})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: stagedFiles + "/sub/", Mode: 0o755})
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: stagedFiles + "/" + name, Mode: 0o644, Size: int64(len(body))})
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func (e *testEnv) handout(user string, acct Account, files map[string]string) map[string]FileResult {
	e.t.Helper()
	staged, err := e.d.StageFolder(e.ctx, "week1", stageTar(e.t, files))
	if err != nil {
		e.t.Fatalf("StageFolder: %v", err)
	}
	defer func() {
		if err := e.d.Unstage(e.ctx, staged); err != nil {
			e.t.Errorf("Unstage: %v", err)
		}
		if _, err := e.cli.VolumeInspect(e.ctx, staged); !cerrdefs.IsNotFound(err) {
			e.t.Errorf("the staged folder is still there: %v", err)
		}
	}()
	rs, err := e.d.Handout(e.ctx, staged, user, acct, "week1", "handout 2026-12-06")
	if err != nil {
		e.t.Fatalf("Handout(%s): %v", user, err)
	}
	out := map[string]FileResult{}
	for _, r := range rs {
		out[r.Path] = r
	}
	return out
}

// TestHandoutAndCollect hands a folder out to a running server, a stopped
// one and an account that never started, keeps what a student changed,
// and collects it back through a read-only mount; a student's links lead
// neither write nor read out of their volume.
func TestHandoutAndCollect(t *testing.T) {
	e := newTestEnv(t)
	created := time.Now().Add(-time.Hour)
	run, stop, never := e.user("run"), e.user("stop"), e.user("never")
	acct := func(n string) Account { return Account{Key: n + "-" + e.id, Created: created} }
	start := func(user string) Server {
		req := e.req(user, "token-"+user)
		req.Account = acct(user)
		s, err := e.d.Start(e.ctx, req)
		if err != nil {
			t.Fatalf("Start(%s): %v", user, err)
		}
		return s
	}
	srv := start(run)
	start(stop)
	if err := e.d.Stop(e.ctx, stop); err != nil {
		t.Fatal(err)
	}

	v1 := map[string]string{"nb.ipynb": "one\n", "sub/data.csv": "a,b\n", "notes.txt": "n\n"}
	for _, u := range []string{run, stop, never} {
		rs := e.handout(u, acct(u), v1)
		for name := range v1 {
			if rs[name].Outcome != "copied" {
				t.Errorf("%s: %s = %+v, want copied", u, name, rs[name])
			}
		}
	}
	if out, code := execIn(t, e.cli, srv.ID, "stat", "-c", "%u:%g", WorkDir+"/week1", WorkDir+"/week1/sub/data.csv"); code != 0 || strings.Fields(out)[0] != "1000:100" || strings.Fields(out)[1] != "1000:100" {
		t.Errorf("owners of the handed-out files: %d %q", code, out)
	}

	// The student changes one file and puts links where two were: one to
	// a folder on the host (which the helper does not see), one to a file
	// of the image.
	victim := t.TempDir()
	script := fmt.Sprintf(`cd %s/week1 && echo mine > nb.ipynb && rm notes.txt && ln -s %s/victim notes.txt && rm sub/data.csv && ln -s /etc/passwd sub/data.csv && ln -s /etc lnk`, WorkDir, victim)
	if out, code := execIn(t, e.cli, srv.ID, "sh", "-c", script); code != 0 {
		t.Fatalf("change the files: %d %s", code, out)
	}
	v2 := map[string]string{"nb.ipynb": "two\n", "sub/data.csv": "c,d\n", "notes.txt": "n2\n"}
	rs := e.handout(run, acct(run), v2)
	for name, beside := range map[string]string{"nb.ipynb": "nb (handout 2026-12-06).ipynb", "notes.txt": "notes (handout 2026-12-06).txt", "sub/data.csv": "data (handout 2026-12-06).csv"} {
		if r := rs[name]; r.Outcome != "kept" || r.Beside != beside {
			t.Errorf("changed %s: %+v, want kept beside as %q", name, r, beside)
		}
	}
	if out, _ := execIn(t, e.cli, srv.ID, "sh", "-c", "cd "+WorkDir+"/week1 && cat nb.ipynb 'nb (handout 2026-12-06).ipynb' && readlink notes.txt"); out != "mine\ntwo\n"+victim+"/victim\n" {
		t.Errorf("after the second handout: %q", out)
	}
	if ents, _ := os.ReadDir(victim); len(ents) != 0 {
		t.Errorf("a student's link made handout write on the host: %v", ents)
	}
	// Unchanged files are updated; a student who changed nothing keeps
	// nothing beside.
	rs = e.handout(stop, acct(stop), v2)
	for name := range v2 {
		if rs[name].Outcome != "updated" {
			t.Errorf("unchanged %s: %+v, want updated", name, rs[name])
		}
	}
	if rs := e.handout(stop, acct(stop), v2); rs["nb.ipynb"].Outcome != "same" {
		t.Errorf("handed out twice: %+v", rs["nb.ipynb"])
	}

	// Collect reads links as links, never what they point at.
	rc, err := e.d.CollectFolder(e.ctx, run, acct(run), "week1")
	if err != nil {
		t.Fatalf("CollectFolder: %v", err)
	}
	got := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = fmt.Sprintf("%c:%s%s", h.Typeflag, b, h.Linkname)
	}
	rc.Close()
	want := map[string]string{
		"week1/nb.ipynb": "0:mine\n", "week1/sub/data.csv": "2:/etc/passwd", "week1/lnk": "2:/etc",
		"week1/notes.txt": "2:" + victim + "/victim", "week1/nb (handout 2026-12-06).ipynb": "0:two\n",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("collected %s = %q, want %q", name, got[name], w)
		}
	}
	// A folder that is a link is no folder to collect; nor is one that
	// is not there, or a student with no files.
	if out, code := execIn(t, e.cli, srv.ID, "ln", "-s", "/etc", WorkDir+"/etcdir"); code != 0 {
		t.Fatal(out)
	}
	for _, c := range []struct{ user, dir string }{{run, "etcdir"}, {run, "nothere"}, {e.user("nobody"), "week1"}} {
		if _, err := e.d.CollectFolder(e.ctx, c.user, acct(c.user), c.dir); !errors.Is(err, ErrNoFolder) {
			t.Errorf("collect %s of %s: %v, want ErrNoFolder", c.dir, c.user, err)
		}
	}
	// From a stopped server too, and nothing is left in the engine.
	rc, err = e.d.CollectFolder(e.ctx, stop, acct(stop), "week1")
	if err != nil {
		t.Fatalf("CollectFolder(stopped): %v", err)
	}
	n, _ := io.Copy(io.Discard, rc)
	rc.Close()
	// Sizing the class's folders before a collect counts the files, links
	// as links and folders as the blocks they take, and leaves out who
	// has none.
	nobody := e.user("nobody")
	sizes, err := e.d.FolderBytes(e.ctx, "week1", map[string]Account{run: acct(run), stop: acct(stop), nobody: acct(nobody)})
	if err != nil {
		t.Fatalf("FolderBytes: %v", err)
	}
	if _, ok := sizes[nobody]; ok || sizes[run] < int64(len("mine\ntwo\n")) || sizes[stop] <= 0 || n == 0 {
		t.Errorf("FolderBytes = %v (the stopped student's tar had %d bytes)", sizes, n)
	}
	if _, err := os.Stat(filepath.Join(victim, "victim")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("victim: %v", err)
	}
}

// TestKeptHandoutAtFirstStart: a folder kept after a handout to everyone
// reaches a student whose volume is made later, at their first start; a
// newer version replaces the older, and a started student's files are
// not handed out to again at later starts.
func TestKeptHandoutAtFirstStart(t *testing.T) {
	e := newTestEnv(t)
	t.Cleanup(func() {
		kept, _ := e.d.keptHandouts(context.Background())
		for _, k := range kept {
			e.cli.VolumeRemove(context.Background(), k.Name, true)
		}
	})
	stage := func(body string) string {
		staged, err := e.d.StageFolder(e.ctx, "week1", stageTar(t, map[string]string{"nb.ipynb": body, "sub/d.csv": "d"}))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.d.Keep(e.ctx, staged); err != nil {
			t.Fatal(err)
		}
		return staged
	}
	older := stage("old\n")
	newer := stage("new\n")
	if _, err := e.cli.VolumeInspect(e.ctx, older); !cerrdefs.IsNotFound(err) {
		t.Errorf("the older version is still kept: %v", err)
	}
	if kept, err := e.d.keptHandouts(e.ctx); err != nil || len(kept) != 1 || kept[0].Name != newer {
		t.Errorf("kept %v, %v; want %s", kept, err, newer)
	}
	// Another hub's handouts on the same engine are not this one's.
	other := e.spawner(e.cfg)
	other.cfg.Network = "classhub-test-other-" + e.id
	if kept, err := other.keptHandouts(e.ctx); err != nil || len(kept) != 0 {
		t.Errorf("another hub sees %v, %v", kept, err)
	}

	user := e.user("late")
	req := e.req(user, "token-late")
	req.Account = Account{Key: "late-" + e.id, Created: time.Now()}
	srv, err := e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "cat "+WorkDir+"/week1/nb.ipynb && stat -c %u:%g "+WorkDir+"/week1/sub/d.csv")
	if code != 0 || out != "new\n1000:100\n" {
		t.Errorf("the kept folder at the first start: %d %q", code, out)
	}
	// Deleted by the student, it stays deleted at the next start.
	execIn(t, e.cli, srv.ID, "rm", "-r", WorkDir+"/week1")
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	srv, err = e.d.Start(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if out, code := execIn(t, e.cli, srv.ID, "ls", WorkDir); code != 0 || strings.Contains(out, "week1") {
		t.Errorf("handed out again at a later start: %d %q", code, out)
	}
}
