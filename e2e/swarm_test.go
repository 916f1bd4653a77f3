package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
		// containers and volumes; the overlays (the hub's and each
		// server's own) go once they are gone.
		nets := []string{"classhub-e2e-" + c.suffix + "-swarm"}
		own, _ := cli.NetworkList(ctx, network.ListOptions{Filters: f})
		for _, n := range own {
			if strings.HasSuffix(n.Labels[engine.LabelUser], c.suffix) {
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
func newHubService(t *testing.T, students ...string) (c *classroom, adminTok string, toks []string) {
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
	if out := c.classhub("swarm", "deploy", "--image", tag); !strings.Contains(out, "can connect to another's") {
		t.Errorf("swarm deploy does not say that the servers share the hub's overlay:\n%s", out)
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
// several machines needs (see newHubService): a server started through its
// published port answers through the proxy, reached over the overlay.
func TestSwarmHubService(t *testing.T) {
	c, adminTok, toks := newHubService(t, "alice")
	cli, ctx := testenv.Docker(t), context.Background()
	alice, aliceTok := c.user("alice"), toks[0]
	c.startAndWait(adminTok, alice)
	origin := c.origin(alice)
	if origin == "" {
		t.Fatal("the hub service sends alice nowhere")
	}
	resp, body := c.do("GET", origin+"/user/"+alice+"/api/status", aliceTok, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("alice's server answers %s %s through the hub service's proxy", resp.Status, body)
	}
	svc, ok := serviceOf(t, alice)
	if !ok {
		t.Fatal("alice's server is no service")
	}
	tasks, _ := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("desired-state", "running"))})
	if len(tasks) != 1 || len(tasks[0].NetworksAttachments) == 0 {
		t.Fatalf("alice's service has tasks %+v, want one on the overlay", tasks)
	}
}
