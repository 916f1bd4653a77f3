package spawner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// testImage is the classic image (jupyterhub-singleuser 3.0, as the stub
// hub answers), named explicitly as it is not the default.
const testImage = testenv.NotebookImage

// testEnv is one test's own network, stand-in hub and spawner. Its users
// are named t<id>-<name> so parallel runs by others never collide, and
// everything it made is removed by label in t.Cleanup.
type testEnv struct {
	t   *testing.T
	ctx context.Context
	cli *client.Client
	bus *events.Bus
	cfg config.Config
	d   *Docker
	net Network
	hub *stubHub
	id  string
}

func randomID(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func connect(t *testing.T) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatalf("these tests need the Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	if _, err := cli.ImageInspect(ctx, testImage); err != nil {
		t.Fatalf("these tests need the image %s (`classhub image build`): %v", testImage, err)
	}
	return cli
}

func newTestEnv(t *testing.T, mutate ...func(*config.Config)) *testEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	e := &testEnv{t: t, ctx: ctx, cli: connect(t), bus: events.NewBus(10000), id: randomID(t)}
	e.cfg = config.Default()
	e.cfg.Image = testImage
	e.cfg.Network = "classhub-test-" + e.id
	e.cfg.MemoryLimit = "512M"
	// Generous, only so a broken server cannot hang the run.
	e.cfg.HTTPTimeout = config.Duration(3 * time.Minute)
	e.cfg.StartTimeout = config.Duration(2 * time.Minute)
	for _, m := range mutate {
		m(&e.cfg)
	}
	t.Cleanup(func() { cleanupByLabel(t, e.cli, "t"+e.id+"-", e.cfg.Network) })
	e.d = e.spawner(e.cfg)
	n, err := e.d.EnsureNetwork(ctx)
	if err != nil {
		t.Fatalf("EnsureNetwork: %v", err)
	}
	e.net = n
	e.hub = startStubHub(t, n.BindAddr)
	return e
}

// spawner is a Docker spawner with settings cfg, as a hub (re)started
// with them makes one.
func (e *testEnv) spawner(cfg config.Config) *Docker {
	return New(e.cli, Options{Config: cfg, Bus: e.bus, Version: "test", StopTimeout: 3 * time.Second})
}

func (e *testEnv) user(name string) string { return "t" + e.id + "-" + name }

// req is a start of user's server whose progress goes to the test's bus,
// as the hub publishes it.
func (e *testEnv) req(user, token string) StartRequest {
	return StartRequest{User: user, APIToken: token, HubPort: e.hub.port, Progress: func(ev events.Event) { e.bus.Publish(ev) }}
}

func (e *testEnv) start(user, token string) Server {
	e.t.Helper()
	s, err := e.d.Start(e.ctx, e.req(user, token))
	if err != nil {
		e.t.Fatalf("Start(%s): %v", user, err)
	}
	return s
}

func (e *testEnv) inspect(name string) container.InspectResponse {
	e.t.Helper()
	info, err := e.cli.ContainerInspect(e.ctx, name)
	if err != nil {
		e.t.Fatalf("inspect %s: %v", name, err)
	}
	return info
}

// cleanupByLabel removes the containers and volumes classhub made for users
// whose names start with prefix, anything left on the test network, and
// the network itself.
func cleanupByLabel(t *testing.T, cli *client.Client, prefix, netName string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, c := range cs {
		mine := strings.HasPrefix(c.Labels[engine.LabelUser], prefix)
		if c.NetworkSettings != nil {
			_, onNet := c.NetworkSettings.Networks[netName]
			mine = mine || onNet
		}
		if mine {
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
				t.Errorf("cleanup container %s: %v", c.ID, err)
			}
		}
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, v := range vs.Volumes {
		if strings.HasPrefix(v.Labels[engine.LabelUser], prefix) {
			if err := cli.VolumeRemove(ctx, v.Name, true); err != nil {
				t.Errorf("cleanup volume %s: %v", v.Name, err)
			}
		}
	}
	if netName != "" {
		if n, err := cli.NetworkInspect(ctx, netName, network.InspectOptions{}); err == nil && n.Labels[engine.LabelManaged] == "true" {
			if err := cli.NetworkRemove(ctx, n.ID); err != nil {
				t.Errorf("cleanup network %s: %v", netName, err)
			}
		}
	}
}

// execIn runs cmd in a container as its default user and returns the
// combined output and exit code.
func execIn(t *testing.T, cli client.APIClient, id string, cmd ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec attach %v: %v", cmd, err)
	}
	defer att.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, att.Reader); err != nil {
		t.Fatalf("exec read %v: %v", cmd, err)
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatalf("exec inspect %v: %v", cmd, err)
	}
	return buf.String(), ins.ExitCode
}

// httpStatus GETs url from the host, as the hub's proxy would.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stubHub stands in for the hub's internal API, which others are writing:
// just enough for the real jupyterhub-singleuser 3.0.0 to start and stay.
type stubHub struct {
	port int
	addr string

	mu       sync.Mutex
	versions int
	activity map[string]int
}

func startStubHub(t *testing.T, bindAddr string) *stubHub {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(bindAddr, "0"))
	if err != nil {
		t.Fatalf("stub hub: listen on %s: %v", bindAddr, err)
	}
	h := &stubHub{addr: ln.Addr().String(), activity: map[string]int{}}
	_, p, _ := net.SplitHostPort(h.addr)
	h.port, _ = strconv.Atoi(p)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

func (h *stubHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && (r.URL.Path == "/hub/api" || r.URL.Path == "/hub/api/"):
		h.mu.Lock()
		h.versions++
		h.mu.Unlock()
		w.Header().Set("X-JupyterHub-Version", "3.0.0")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":"3.0.0"}`))
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/hub/api/users/") && strings.HasSuffix(r.URL.Path, "/activity"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/hub/api/users/"), "/activity")
		h.mu.Lock()
		h.activity[name]++
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && r.URL.Path == "/hub/api/user":
		http.Error(w, `{"status":403,"message":"stand-in hub"}`, http.StatusForbidden)
	default:
		http.NotFound(w, r)
	}
}

func (h *stubHub) versionProbes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.versions
}

// waitFor polls cond until it holds; the deadline only stops a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// collect gathers a subscription's events. Publish delivers before it
// returns, so whatever an operation published is in the subscription by
// the time the operation returns; all reads it there, with no goroutine
// in between that a busy machine might not have run yet.
type collector struct {
	mu  sync.Mutex
	sub *events.Subscription
	evs []events.Event
}

func collect(t *testing.T, bus *events.Bus, filter func(events.Event) bool) *collector {
	c := &collector{sub: bus.Subscribe(10000, false, filter)}
	t.Cleanup(c.sub.Close)
	return c
}

func (c *collector) all() []events.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		select {
		case e, ok := <-c.sub.C:
			if ok {
				c.evs = append(c.evs, e)
				continue
			}
		default:
		}
		return append([]events.Event(nil), c.evs...)
	}
}

func (c *collector) find(kind events.Kind, substr string) (events.Event, bool) {
	for _, e := range c.all() {
		if e.Kind == kind && strings.Contains(e.Message, substr) {
			return e, true
		}
	}
	return events.Event{}, false
}

func (c *collector) count(kind events.Kind) int {
	n := 0
	for _, e := range c.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
