package spawner

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunLeavingSwarm(m)) }

// newSwarmEnv is newTestEnv for the swarm backend, on a single-node swarm
// testenv.Swarm makes when the engine is in none. The stand-in hub runs on
// this host, so the spawner meets its servers on docker_gwbridge and pins
// them to this node.
func newSwarmEnv(t *testing.T, mutate ...func(*config.Config)) *testEnv {
	t.Helper()
	testenv.Swarm(t, connect(t))
	e := newTestEnv(t, append([]func(*config.Config){func(c *config.Config) { c.Backend = config.BackendSwarm }}, mutate...)...)
	t.Cleanup(func() { cleanupServices(t, e.cli, "t"+e.id+"-", e.cfg.Network+swarmSuffix) })
	return e
}

// cleanupServices removes the services classhub made for users whose
// names start with prefix, their own overlays, and the overlay network
// netName; t.Cleanup runs
// it before newTestEnv's cleanupByLabel, which removes their containers
// and volumes.
func cleanupServices(t *testing.T, cli *client.Client, prefix, netName string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, s := range svcs {
		if strings.HasPrefix(s.Spec.Labels[engine.LabelUser], prefix) {
			if err := cli.ServiceRemove(ctx, s.ID); err != nil {
				t.Errorf("cleanup service %s: %v", s.Spec.Name, err)
			}
		}
	}
	nets := []string{netName}
	own, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, n := range own {
		if strings.HasPrefix(n.Labels[engine.LabelUser], prefix) {
			nets = append(nets, n.ID)
		}
	}
	// An overlay goes once the tasks' endpoints have left it.
	for _, name := range nets {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
			n, err := cli.NetworkInspect(ctx, name, network.InspectOptions{})
			if err != nil || n.Labels[engine.LabelManaged] != "true" {
				break
			}
			err = cli.NetworkRemove(ctx, n.ID)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("cleanup network %s: %v", name, err)
				break
			}
		}
	}
}

func (e *testEnv) service(name string) swarm.Service {
	e.t.Helper()
	s, _, err := e.cli.ServiceInspectWithRaw(e.ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		e.t.Fatalf("inspect service %s: %v", name, err)
	}
	return s
}

// TestSwarmLifecycle starts, stops, starts again and deletes a server that
// is a service: one replica while it runs, zero once stopped, none once
// deleted, its volume kept; the service carries classhub's labels, limits,
// confinement, the fingerprint, the image's ID (so no node pulls), and the
// placement on the node that holds its volume.
func TestSwarmLifecycle(t *testing.T) {
	e := newSwarmEnv(t)
	if e.net.PinNode == "" || e.net.BindAddr == "" {
		t.Fatalf("a hub on the host must meet its servers on %s, pinned to this node: %+v", gwBridge, e.net)
	}
	alice := e.user("alice")
	s := e.start(alice, "tok-a")
	if s.State != StateRunning || s.Target == "" {
		t.Fatalf("after Start: %+v", s)
	}
	if got := httpStatus(t, s.Target+s.Prefix+"api"); got != 200 {
		t.Fatalf("GET %sapi from the hub's host = %d, want 200", s.Prefix, got)
	}
	// What Swarm cannot express shows as a weakness, and nothing else.
	hc, err := e.d.HostConfig(e.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var weak []string
	for _, w := range Weaknesses(hc) {
		weak = append(weak, w.What)
	}
	want := []string(nil)
	if versions.LessThan(e.cli.ClientVersion(), "1.46") {
		want = []string{"no-new-privileges off, so setuid programs work"}
	}
	if !slices.Equal(weak, want) {
		t.Errorf("Weaknesses of the service = %q, want %q", weak, want)
	}
	svc := e.service(ContainerName(alice))
	if s.ID != svc.ID {
		t.Errorf("Server.ID = %s, want the service's ID %s", s.ID, svc.ID)
	}
	l := svc.Spec.Labels
	if l[engine.LabelManaged] != "true" || l[engine.LabelRole] != RoleServer || l[engine.LabelUser] != alice || l[engine.LabelFingerprint] == "" {
		t.Errorf("service labels = %v", l)
	}
	if r := replicas(svc); r != 1 {
		t.Errorf("replicas while running = %d, want 1", r)
	}
	cs := svc.Spec.TaskTemplate.ContainerSpec
	if !strings.HasPrefix(cs.Image, "sha256:") {
		t.Errorf("service image = %q, want the image's ID so that no node tries to pull", cs.Image)
	}
	if !slices.Contains(cs.CapabilityDrop, "ALL") {
		t.Errorf("CapabilityDrop = %v, want ALL", cs.CapabilityDrop)
	}
	lim := svc.Spec.TaskTemplate.Resources.Limits
	if lim.MemoryBytes != 512<<20 || lim.NanoCPUs != 1e9 || lim.Pids != config.DefaultPidsLimit {
		t.Errorf("limits = %+v", lim)
	}
	if c := svc.Spec.TaskTemplate.Placement.Constraints; !slices.Equal(c, []string{"node.id==" + e.net.PinNode}) {
		t.Errorf("placement = %v, want node.id==%s", c, e.net.PinNode)
	}
	if v, _ := e.cli.VolumeInspect(e.ctx, s.Volume); v.Labels[LabelNode] != e.net.PinNode {
		t.Errorf("volume %s records node %q, want %s", s.Volume, v.Labels[LabelNode], e.net.PinNode)
	}

	if err := e.d.Stop(e.ctx, alice); err != nil {
		t.Fatal(err)
	}
	st, err := e.d.Status(e.ctx, alice)
	if err != nil || st.State != StateStopped {
		t.Fatalf("after Stop: %+v, %v", st, err)
	}
	if r := replicas(e.service(ContainerName(alice))); r != 0 {
		t.Errorf("replicas after Stop = %d, want 0", r)
	}

	s2 := e.start(alice, "tok-a")
	if s2.ID != s.ID || s2.State != StateRunning {
		t.Errorf("a start after a stop must scale the same service up: %+v (was %s)", s2, s.ID)
	}
	if got := httpStatus(t, s2.Target+s2.Prefix+"api"); got != 200 {
		t.Fatalf("GET api after the restart = %d", got)
	}
	// A running server with a token the hub no longer has could not
	// authenticate: it is replaced, as a container is.
	s3 := e.start(alice, "tok-b")
	if s3.ID == s.ID {
		t.Errorf("a server running with another token was kept (%s)", s.ID)
	}
	s = s3

	if err := e.d.Delete(e.ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.cli.ServiceInspectWithRaw(e.ctx, ContainerName(alice), swarm.ServiceInspectOptions{}); err == nil {
		t.Error("the service is still there after Delete")
	}
	st, err = e.d.Status(e.ctx, alice)
	if err != nil || st.State != StateMissing {
		t.Fatalf("after Delete: %+v, %v", st, err)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, s.Volume); err != nil {
		t.Errorf("Delete must keep the volume %s: %v", s.Volume, err)
	}
}

// TestSwarmAdoptAfterRestart: a spawner made anew, as a hub restarted after
// kill -9 makes one, finds the running service by its labels, with its
// target and token, and the next start uses it instead of making another.
func TestSwarmAdoptAfterRestart(t *testing.T) {
	e := newSwarmEnv(t)
	bob := e.user("bob")
	s := e.start(bob, "tok-bob")

	d2 := e.spawner(e.cfg)
	list, err := d2.Adopt(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(x Server) bool { return x.User == bob })
	if i < 0 {
		t.Fatalf("Adopt did not find %s: %+v", bob, list)
	}
	got := list[i]
	if got.State != StateRunning || got.ID != s.ID || got.Target != s.Target || got.APIToken != "tok-bob" {
		t.Fatalf("adopted %+v, want running %s at %s with its token", got, s.ID, s.Target)
	}
	again, err := d2.Start(e.ctx, e.req(bob, "tok-bob"))
	if err != nil || again.ID != s.ID {
		t.Fatalf("start after adoption = %+v, %v; want the same service %s", again, err, s.ID)
	}
}

// TestSwarmSettingsChangeRecreates: a stopped server whose settings
// changed (the memory limit) is recreated at its next start, as a
// container is, by the same fingerprint.
func TestSwarmSettingsChangeRecreates(t *testing.T) {
	e := newSwarmEnv(t)
	carol := e.user("carol")
	s := e.start(carol, "tok")
	if err := e.d.Stop(e.ctx, carol); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.MemoryLimit = "768M"
	d2 := e.spawner(cfg)
	c := collect(t, e.bus, nil)
	s2, err := d2.Start(e.ctx, e.req(carol, "tok"))
	if err != nil {
		t.Fatal(err)
	}
	if s2.ID == s.ID {
		t.Error("the service was reused although its memory limit changed")
	}
	if _, ok := c.find(events.Notice, "the memory limit changed"); !ok {
		t.Errorf("no notice says why the server was recreated: %+v", c.all())
	}
	if lim := e.service(ContainerName(carol)).Spec.TaskTemplate.Resources.Limits; lim.MemoryBytes != 768<<20 {
		t.Errorf("memory limit = %d", lim.MemoryBytes)
	}
}

// TestSwarmRefusals: a spawner for the swarm backend on an engine that is a
// manager refuses nothing; its refusal for an engine in no swarm says what
// to do.
func TestSwarmRefusals(t *testing.T) {
	for _, info := range []swarm.Info{
		{LocalNodeState: swarm.LocalNodeStateInactive},
		{LocalNodeState: swarm.LocalNodeStateActive, NodeID: "n1"},
	} {
		_, err := SwarmManager(info)
		if err == nil || !strings.Contains(err.Error(), "docker") {
			t.Errorf("SwarmManager(%+v) = %v, want a refusal that says what to run", info, err)
		}
	}
	if id, err := SwarmManager(swarm.Info{LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: true, NodeID: "n1"}); err != nil || id != "n1" {
		t.Errorf("a manager: %q, %v", id, err)
	}
}

// taskContainer is the ID of the container that runs the service's task on
// this node.
func (e *testEnv) taskContainer(serviceID string) string {
	e.t.Helper()
	tasks, err := e.cli.TaskList(e.ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
	if err != nil {
		e.t.Fatal(err)
	}
	t := newestTask(tasks)
	if t == nil || t.Status.ContainerStatus == nil || t.Status.ContainerStatus.ContainerID == "" {
		e.t.Fatalf("service %s runs no container here: %+v", serviceID, t)
	}
	return t.Status.ContainerStatus.ContainerID
}

// TestSwarmICC: on the swarm backend too, one student's server gets no
// answer from another's port 8888, by any address the engine gave it (on
// an overlay, on docker_gwbridge) or by its service's name, while both
// reach the hub and the hub reaches both: each is on an overlay of its
// own, which Delete removes.
func TestSwarmICC(t *testing.T) {
	e := newSwarmEnv(t)
	a := e.start(e.user("ann"), "tok-a")
	bUser := e.user("ben")
	b := e.start(bUser, "tok-b")
	aC, bC := e.taskContainer(a.ID), e.taskContainer(b.ID)
	var bAddrs []string
	for name, ep := range e.inspect(bC).NetworkSettings.Networks {
		if ep.IPAddress == "" {
			t.Fatalf("ben's task has no address on %s", name)
		}
		bAddrs = append(bAddrs, ep.IPAddress)
	}
	if len(bAddrs) == 0 {
		t.Fatal("ben's task has no address")
	}
	bAddrs = append(bAddrs, ContainerName(bUser))
	// An HTTP exchange, not a bare connect: a sandbox's user-mode network
	// may accept a connection to any address off the machine.
	get := func(url string) []string {
		return []string{"python3", "-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", url}
	}
	// Control: from ann's container, her own server answers on the
	// same port, and the hub answers.
	if out, code := execIn(t, e.cli, aC, get("http://127.0.0.1:"+strconv.Itoa(ServerPort)+a.Prefix+"api")...); code != 0 || !strings.Contains(out, `"version"`) {
		t.Fatalf("ann's own server does not answer in her container: %s", out)
	}
	if out, code := execIn(t, e.cli, aC, "python3", "-c", "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)", e.net.HubHost, strconv.Itoa(e.hub.port)); code != 0 {
		t.Fatalf("ann's server cannot reach the hub: %s", out)
	}
	for _, addr := range bAddrs {
		url := "http://" + net.JoinHostPort(addr, strconv.Itoa(ServerPort)) + b.Prefix + "api"
		if out, code := execIn(t, e.cli, aC, get(url)...); code == 0 || strings.Contains(out, `"version"`) {
			t.Errorf("ann's server got an answer from ben's at %s: %s", url, out)
		}
	}
	for _, s := range []Server{a, b} {
		if code := httpStatus(t, s.Target+s.Prefix+"api"); code != 200 {
			t.Errorf("the hub got %d from %s's server", code, s.User)
		}
	}
	// Each server is on an overlay of its own, which goes with it.
	nets := e.service(ContainerName(a.User)).Spec.TaskTemplate.Networks
	if len(nets) != 1 {
		t.Fatalf("ann's service is on networks %+v, want her own alone", nets)
	}
	own, err := e.cli.NetworkInspect(e.ctx, nets[0].Target, network.InspectOptions{})
	var on []string
	for id := range own.Containers {
		if !strings.HasPrefix(id, "lb-") { // the overlay's load balancer
			on = append(on, id)
		}
	}
	if err != nil || own.Labels[engine.LabelUser] != a.User || own.Labels[engine.LabelManaged] != "true" || !slices.Equal(on, []string{aC}) {
		t.Fatalf("ann's network %s: labels %v, containers %v, %v; want classhub's for her, with her task %s alone", own.Name, own.Labels, on, err, aC)
	}
	if err := e.d.Delete(e.ctx, a.User); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.NetworkInspect(e.ctx, own.ID, network.InspectOptions{}); err == nil {
		t.Errorf("ann's network %s is still there after Delete", own.Name)
	}
}

// gwClient is an engine whose docker_gwbridge is gw.
type gwClient struct {
	client.APIClient
	gw network.Inspect
}

func (c gwClient) NetworkInspect(context.Context, string, network.InspectOptions) (network.Inspect, error) {
	return c.gw, nil
}

// TestSwarmGatewayICC: a docker_gwbridge that lets containers talk to each
// other (one made by hand before the swarm) is refused, since every server
// a hub on the host runs has an address on it; the engine's own is used.
func TestSwarmGatewayICC(t *testing.T) {
	for _, opts := range []map[string]string{nil, {iccOption: "true"}} {
		b := &services{d: New(gwClient{gw: network.Inspect{Name: gwBridge, Options: opts}}, Options{Config: config.Default()})}
		_, err := b.gatewayBridge(context.Background())
		if !errors.Is(err, ErrGatewayICC) || !strings.Contains(err.Error(), "-o "+iccOption+"=false") {
			t.Errorf("docker_gwbridge with options %v: %v, want a refusal that says how to recreate it", opts, err)
		}
	}
	b := &services{d: New(gwClient{gw: network.Inspect{Name: gwBridge, Options: map[string]string{iccOption: "false"}}}, Options{Config: config.Default()})}
	if _, err := b.gatewayBridge(context.Background()); err != nil {
		t.Errorf("the engine's docker_gwbridge: %v", err)
	}
}

// TestSwarmSeatHeldAfterRemove: a server whose service is removed while
// its task still runs (a replace removes a running server, whose container
// then has its stop grace period to go, and a student's server may ignore
// SIGTERM) still holds its network until the container is gone: a seat
// handed to another server meanwhile would put the two on one network.
func TestSwarmSeatHeldAfterRemove(t *testing.T) {
	e := newSwarmEnv(t)
	b := &services{d: e.d}
	user := e.user("ann")
	img, err := e.cli.ImageInspect(e.ctx, testImage)
	if err != nil {
		t.Fatal(err)
	}
	labels := e.d.labels(RoleServer, user)
	grace := time.Minute
	one := uint64(1)
	resp, err := e.cli.ServiceCreate(e.ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: ContainerName(user), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: img.ID, Labels: labels, StopGracePeriod: &grace,
				Command: []string{"python3", "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"}},
			Placement: &swarm.Placement{Constraints: []string{"node.role==manager"}},
			Networks:  []swarm.NetworkAttachmentConfig{{Target: e.net.Name}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ctr string
	for deadline := time.Now().Add(time.Minute); ctr == ""; time.Sleep(200 * time.Millisecond) {
		tasks, _ := b.tasks(e.ctx, resp.ID)
		if tk := newestTask(tasks); tk != nil && tk.Status.State == swarm.TaskStateRunning && tk.Status.ContainerStatus != nil {
			ctr = tk.Status.ContainerStatus.ContainerID
		} else if time.Now().After(deadline) {
			t.Fatalf("the test's service does not run: %+v", tk)
		}
	}
	t.Cleanup(func() { e.cli.ContainerRemove(context.Background(), ctr, container.RemoveOptions{Force: true}) })
	if err := e.cli.ServiceRemove(e.ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the swarm has marked the task for removal
	held, err := b.heldSeats(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ins := e.inspect(ctr); ins.State == nil || !ins.State.Running {
		t.Fatalf("the removed service's container is no longer running, so this test shows nothing: %+v", ins.State)
	}
	if !held[e.net.ID] {
		t.Errorf("network %s is free while a removed service's container still runs on it", e.net.Name)
	}
}
