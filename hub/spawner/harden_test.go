package spawner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// statusScript prints, for the singleuser process and for itself (an exec
// like a student's terminal), the lines of /proc/PID/status that say what
// privileges a process holds.
const statusScript = `
import os
def show(who, pid):
    for line in open("/proc/%s/status" % pid):
        k = line.split(":")[0]
        if k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs"):
            print(who, k, line.split()[1])
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            cmd = open("/proc/%s/cmdline" % p, "rb").read()
        except OSError:
            continue
        if b"jupyterhub-singleuser" in cmd and b"python3\0-c" not in cmd:
            show("server", p)
show("exec", "self")
`

// TestServerHoldsNoPrivilege: the server process and a terminal in its
// container hold no capability and cannot gain one.
func TestServerHoldsNoPrivilege(t *testing.T) {
	e := newTestEnv(t)
	s := e.start(e.user("nopriv"), "tok")
	out, code := execIn(t, e.cli, s.ID, "python3", "-c", statusScript)
	if code != 0 {
		t.Fatalf("reading /proc: exit %d: %s", code, out)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("unexpected line %q in:\n%s", line, out)
		}
		who, key, val := f[0], f[1], f[2]
		seen[who] = true
		want := "0000000000000000"
		if key == "NoNewPrivs" {
			want = "1"
		}
		if val != want {
			t.Errorf("%s process: %s = %s, want %s", who, key, val, want)
		}
	}
	if !seen["server"] || !seen["exec"] {
		t.Fatalf("did not find both the server and the exec process:\n%s", out)
	}
	hc := e.inspect(s.ID).HostConfig
	if w := Weaknesses(hc); len(w) > 0 {
		t.Errorf("the engine reports a weak server container: %+v", w)
	}
}

// setuidScript starts every setuid program it finds, waits until each is
// running (or gone), and prints the effective uid it got. Under
// no-new-privileges the setuid bit gives nothing: they all stay jovyan.
const setuidScript = `
import os, subprocess, time
seen = set()
for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
    for name in sorted(os.listdir(d)):
        path = os.path.realpath(os.path.join(d, name))
        try:
            st = os.stat(path)
        except OSError:
            continue
        if path in seen or not (st.st_mode & 0o4000) or st.st_uid != 0:
            continue
        seen.add(path)
        p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        euid = "exited"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                status = dict(l.split(":", 1) for l in open("/proc/%d/status" % p.pid).read().splitlines() if ":" in l)
            except OSError:
                break
            if status["State"].strip().startswith("Z"):
                break
            # Name changes from python3 to the program's at exec.
            if status["Name"].strip() == os.path.basename(path)[:15]:
                euid = status["Uid"].split()[1]
                break
            time.sleep(0.01)
        p.kill()
        p.wait()
        print(path, euid)
print("found", len(seen))
`

// TestSetuidGivesNothing: su, passwd and every other setuid-root program
// in the image run with jovyan's effective uid, so none can be used to
// become root (without no-new-privileges they run as root).
func TestSetuidGivesNothing(t *testing.T) {
	e := newTestEnv(t)
	s := e.start(e.user("setuid"), "tok")
	out, code := execIn(t, e.cli, s.ID, "python3", "-c", setuidScript)
	if code != 0 {
		t.Fatalf("setuid script: exit %d: %s", code, out)
	}
	ran := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, euid, _ := strings.Cut(line, " ")
		switch {
		case path == "found":
			if euid == "0" {
				t.Fatalf("the image has no setuid-root program to try; the test proves nothing:\n%s", out)
			}
		case euid == "exited":
		case euid == "1000":
			ran++
		default:
			t.Errorf("%s ran with effective uid %s: a setuid program raised its privileges", path, euid)
		}
	}
	if ran == 0 {
		t.Errorf("no setuid program stayed up long enough to be checked:\n%s", out)
	}
}

// bombScript forks sleeping children until it has tried 2×limit or the
// kernel refuses, asks the server over HTTP whether it still answers, then
// waits for a line on stdin (or its own alarm) and reaps everything.
const bombScript = `
import os, signal, sys, time, urllib.request
limit, url = int(sys.argv[1]), sys.argv[2]
signal.alarm(60)
kids, refused = [], 0
for _ in range(2 * limit):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
pidsmax = "unknown"
for f in ("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"):  # cgroup v2, v1
    if os.path.exists(f):
        pidsmax = open(f).read().strip()
try:
    answer = urllib.request.urlopen(url, timeout=20).status
except Exception as err:
    answer = repr(err)
print("held", len(kids), "refused", refused, "pids.max", pidsmax, "server", answer, flush=True)
sys.stdin.readline()
for pid in kids:
    os.kill(pid, signal.SIGKILL)
for pid in kids:
    os.waitpid(pid, 0)
print("reaped", len(kids), flush=True)
`

// TestForkBombStopsAtTheLimit: a student's fork bomb gets no further than
// pids_limit; the server in the container and the laptop stay responsive,
// and everything is reaped afterwards.
func TestForkBombStopsAtTheLimit(t *testing.T) {
	const limit = 2 * config.MinPidsLimit
	e := newTestEnv(t, func(c *config.Config) { c.PidsLimit = limit })
	user := e.user("bomb")
	s := e.start(user, "tok")
	url := "http://127.0.0.1:" + strconv.Itoa(ServerPort) + ServerPrefix(user) + "api"

	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
	defer cancel()
	ex, err := e.cli.ContainerExecCreate(ctx, s.ID, container.ExecOptions{
		Cmd: []string{"python3", "-c", bombScript, strconv.Itoa(limit), url}, AttachStdin: true, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	att, err := e.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, pw, att.Reader); pw.CloseWithError(err) }()
	lines := bufio.NewScanner(pr)
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("the bomb stopped talking: %v", lines.Err())
		}
		return lines.Text()
	}

	var held, refused int
	var pidsMax, answer string
	line := next()
	if _, err := fmt.Sscanf(line, "held %d refused %d pids.max %s server %s", &held, &refused, &pidsMax, &answer); err != nil {
		t.Fatalf("bomb said %q: %v", line, err)
	}
	t.Logf("bomb: %s", line)
	if pidsMax != strconv.Itoa(limit) {
		t.Errorf("the container's pids.max is %s, want %d", pidsMax, limit)
	}
	if refused == 0 || held >= limit {
		t.Errorf("the bomb started %d of %d processes (%d refused): the limit of %d did not hold", held, 2*limit, refused, limit)
	}
	if answer != "200" {
		t.Errorf("with the container full, the server answered %s from inside", answer)
	}
	// While the bomb holds every slot, the hub still reaches the server
	// and the laptop still starts processes.
	if target, err := targetOf(e.inspect(s.ID), e.net.Name); err != nil {
		t.Error(err)
	} else if code := httpStatus(t, target+ServerPrefix(user)+"api"); code != 200 {
		t.Errorf("with the container full, the server answered the hub %d", code)
	}
	if out, err := exec.CommandContext(ctx, "sh", "-c", "echo alive").Output(); err != nil || strings.TrimSpace(string(out)) != "alive" {
		t.Errorf("the laptop could not start a process during the bomb: %v", err)
	}

	if _, err := att.Conn.Write([]byte("done\n")); err != nil {
		t.Fatal(err)
	}
	if line := next(); line != fmt.Sprintf("reaped %d", held) {
		t.Errorf("cleanup said %q", line)
	}
	// With the bomb gone, the container starts processes again.
	if out, code := execIn(t, e.cli, s.ID, "true"); code != 0 {
		t.Errorf("after the bomb, exec failed: %s", out)
	}
}

// TestUnconfinedContainerIsRecreated: a stopped server made before
// classhub confined servers is recreated at its next start, with a notice.
func TestUnconfinedContainerIsRecreated(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("old")
	notices := collect(t, e.bus, func(ev events.Event) bool { return ev.Kind == events.Notice && ev.User == user })
	img, err := e.cli.ImageInspect(e.ctx, e.cfg.Image)
	if err != nil {
		t.Fatal(err)
	}
	req := e.req(user, "tok")
	old, err := e.d.specFor(e.cfg, e.net, img.ID, imageMode{mode: ModeJupyterHub}, req)
	if err != nil {
		t.Fatal(err)
	}
	// What the previous classhub made: no confinement at all.
	old.host.CapDrop, old.host.SecurityOpt, old.host.PidsLimit = nil, nil, nil
	old.fingerprint = fingerprint(old.cfg, old.host, old.imageID)
	old.cfg.Labels[engine.LabelFingerprint] = old.fingerprint
	if _, err := e.d.ensureVolume(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	oldID, err := e.d.create(e.ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	s := e.start(user, "tok")
	if s.ID == oldID {
		t.Fatal("the unconfined container was started again instead of recreated")
	}
	if w := Weaknesses(e.inspect(s.ID).HostConfig); len(w) > 0 {
		t.Errorf("the recreated container is weak: %+v", w)
	}
	if _, ok := notices.find(events.Notice, "confinement changed"); !ok {
		t.Errorf("no notice says why it was recreated: %v", notices.all())
	}
}
