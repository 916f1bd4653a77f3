package spawner

import (
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
)

func baseSpec(t *testing.T, mutate func(*config.Config, *Network, *StartRequest)) spec {
	t.Helper()
	cfg := config.Default()
	netw := Network{Name: "classhub", HubHost: "172.18.0.1", ContainerIPsRoutable: true}
	req := StartRequest{User: "alice", APIToken: "secret-token", HubPort: 8081}
	if mutate != nil {
		mutate(&cfg, &netw, &req)
	}
	d := New(nil, Options{Config: cfg})
	sp, err := d.specFor(cfg, netw, "sha256:aaa", imageMode{mode: ModeJupyterHub}, req)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestFingerprint(t *testing.T) {
	base := baseSpec(t, nil).fingerprint
	if len(base) != 64 {
		t.Fatalf("fingerprint %q is not a SHA-256", base)
	}
	if again := baseSpec(t, nil).fingerprint; again != base {
		t.Error("the fingerprint is not stable")
	}
	same := map[string]func(*config.Config, *Network, *StartRequest){
		"another token":          func(c *config.Config, n *Network, r *StartRequest) { r.APIToken = "other" },
		"spawn concurrency":      func(c *config.Config, n *Network, r *StartRequest) { c.SpawnConcurrency = 9 },
		"timeouts":               func(c *config.Config, n *Network, r *StartRequest) { c.HTTPTimeout *= 2 },
		"env order is canonical": func(c *config.Config, n *Network, r *StartRequest) { c.Environment = map[string]string{} },
	}
	for name, m := range same {
		if got := baseSpec(t, m).fingerprint; got != base {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	differ := map[string]func(*config.Config, *Network, *StartRequest){
		"memory":        func(c *config.Config, n *Network, r *StartRequest) { c.MemoryLimit = "1G" },
		"swap":          func(c *config.Config, n *Network, r *StartRequest) { c.SwapLimit = "4G" },
		"cpu":           func(c *config.Config, n *Network, r *StartRequest) { c.CPULimit = 2 },
		"image name":    func(c *config.Config, n *Network, r *StartRequest) { c.Image = "other:1" },
		"network":       func(c *config.Config, n *Network, r *StartRequest) { n.Name = "other" },
		"hub address":   func(c *config.Config, n *Network, r *StartRequest) { n.HubHost = "172.19.0.1" },
		"hub port":      func(c *config.Config, n *Network, r *StartRequest) { r.HubPort = 9000 },
		"environment":   func(c *config.Config, n *Network, r *StartRequest) { c.Environment = map[string]string{"A": "1"} },
		"not routable":  func(c *config.Config, n *Network, r *StartRequest) { n.ContainerIPsRoutable = false },
		"another user":  func(c *config.Config, n *Network, r *StartRequest) { r.User = "bob" },
		"env var value": func(c *config.Config, n *Network, r *StartRequest) { c.Environment = map[string]string{"A": "2"} },
		"pids limit":    func(c *config.Config, n *Network, r *StartRequest) { c.PidsLimit = 1000 },
		"no pids limit": func(c *config.Config, n *Network, r *StartRequest) { c.PidsLimit = 0 },
		// Turning user configuration on or off recreates stopped servers.
		"user config": func(c *config.Config, n *Network, r *StartRequest) { c.AllowUserConfig = true },
	}
	seen := map[string]string{base: "base"}
	for name, m := range differ {
		got := baseSpec(t, m).fingerprint
		if prev, dup := seen[got]; dup {
			t.Errorf("%s has the same fingerprint as %s", name, prev)
		}
		seen[got] = name
	}
	// The image is identified by ID, not tag: a rebuilt image counts.
	d := New(nil, Options{Config: config.Default()})
	sp := baseSpec(t, nil)
	other, _ := d.specFor(config.Default(), Network{Name: "classhub", HubHost: "172.18.0.1", ContainerIPsRoutable: true}, "sha256:bbb", imageMode{mode: ModeJupyterHub},
		StartRequest{User: "alice", APIToken: "secret-token", HubPort: 8081})
	if other.fingerprint == sp.fingerprint {
		t.Error("a new image ID under the same tag kept the fingerprint")
	}
	if sp.cfg.Labels[engine.LabelFingerprint] != sp.fingerprint {
		t.Error("the spec's labels lack its fingerprint")
	}
}

// TestFingerprintCoversConfinement: a container made before classhub
// confined servers (or with its confinement loosened by hand) no longer
// matches, so it is recreated at its next start.
func TestFingerprintCoversConfinement(t *testing.T) {
	sp := baseSpec(t, nil)
	loosen := map[string]func(*container.HostConfig){
		"capabilities kept":  func(h *container.HostConfig) { h.CapDrop = nil },
		"a capability added": func(h *container.HostConfig) { h.CapAdd = []string{"NET_RAW"} },
		"new privileges":     func(h *container.HostConfig) { h.SecurityOpt = nil },
		"no pids limit":      func(h *container.HostConfig) { h.PidsLimit = nil },
	}
	for name, f := range loosen {
		h := *sp.host
		f(&h)
		if fingerprint(sp.cfg, &h, sp.imageID) == sp.fingerprint {
			t.Errorf("%s kept the fingerprint", name)
		}
	}
	old := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{Image: sp.imageID, HostConfig: &container.HostConfig{
			NetworkMode: sp.host.NetworkMode, Resources: sp.host.Resources,
		}},
		Config: &container.Config{Env: sp.cfg.Env},
	}
	old.HostConfig.PidsLimit = nil
	if got := joinReasons(driftReasons(old, sp.cfg, sp.host, sp.imageID)); got != "the process limit changed and its confinement changed" {
		t.Errorf("reasons for an unconfined container = %q", got)
	}
}

func TestSpecIsConfined(t *testing.T) {
	sp := baseSpec(t, nil)
	if w := Weaknesses(sp.host); len(w) > 0 {
		t.Errorf("a server made with the default settings is weak: %+v", w)
	}
	if sp.host.PidsLimit == nil || *sp.host.PidsLimit != config.DefaultPidsLimit {
		t.Errorf("pids limit = %v, want %d", sp.host.PidsLimit, config.DefaultPidsLimit)
	}
	open := baseSpec(t, func(c *config.Config, n *Network, r *StartRequest) { c.PidsLimit, c.MemoryLimit, c.CPULimit = 0, "", 0 })
	var whats []string
	for _, w := range Weaknesses(open.host) {
		if w.Advice == "" {
			t.Errorf("weakness %q says nothing to do", w.What)
		}
		whats = append(whats, w.What)
	}
	if got := strings.Join(whats, "; "); got != "no process limit; no memory limit; no CPU limit" {
		t.Errorf("weaknesses with every limit off = %q", got)
	}
	if w := Weaknesses(&container.HostConfig{}); len(w) != 5 {
		t.Errorf("an unconfined container has %d weaknesses, want 5: %+v", len(w), w)
	}
}

func TestDriftReasons(t *testing.T) {
	sp := baseSpec(t, nil)
	old := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{Image: "sha256:old", HostConfig: &container.HostConfig{
			NetworkMode: sp.host.NetworkMode, CapDrop: sp.host.CapDrop, SecurityOpt: sp.host.SecurityOpt,
			Resources: container.Resources{Memory: 1, MemorySwap: -1, NanoCPUs: sp.host.NanoCPUs, PidsLimit: sp.host.PidsLimit},
		}},
		Config: &container.Config{Env: append([]string{"PATH=/usr/bin"}, sp.cfg.Env...)},
	}
	got := joinReasons(driftReasons(old, sp.cfg, sp.host, sp.imageID))
	if got != "the image changed and the memory limit changed" {
		t.Errorf("reasons = %q", got)
	}
	moved := baseSpec(t, func(c *config.Config, n *Network, r *StartRequest) { r.HubPort = 9999; r.APIToken = "x" })
	old.Image, old.HostConfig.Memory, old.HostConfig.MemorySwap = sp.imageID, sp.host.Memory, sp.host.MemorySwap
	if got := joinReasons(driftReasons(old, moved.cfg, moved.host, moved.imageID)); got != "the hub's address changed" {
		t.Errorf("reasons for a new hub port = %q", got)
	}
	if got := joinReasons(driftReasons(old, sp.cfg, sp.host, sp.imageID)); got != "its settings changed" {
		t.Errorf("reasons with nothing visible = %q", got)
	}
	if got := joinReasons([]string{"a", "b", "c"}); got != "a, b and c" {
		t.Errorf("joinReasons = %q", got)
	}
}

// TestDriftRecreates: a stopped container from older settings is
// recreated, keeping the volume, and a notice says why; unchanged settings
// reuse it; a new token recreates it quietly.
func TestDriftRecreates(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("gina")
	notices := collect(t, e.bus, func(ev events.Event) bool { return ev.Kind == events.Notice && ev.User == user })
	first := e.start(user, "tok")
	if _, code := execIn(t, e.cli, first.ID, "sh", "-c", "echo kept > "+WorkDir+"/proof.txt"); code != 0 {
		t.Fatal("cannot write the proof file")
	}
	stopStart := func(token string) Server {
		t.Helper()
		if err := e.d.Stop(e.ctx, user); err != nil {
			t.Fatal(err)
		}
		return e.start(user, token)
	}
	fileKept := func(s Server) {
		t.Helper()
		if out, code := execIn(t, e.cli, s.ID, "cat", WorkDir+"/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
			t.Errorf("file lost: exit %d, %q", code, out)
		}
	}

	same := stopStart("tok")
	if same.ID != first.ID || notices.count(events.Notice) != 0 {
		t.Fatalf("unchanged settings recreated the container (notices %v)", notices.all())
	}

	cfg := e.cfg
	cfg.MemoryLimit = "640M"
	e.d = e.spawner(cfg)
	mem := stopStart("tok")
	if mem.ID == same.ID {
		t.Fatal("a new memory limit kept the old container")
	}
	if info := e.inspect(mem.ID); info.HostConfig.Memory != 640<<20 {
		t.Errorf("memory limit %d, want %d", info.HostConfig.Memory, 640<<20)
	}
	if _, ok := notices.find(events.Notice, "memory limit changed"); !ok {
		t.Errorf("no notice about the memory limit: %v", notices.all())
	}
	fileKept(mem)

	// A different image: commit the test image under a test tag so it gets
	// a new ID.
	tag := "classhub-test-" + e.id + "/notebook:drift"
	base, err := e.cli.ContainerCreate(e.ctx, &container.Config{Image: testImage, Labels: map[string]string{
		engine.LabelManaged: "true", engine.LabelRole: "test", engine.LabelUser: e.user("image-base")}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.ContainerCommit(e.ctx, base.ID, container.CommitOptions{Reference: tag, Changes: []string{
		"LABEL " + engine.LabelRole + "=test org.classhub.test=" + e.id}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Containers from the image go first, or removing it only
		// untags it and leaves a dangling image behind.
		cs, _ := e.cli.ContainerList(e.ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("ancestor", tag))})
		for _, c := range cs {
			e.cli.ContainerRemove(e.ctx, c.ID, container.RemoveOptions{Force: true})
		}
		e.cli.ContainerRemove(e.ctx, base.ID, container.RemoveOptions{Force: true})
		e.cli.ImageRemove(e.ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	// The hub changes the image while it runs (an instructor chose
	// another): the same spawner recreates the container at its next
	// start.
	e.d.SetImage(tag)
	img := stopStart("tok")
	if img.ID == mem.ID || img.Image != tag {
		t.Fatalf("a new image kept the old container (%s)", img.Image)
	}
	if _, ok := notices.find(events.Notice, "image changed"); !ok {
		t.Errorf("no notice about the image: %v", notices.all())
	}
	fileKept(img)

	before := notices.count(events.Notice)
	tok := stopStart("new-token")
	if tok.ID == img.ID {
		t.Fatal("a new token kept the container made with the old one")
	}
	if v, _ := envValue(e.inspect(tok.ID).Config.Env, "JUPYTERHUB_API_TOKEN"); v != "new-token" {
		t.Errorf("token in the container = %q", v)
	}
	if n := notices.count(events.Notice); n != before {
		t.Errorf("a token change published a notice: %v", notices.all())
	}
	fileKept(tok)

	// A running server whose token the hub no longer has is restarted.
	run, err := e.d.Start(e.ctx, e.req(user, "third-token"))
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == tok.ID {
		t.Fatal("a running server kept a token the hub does not know")
	}
	if _, ok := notices.find(events.Notice, "credentials"); !ok {
		t.Errorf("no notice about restarting a running server: %v", notices.all())
	}
	fileKept(run)
}
