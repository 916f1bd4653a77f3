package spawner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// materialsFolder makes a folder to share, readable by jovyan as the
// instructor's own folders are, holding hello.txt.
func materialsFolder(t *testing.T, parent, name string) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeShared(t, dir, "hello.txt", "hello from "+name)
	return dir
}

func writeShared(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// os.WriteFile keeps an existing file's mode and umask narrows a
	// new one's; students read as another user than the instructor.
	if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMaterialsSpec: the folder is a read-only bind mount that does not
// propagate, beside the work volume, and it is in the fingerprint: another
// folder, or none, recreates the container at its next start.
func TestMaterialsSpec(t *testing.T) {
	none := baseSpec(t, nil)
	if len(none.host.Mounts) != 1 {
		t.Fatalf("without materials the mounts are %+v", none.host.Mounts)
	}
	sp := baseSpec(t, func(c *config.Config, _ *Network, _ *StartRequest) { c.Materials = "/srv/class" })
	var m *mount.Mount
	for i := range sp.host.Mounts {
		if sp.host.Mounts[i].Target == MaterialsDir {
			m = &sp.host.Mounts[i]
		}
	}
	if m == nil || m.Type != mount.TypeBind || m.Source != "/srv/class" || !m.ReadOnly ||
		m.BindOptions == nil || m.BindOptions.Propagation != mount.PropagationRPrivate {
		t.Fatalf("materials mount = %+v", m)
	}
	other := baseSpec(t, func(c *config.Config, _ *Network, _ *StartRequest) { c.Materials = "/srv/other" })
	if sp.fingerprint == none.fingerprint || sp.fingerprint == other.fingerprint {
		t.Error("the materials folder is not in the fingerprint")
	}
	// A writable mount of the same folder is another container.
	h := *sp.host
	h.Mounts = append([]mount.Mount(nil), sp.host.Mounts...)
	for i := range h.Mounts {
		if h.Mounts[i].Target == MaterialsDir {
			h.Mounts[i].ReadOnly = false
		}
	}
	if fingerprint(sp.cfg, &h, sp.imageID) == sp.fingerprint {
		t.Error("a writable materials mount kept the fingerprint")
	}
	old := inspectOf(none)
	if got := joinReasons(driftReasons(old, sp.cfg, sp.host, sp.imageID)); got != "the materials folder changed" {
		t.Errorf("reasons = %q", got)
	}
}

// TestMaterials shares a folder with a real server: files the instructor
// adds or changes show at once in the running server, the student can
// change nothing in it, links in it cannot reach the host's files, another
// folder applies at the next start with the work kept, and a folder gone
// since the hub checked it is a sentence.
func TestMaterials(t *testing.T) {
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := materialsFolder(t, parent, "week1")
	// Beside the folder on the host, where "../" from it leads.
	writeShared(t, parent, "beside.txt", "host file beside the materials")
	for name, target := range map[string]string{
		"shadow": "/etc/shadow", "hostname": "/etc/hostname", "up": "..", "abs-up": parent,
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// Writable by everyone on the host, so only the mount being
	// read-only can stop the student.
	for _, p := range []string{dir, filepath.Join(dir, "hello.txt")} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	e := newTestEnv(t, func(c *config.Config) { c.Materials = dir })
	user := e.user("mat")
	srv := e.start(user, "tok")

	info := e.inspect(ContainerName(user))
	var seen bool
	for _, m := range info.Mounts {
		if m.Destination == MaterialsDir {
			seen = true
			if m.RW || m.Type != mount.TypeBind || m.Source != dir || m.Propagation != mount.PropagationRPrivate {
				t.Errorf("materials mount in the engine = %+v", m)
			}
		}
	}
	if !seen {
		t.Fatalf("no mount at %s: %+v", MaterialsDir, info.Mounts)
	}
	run := func(cmd string) (string, int) { return execIn(t, e.cli, srv.ID, "sh", "-c", cmd) }
	if out, code := run("cat " + MaterialsDir + "/hello.txt"); code != 0 || out != "hello from week1" {
		t.Errorf("reading the materials: %q, exit %d", out, code)
	}

	// The instructor adds and changes files; the running server sees them.
	writeShared(t, dir, "added.txt", "added later")
	writeShared(t, dir, "hello.txt", "hello, changed")
	if err := os.Chmod(filepath.Join(dir, "hello.txt"), 0o666); err != nil {
		t.Fatal(err)
	}
	if out, code := run("cat " + MaterialsDir + "/added.txt " + MaterialsDir + "/hello.txt"); code != 0 || out != "added laterhello, changed" {
		t.Errorf("after the instructor's changes the server reads %q, exit %d", out, code)
	}

	// Nothing a student does writes through.
	for _, cmd := range []string{
		"echo x > " + MaterialsDir + "/new.txt",
		"echo x >> " + MaterialsDir + "/hello.txt",
		"rm -f " + MaterialsDir + "/hello.txt",
		"mkdir " + MaterialsDir + "/sub",
		"chmod 777 " + MaterialsDir,
		"ln -s /etc " + MaterialsDir + "/etc",
		"mv " + MaterialsDir + "/added.txt /home/jovyan/work/",
	} {
		if out, code := run(cmd); code == 0 {
			t.Errorf("%q succeeded in the server: %q", cmd, out)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if got := strings.Join(names, ","); got != "abs-up,added.txt,hello.txt,hostname,shadow,up" {
		t.Errorf("the host folder holds %s after the student's attempts", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.txt")); string(b) != "hello, changed" {
		t.Errorf("hello.txt on the host = %q", b)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o777 {
		t.Errorf("the host folder's mode = %v", fi.Mode())
	}

	// Links resolve in the container's view: to its own files, never to
	// the host's.
	if out, code := run("cat " + MaterialsDir + "/hostname"); code != 0 || strings.TrimSpace(out) != ContainerName(user) {
		t.Errorf("a link to /etc/hostname reads %q (exit %d), want the container's own %q", out, code, ContainerName(user))
	}
	if out, code := run("cat " + MaterialsDir + "/shadow"); code == 0 || strings.Contains(out, "root:") {
		t.Errorf("a link to /etc/shadow reads %q (exit %d)", out, code)
	}
	for _, link := range []string{"up", "abs-up"} {
		if out, code := run("cat " + MaterialsDir + "/" + link + "/beside.txt"); code == 0 || strings.Contains(out, "host file beside") {
			t.Errorf("the link %s reaches the host folder beside the materials: %q", link, out)
		}
		if out, _ := run("ls -a " + MaterialsDir + "/" + link + "/ 2>/dev/null"); strings.Contains(out, "beside.txt") {
			t.Errorf("the link %s lists the host folder beside the materials: %q", link, out)
		}
	}

	// Another folder applies at the next start, the work kept.
	if out, code := run("echo mine > /home/jovyan/work/keep.txt"); code != 0 {
		t.Fatalf("writing work: %q", out)
	}
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Materials = materialsFolder(t, parent, "week2")
	e.d = e.spawner(cfg)
	srv2 := e.start(user, "tok")
	if srv2.ID == srv.ID {
		t.Error("the container was not recreated for the new materials folder")
	}
	if out, code := execIn(t, e.cli, srv2.ID, "cat", MaterialsDir+"/hello.txt", "/home/jovyan/work/keep.txt"); code != 0 || out != "hello from week2mine\n" {
		t.Errorf("after the change the server reads %q, exit %d", out, code)
	}

	// A folder removed since the hub checked it.
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	cfg.Materials = filepath.Join(parent, "gone")
	_, err := e.spawner(cfg).Start(e.ctx, e.req(user, "tok"))
	if err == nil || !strings.Contains(err.Error(), "materials folder "+cfg.Materials+" no longer exists: put it back") {
		t.Errorf("start with a missing materials folder: %v", err)
	}
}

// inspectOf is what the engine reports for a container made from sp.
func inspectOf(sp spec) container.InspectResponse {
	h := *sp.host
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{Image: sp.imageID, HostConfig: &h},
		Config:            sp.cfg,
	}
}
