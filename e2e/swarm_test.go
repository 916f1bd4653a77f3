package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/freeport"
	"github.com/classhub/classhub/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunLeavingSwarm(m)) }

// newSwarmClassroom is a classroom whose hub runs its servers as Swarm
// services (backend = "swarm"), on a single-node swarm testenv.Swarm makes
// when the engine is in none. Its services and overlay networks are
// removed by label afterwards.
func newSwarmClassroom(t *testing.T) *classroom {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.Swarm(t, cli)
	c := newClassroom(t)
	appendConfig(t, c, "backend = \"swarm\"\n")
	t.Cleanup(func() {
		ctx := context.Background()
		f := filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))
		svcs, _ := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		for _, s := range svcs {
			if strings.HasSuffix(s.Spec.Labels[engine.LabelUser], c.suffix) {
				cli.ServiceRemove(ctx, s.ID)
			}
		}
		// newClassroom's cleanup, which runs next, removes the tasks'
		// containers and volumes; the overlays (the hub's, its seats and
		// each server's own) go once they are gone.
		shared := "classhub-e2e-" + c.suffix + "-swarm"
		nets := []string{shared}
		own, _ := cli.NetworkList(ctx, network.ListOptions{Filters: f})
		for _, n := range own {
			if strings.HasSuffix(n.Labels[engine.LabelUser], c.suffix) || strings.HasPrefix(n.Name, shared+"-seat-") {
				nets = append(nets, n.ID)
			}
		}
		for _, n := range nets {
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
				if err := cli.NetworkRemove(ctx, n); err == nil || strings.Contains(err.Error(), "not found") {
					break
				}
			}
		}
	})
	return c
}

// serviceOf inspects name's server's service; ok is false when it has none.
func serviceOf(t *testing.T, name string) (swarm.Service, bool) {
	t.Helper()
	s, _, err := testenv.Docker(t).ServiceInspectWithRaw(context.Background(), spawner.ContainerName(name), swarm.ServiceInspectOptions{})
	return s, err == nil
}

func replicasOf(s swarm.Service) uint64 {
	if r := s.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

// TestSwarmClassroom drives a hub with the swarm backend through the same
// REST API as TestHubServesNotebooksThroughTheProxy: a start makes a
// service of one replica that answers through the proxy; a stop scales it
// to zero; the hub killed with -9 and started again routes to the running
// service it adopts; a delete removes the service and keeps the volume; an
// idle server is culled.
func TestSwarmClassroom(t *testing.T) {
	c := newSwarmClassroom(t)
	alice, bob, teacher := c.user("alice"), c.user("bob"), c.user("teacher")
	c.addUsers(alice, bob)
	c.classhub("users", "add", teacher, "--admin")
	adminTok, aliceTok := c.token(teacher), c.token(alice)
	c.serve()
	hubLogOnFailure(t, c)

	c.startAndWait(adminTok, alice)
	svc, ok := serviceOf(t, alice)
	if !ok || replicasOf(svc) != 1 {
		t.Fatalf("alice's server is not a service of one replica: %+v", svc.Spec.Mode)
	}
	aliceOrigin := c.origin(alice)
	if aliceOrigin == "" {
		t.Fatal("the hub sends alice nowhere")
	}
	status := func() int {
		resp, _ := c.do("GET", aliceOrigin+"/user/"+alice+"/api/status", aliceTok, nil)
		return resp.StatusCode
	}
	if got := status(); got != 200 {
		t.Fatalf("alice's server answers %d through the proxy", got)
	}

	t.Run("stop scales to zero, start scales up", func(t *testing.T) {
		if resp, body := c.do("DELETE", "/hub/api/users/"+alice+"/server", adminTok, nil); resp.StatusCode != 204 {
			t.Fatalf("stop: %s %s", resp.Status, body)
		}
		if s, ok := serviceOf(t, alice); !ok || replicasOf(s) != 0 {
			t.Fatalf("after a stop alice's service has %d replicas (exists: %v), want 0", replicasOf(s), ok)
		}
		c.startAndWait(adminTok, alice)
		if s, _ := serviceOf(t, alice); s.ID != svc.ID || replicasOf(s) != 1 {
			t.Errorf("the start after a stop made service %s with %d replicas, want %s scaled to 1", s.ID, replicasOf(s), svc.ID)
		}
		if got := status(); got != 200 {
			t.Errorf("after the restart alice's server answers %d", got)
		}
	})

	t.Run("kill -9 and restart adopts the service", func(t *testing.T) {
		c.stop(syscall.SIGKILL)
		c.serve()
		waitUntil(t, "alice's server to answer through the restarted hub", time.Minute, func() bool { return status() == 200 })
		_, body := c.do("GET", "/hub/api/users/"+alice, adminTok, nil)
		if !strings.Contains(string(body), `"ready":true`) {
			t.Errorf("after a restart the user model says %s, want ready", body)
		}
	})

	t.Run("delete removes the service and keeps the volume", func(t *testing.T) {
		if resp, body := c.do("DELETE", "/hub/api/users/"+alice+"/server", adminTok, map[string]bool{"remove": true}); resp.StatusCode != 204 {
			t.Fatalf("delete server: %s %s", resp.Status, body)
		}
		if _, ok := serviceOf(t, alice); ok {
			t.Error("alice's service survived delete")
		}
		f := filters.NewArgs(filters.Arg("label", engine.LabelUser+"="+alice))
		if vs, _ := testenv.Docker(t).VolumeList(context.Background(), volume.ListOptions{Filters: f}); len(vs.Volumes) != 1 {
			t.Errorf("alice has %d work volumes after delete, want 1 kept", len(vs.Volumes))
		}
	})

	t.Run("an idle server is culled", func(t *testing.T) {
		c.stop(syscall.SIGTERM)
		appendConfig(t, c, "idle_timeout = \"20s\"\n")
		c.serve()
		c.startAndWait(adminTok, bob)
		waitUntil(t, "bob's idle server to be culled", 3*time.Minute, func() bool {
			s, ok := serviceOf(t, bob)
			return ok && replicasOf(s) == 0
		})
		_, body := c.do("GET", "/hub/api/users/"+bob, adminTok, nil)
		if strings.Contains(string(body), `"ready":true`) {
			t.Errorf("the user model still says bob's culled server is ready: %s", body)
		}
	})
}

// TestSwarmBrowser is TestBrowser's walk, to a `!whoami` cell and back,
// with every server a Swarm service.
func TestSwarmBrowser(t *testing.T) { walkClassroom(t, newSwarmClassroom(t)) }

// newHubService is a swarm classroom whose hub runs as a Swarm service:
// `classhub image build-hub` makes its image from a classhub built without
// cgo, with no registry, and `classhub swarm deploy` runs it on the overlay
// network with the engine's socket and the data dir mounted. The students
// are added; it returns the teacher's token and theirs, in order, once the
// hub answers on its published port.
func newHubService(t *testing.T, seats int, students ...string) (c *classroom, adminTok string, toks []string) {
	cli := testenv.Docker(t)
	testenv.Swarm(t, cli)
	ctx := context.Background()
	if _, _, err := cli.ServiceInspectWithRaw(ctx, spawner.HubServiceName, swarm.ServiceInspectOptions{}); err == nil {
		testenv.Unavailable(t, "a service %s runs already; this test deploys its own", spawner.HubServiceName)
	}
	c = newSwarmClassroom(t)
	static := filepath.Join(t.TempDir(), "classhub-static")
	build := exec.Command("go", "build", "-tags", "ci", "-o", static, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a classhub without cgo: %v\n%s", err, out)
	}
	_, port, _ := strings.Cut(c.listen, ":")
	ports, err := freeport.Block("", 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("image = %q\nnetwork = %q\nbackend = \"swarm\"\nhub_port = %d\nlisten = \"0.0.0.0:%s\"\nuser_ports = \"%d-%d\"\nmemory_limit = \"1G\"\ntls = \"off\"\n",
		testenv.NotebookImage, "classhub-e2e-"+c.suffix, freePort(t, ""), port, ports, ports+3)
	if err := os.WriteFile(filepath.Join(c.dataDir, "classhub.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	teacher := c.user("teacher")
	for _, s := range students {
		c.addUsers(c.user(s))
	}
	c.classhub("users", "add", teacher, "--admin")
	adminTok = c.token(teacher)
	for _, s := range students {
		toks = append(toks, c.token(c.user(s)))
	}

	tag := "classhub-test/hub:" + c.suffix
	c.classhub("image", "build-hub", "--binary", static, "--tag", tag)
	t.Cleanup(func() {
		cli.ServiceRemove(ctx, spawner.HubServiceName)
		// The image goes once no container of the service holds it.
		f := filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+spawner.HubServiceName))
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f}); err == nil && len(cs) == 0 {
				break
			}
		}
		if _, err := cli.ImageRemove(ctx, tag, dockerimage.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove the hub's test image %s: %v", tag, err)
		}
	})
	if out := c.classhub("swarm", "deploy", "--image", tag, "--seats", strconv.Itoa(seats)); !strings.Contains(out, fmt.Sprintf("It has %d seats", seats)) {
		t.Errorf("swarm deploy does not say how many seats the hub has:\n%s", out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			rc, err := cli.ServiceLogs(ctx, spawner.HubServiceName, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "40"})
			if err == nil {
				var b bytes.Buffer
				stdcopy.StdCopy(&b, &b, rc)
				rc.Close()
				t.Logf("the hub service's log:\n%s", b.String())
			}
		}
	})
	waitUntil(t, "the hub service to answer on its published port", 2*time.Minute, func() bool {
		resp, err := c.http.Get(c.base + "/hub/api")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return c, adminTok, toks
}

// TestSwarmHubService runs the hub itself as a Swarm service, as a swarm of
// several machines needs (see newHubService), with two seats: a server
// started through its published port answers through the proxy, reached
// over its seat; one student's server gets no answer from another's; a
// third start, with both seats held, fails saying what to do and leaves
// the two servers running; a stop frees a seat for it, and the stopped
// server's next start moves to the seat another stop frees; the hub's
// task killed with -9, the swarm's next one adopts the servers where they
// are; a server that exits frees its seat, and a start refused for want
// of one keeps its student's service.
func TestSwarmHubService(t *testing.T) {
	c, adminTok, toks := newHubService(t, 2, "ann", "ben", "cat")
	cli := testenv.Docker(t)
	ann, ben, cat := c.user("ann"), c.user("ben"), c.user("cat")
	annTok, benTok := toks[0], toks[1]
	c.startAndWait(adminTok, ann)
	c.startAndWait(adminTok, ben)
	answers := func(name, tok string) bool {
		origin := c.origin(name)
		if origin == "" {
			return false
		}
		resp, _ := c.do("GET", origin+"/user/"+name+"/api/status", tok, nil)
		return resp.StatusCode == 200
	}
	if !answers(ann, annTok) || !answers(ben, benTok) {
		t.Fatal("ann's and ben's servers do not both answer through the hub service's proxy")
	}
	annSeat, benSeat := seatOfServer(t, ann), seatOfServer(t, ben)
	if annSeat == benSeat || !strings.Contains(annSeat, "-seat-") || !strings.Contains(benSeat, "-seat-") {
		t.Fatalf("ann's server is on %q and ben's on %q: want a seat each", annSeat, benSeat)
	}

	t.Run("no server reaches another's", func(t *testing.T) {
		annTask, benTask := runningTask(t, ann), runningTask(t, ben)
		hosts := []string{spawner.ContainerName(ben)}
		for _, a := range benTask.NetworksAttachments {
			for _, addr := range a.Addresses {
				if ip, _, err := net.ParseCIDR(addr); err == nil {
					hosts = append(hosts, ip.String())
				}
			}
		}
		// An HTTP exchange, not a bare connect: a sandbox's user-mode
		// network may accept a connection to any address off the machine.
		for _, h := range hosts {
			url := "http://" + net.JoinHostPort(h, strconv.Itoa(spawner.ServerPort)) + "/user/" + ben + "/api"
			out, code := execInContainer(t, cli, annTask.Status.ContainerStatus.ContainerID, "python3", "-c",
				"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", url)
			if code == 0 || strings.Contains(out, `"version"`) {
				t.Errorf("ann's server got an answer from ben's at %s: %s", url, out)
			}
		}
		// The hub, on both seats, does not route between them.
		hub := runningTaskOf(t, spawner.HubServiceName)
		if ins, err := cli.ContainerInspect(context.Background(), hub.Status.ContainerStatus.ContainerID); err != nil ||
			ins.HostConfig.Sysctls["net.ipv4.ip_forward"] != "0" || ins.HostConfig.Sysctls["net.ipv6.conf.all.forwarding"] != "0" {
			t.Errorf("the hub's container may forward between seats: %v %v", ins.HostConfig, err)
		}
		// The control: ann's server does reach the hub, by its name.
		url := "http://" + spawner.HubServiceName + ":" + hubPortOf(t, c) + "/hub/api"
		if out, code := execInContainer(t, cli, annTask.Status.ContainerStatus.ContainerID, "python3", "-c",
			"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", url); code != 0 || !strings.Contains(out, `"version"`) {
			t.Errorf("ann's server does not reach the hub at %s: %s", url, out)
		}
	})

	t.Run("a start with every seat held fails and harms nobody", func(t *testing.T) {
		// The refusal comes at once, so the request answers it, as
		// JupyterHub answers a spawn that fails before its slow-spawn
		// timeout; a later one would end the progress stream.
		resp, body := c.do("POST", "/hub/api/users/"+cat+"/server", adminTok, nil)
		why := string(body)
		switch resp.StatusCode {
		case 500:
		case 201, 202:
			ev := progressUntilDone(t, c, cat, adminTok)
			if !ev.Failed {
				t.Fatalf("cat's start with both seats held ends %+v", ev)
			}
			why = ev.Message
		default:
			t.Fatalf("start cat: %s %s", resp.Status, body)
		}
		if !strings.Contains(why, "all 2 of the hub's seats") || !strings.Contains(why, "--seats 4") {
			t.Errorf("cat's start with both seats held fails with %q, want one that says to stop a server or add seats", why)
		}
		if !answers(ann, annTok) || !answers(ben, benTok) {
			t.Error("a start refused for want of a seat disturbed ann's or ben's server")
		}
		// doctor on the hub's node says where the service is, and that
		// no seat is free.
		out, errOut, _ := run(t, nil, "doctor", "--data-dir", c.dataDir)
		if !strings.Contains(out, "2 of its 2 seats are held") || !strings.Contains(out, "--seats 4") {
			t.Errorf("doctor does not say that both of the hub service's seats are held:\n%s%s", out, errOut)
		}
	})

	t.Run("a stop frees its seat, and the stopped server moves", func(t *testing.T) {
		c.stopAndWait(adminTok, ann)
		c.startAndWait(adminTok, cat)
		if got := seatOfServer(t, cat); got != annSeat {
			t.Errorf("cat's server is on %q, want %q, the seat ann's stop freed", got, annSeat)
		}
		c.stopAndWait(adminTok, ben)
		c.startAndWait(adminTok, ann)
		if got := seatOfServer(t, ann); got != benSeat {
			t.Errorf("ann's server is on %q, want %q: cat holds her old seat, ben's stop freed his", got, benSeat)
		}
		if !answers(ann, annTok) {
			t.Error("ann's server on its new seat does not answer through the proxy")
		}
	})

	t.Run("the hub's task killed, the next one adopts the servers on their seats", func(t *testing.T) {
		hub := runningTaskOf(t, spawner.HubServiceName)
		if err := cli.ContainerKill(context.Background(), hub.Status.ContainerStatus.ContainerID, "KILL"); err != nil {
			t.Fatal(err)
		}
		// Plain requests until it is back: c.do fails the test on a
		// refused connection.
		get := func(url, tok string) bool {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "token "+tok)
			resp, err := c.http.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		}
		waitUntil(t, "the swarm to run the hub again", 3*time.Minute, func() bool { return get(c.base+"/hub/api", "") })
		waitUntil(t, "ann's server to answer through the hub's next task", time.Minute, func() bool {
			origin := c.origin(ann)
			return origin != "" && get(origin+"/user/"+ann+"/api/status", annTok)
		})
		if got := runningTaskOf(t, spawner.HubServiceName); got.ID == hub.ID {
			t.Errorf("the hub's task %s still runs after kill -9", got.ID)
		}
		_, body := c.do("GET", "/hub/api/users/"+cat, adminTok, nil)
		if !strings.Contains(string(body), `"ready":true`) {
			t.Errorf("after the hub's restart the user model says %s, want cat's server ready", body)
		}
		if got := seatOfServer(t, ann); got != benSeat {
			t.Errorf("ann's server moved to %q in the hub's restart, want %q", got, benSeat)
		}
	})

	t.Run("a server that exits frees its seat", func(t *testing.T) {
		// A student's server may end itself (or its memory limit may
		// kill it): the hub then shows it stopped, so nobody can stop it
		// to free its seat, nor would idle culling.
		catTask := runningTask(t, cat)
		execInContainer(t, cli, catTask.Status.ContainerStatus.ContainerID, "python3", "-c",
			"import os, signal\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) not in (1, os.getpid()):\n        try: os.kill(int(p), signal.SIGKILL)\n        except OSError: pass")
		waitUntil(t, "the hub to see cat's server gone", time.Minute, func() bool {
			_, body := c.do("GET", "/hub/api/users/"+cat, adminTok, nil)
			return strings.Contains(string(body), `"server":null`)
		})
		resp, body := c.do("POST", "/hub/api/users/"+ben+"/server", adminTok, nil)
		if resp.StatusCode != 201 && resp.StatusCode != 202 {
			t.Fatalf("ben's start after cat's server exited: %s %s", resp.Status, body)
		}
		if ev := progressUntilDone(t, c, ben, adminTok); ev.Failed {
			t.Fatalf("ben's start after cat's server exited: %s", ev.Message)
		}
		if got := seatOfServer(t, ben); got != annSeat {
			t.Errorf("ben's server is on %q, want %q, the seat cat's server left", got, annSeat)
		}
		// cat's start now, with both seats held, is refused, and her
		// server, which exited, is kept, not recreated.
		before, _ := serviceOf(t, cat)
		resp, body = c.do("POST", "/hub/api/users/"+cat+"/server", adminTok, nil)
		why := string(body)
		if resp.StatusCode == 201 || resp.StatusCode == 202 {
			why = progressUntilDone(t, c, cat, adminTok).Message
		}
		if !strings.Contains(why, "all 2 of the hub's seats") {
			t.Errorf("cat's start with both seats held: %s %s", resp.Status, why)
		}
		if after, ok := serviceOf(t, cat); !ok || after.ID != before.ID {
			t.Errorf("cat's start refused for want of a seat replaced her server's service %s (now %s, %v)", before.ID, after.ID, ok)
		}
	})
}

// seatOfServer is the name of the network name's running server is on.
func seatOfServer(t *testing.T, name string) string {
	t.Helper()
	task := runningTask(t, name)
	if len(task.NetworksAttachments) != 1 {
		t.Fatalf("%s's task is on %d networks, want its seat alone", name, len(task.NetworksAttachments))
	}
	return task.NetworksAttachments[0].Network.Spec.Name
}

// runningTask is the running task of name's server's service.
func runningTask(t *testing.T, name string) swarm.Task {
	t.Helper()
	return runningTaskOf(t, spawner.ContainerName(name))
}

// runningTaskOf is the running task of the service named service.
func runningTaskOf(t *testing.T, service string) swarm.Task {
	t.Helper()
	svc, _, err := testenv.Docker(t).ServiceInspectWithRaw(context.Background(), service, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatalf("service %s: %v", service, err)
	}
	f := filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("desired-state", "running"))
	tasks, _ := testenv.Docker(t).TaskList(context.Background(), swarm.TaskListOptions{Filters: f})
	if len(tasks) != 1 || tasks[0].Status.ContainerStatus == nil {
		t.Fatalf("service %s has tasks %+v, want one running here", service, tasks)
	}
	return tasks[0]
}

// hubPortOf is the hub_port of c's settings.
func hubPortOf(t *testing.T, c *classroom) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dataDir, "classhub.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^hub_port = (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no hub_port in %s", b)
	}
	return string(m[1])
}
