package spawner

import (
	"errors"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
)

// TestLifecycle walks one user through start, stop, start, delete, start,
// delete data, start, with a file in the volume surviving everything but
// DeleteData.
func TestLifecycle(t *testing.T) {
	e := newTestEnv(t)
	// A host variable must never reach a server.
	t.Setenv("CLASSHUB_LEAK_CHECK", "leaked")
	user := e.user("Alice.Smith")
	got := collect(t, e.bus, events.ForUser(user))

	srv := e.start(user, "token-one")
	if srv.State != StateRunning || srv.ID == "" || !strings.HasPrefix(srv.Target, "http://") {
		t.Fatalf("Start returned %+v", srv)
	}
	if srv.Prefix != "/user/"+user+"/" {
		t.Errorf("Prefix = %q", srv.Prefix)
	}
	if code := httpStatus(t, srv.Target+srv.Prefix+"api"); code != 200 {
		t.Errorf("GET %sapi from the host = %d, want 200", srv.Prefix, code)
	}
	// The real singleuser asks the stand-in hub for its version at start:
	// JUPYTERHUB_API_URL reaches the hub from inside the container.
	waitFor(t, "the server's version probe to reach the hub", func() bool { return e.hub.versionProbes() > 0 })

	info := e.inspect(ContainerName(user))
	for k, want := range map[string]string{engine.LabelManaged: "true", engine.LabelUser: user, engine.LabelRole: RoleServer, engine.LabelVersion: "test"} {
		if info.Config.Labels[k] != want {
			t.Errorf("container label %s = %q, want %q", k, info.Config.Labels[k], want)
		}
	}
	if len(info.Config.Labels[engine.LabelFingerprint]) != 64 {
		t.Errorf("fingerprint label = %q", info.Config.Labels[engine.LabelFingerprint])
	}
	vol, err := e.cli.VolumeInspect(e.ctx, VolumeName(user))
	if err != nil {
		t.Fatal(err)
	}
	if vol.Labels[engine.LabelManaged] != "true" || vol.Labels[engine.LabelUser] != user || vol.Labels[engine.LabelRole] != RoleWork {
		t.Errorf("volume labels = %v", vol.Labels)
	}
	nw, err := e.cli.NetworkInspect(e.ctx, e.cfg.Network, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nw.Labels[engine.LabelManaged] != "true" || nw.Labels[engine.LabelRole] != RoleNetwork || nw.Options[iccOption] != "false" {
		t.Errorf("network labels %v, options %v", nw.Labels, nw.Options)
	}
	mem, _ := e.cfg.MemoryBytes()
	swap, _ := e.cfg.SwapBytes()
	if hc := info.HostConfig; hc.Memory != mem || hc.NanoCPUs != 1e9 || (hc.MemorySwap != swap && hc.MemorySwap != -1) {
		t.Errorf("limits: memory %d swap %d cpus %d; want %d, %d, 1e9", hc.Memory, hc.MemorySwap, hc.NanoCPUs, mem, swap)
	}
	if len(info.Mounts) != 1 || info.Mounts[0].Type != mount.TypeVolume || info.Mounts[0].Name != VolumeName(user) || info.Mounts[0].Destination != WorkDir {
		t.Errorf("mounts = %+v", info.Mounts)
	}
	if strings.Join(info.Config.Cmd, " ") != "jupyterhub-singleuser" {
		t.Errorf("Cmd = %v, want the image's", info.Config.Cmd)
	}
	if v, _ := envValue(info.Config.Env, "JUPYTERHUB_API_URL"); v != hubAPIURL(e.net.HubHost, e.hub.port) {
		t.Errorf("JUPYTERHUB_API_URL = %q", v)
	}
	for _, kv := range info.Config.Env {
		if strings.Contains(kv, "CLASSHUB_LEAK_CHECK") {
			t.Errorf("host environment leaked into the server: %s", kv)
		}
	}

	// jovyan can write to the fresh volume: named volumes copy the image's
	// ownership.
	out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "id -u && echo kept > "+WorkDir+"/proof.txt")
	if code != 0 || strings.TrimSpace(out) != "1000" {
		t.Fatalf("writing to the volume as the container user: exit %d, %q", code, out)
	}

	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	if s, err := e.d.Status(e.ctx, user); err != nil || s.State != StateStopped || s.ID != srv.ID {
		t.Fatalf("after Stop: %+v, %v", s, err)
	}
	err = e.d.DeleteData(e.ctx, user)
	if err == nil || !strings.Contains(err.Error(), "delete the server first") || !strings.Contains(err.Error(), WorkDir) {
		t.Fatalf("DeleteData with a container = %v, want a refusal saying what would be lost", err)
	}

	again := e.start(user, "token-one")
	if again.ID != srv.ID {
		t.Errorf("restart with unchanged settings made a new container")
	}
	if out, code := execIn(t, e.cli, again.ID, "cat", WorkDir+"/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after stop/start: exit %d, %q", code, out)
	}

	if err := e.d.Delete(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.ContainerInspect(e.ctx, ContainerName(user)); !cerrdefs.IsNotFound(err) {
		t.Fatalf("container after Delete: %v", err)
	}
	if s, _ := e.d.Status(e.ctx, user); s.State != StateMissing {
		t.Errorf("Status after Delete = %s", s.State)
	}
	third := e.start(user, "token-two")
	if out, code := execIn(t, e.cli, third.ID, "cat", WorkDir+"/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after delete/start: exit %d, %q", code, out)
	}

	if err := e.d.Delete(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := e.d.DeleteData(e.ctx, user); err != nil {
		t.Fatalf("DeleteData: %v", err)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(user)); !cerrdefs.IsNotFound(err) {
		t.Fatalf("volume after DeleteData: %v", err)
	}
	if err := e.d.DeleteData(e.ctx, user); err != nil {
		t.Errorf("DeleteData twice: %v", err)
	}
	fresh := e.start(user, "token-three")
	if _, code := execIn(t, e.cli, fresh.ID, "test", "-e", WorkDir+"/proof.txt"); code == 0 {
		t.Error("the file survived DeleteData")
	}

	var states []string
	for _, ev := range got.all() {
		if ev.Kind == events.ServerState {
			states = append(states, ev.State)
		}
	}
	seq := strings.Join(states, ",")
	for _, want := range []string{"starting,running", "stopping,stopped", "missing"} {
		if !strings.Contains(seq, want) {
			t.Errorf("ServerState events %s lack %s", seq, want)
		}
	}
	if _, ok := got.find(events.SpawnProgress, "Server ready"); !ok {
		t.Error("no SpawnProgress event said the server was ready")
	}
	if _, ok := got.find(events.Notice, "Deleted"); !ok {
		t.Error("DeleteData published no notice")
	}
	for _, ev := range got.all() {
		if strings.Contains(ev.Message, "token-") {
			t.Errorf("an event carries the token: %+v", ev)
		}
	}
}

// TestStopAndDeleteIdempotent: stopping or deleting a user without a server
// is not an error.
func TestStopAndDeleteIdempotent(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("nobody-here")
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := e.d.Delete(e.ctx, user); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if s, err := e.d.Status(e.ctx, user); err != nil || s.State != StateMissing {
		t.Errorf("Status = %+v, %v", s, err)
	}
	if _, err := e.d.Logs(e.ctx, user, 10); err == nil {
		t.Error("Logs of a missing server succeeded")
	}
	if _, err := e.d.Stats(e.ctx, user); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Stats of a missing server = %v, want ErrNotRunning", err)
	}
}

// TestLogsAndStats reads a running server's output and resource use.
func TestLogsAndStats(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("bob")
	e.start(user, "tok")
	logs, err := e.d.Logs(e.ctx, user, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "/user/"+user+"/") {
		t.Errorf("logs do not mention the server's prefix:\n%s", logs)
	}
	st, err := e.d.Stats(e.ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := e.cfg.MemoryBytes()
	if st.MemoryBytes == 0 || st.MemoryLimit != uint64(mem) || st.PIDs == 0 {
		t.Errorf("Stats = %+v, want memory in use, limit %d, some processes", st, mem)
	}
}

// TestServerExitsDuringStart: a server that dies while starting fails the
// start at once with its last output, and is not left running.
func TestServerExitsDuringStart(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) {
		c.Environment = map[string]string{"JUPYTERHUB_SINGLEUSER_APP": "no.such.module.App"}
	})
	user := e.user("carol")
	got := collect(t, e.bus, events.ForUser(user))
	_, err := e.d.Start(e.ctx, e.req(user, "tok"))
	if err == nil || !strings.Contains(err.Error(), "exited while starting") || !strings.Contains(err.Error(), "ModuleNotFoundError") {
		t.Fatalf("Start = %v, want an exit with the server's output", err)
	}
	if !strings.Contains(err.Error(), "(image "+testImage+")") {
		t.Errorf("Start = %v, which does not name the image", err)
	}
	if s, _ := e.d.Status(e.ctx, user); s.State == StateRunning {
		t.Error("the failed server is still running")
	}
	if ev, ok := got.find(events.ServerState, "exited while starting"); !ok || ev.State != string(StateFailed) || !ev.Failed {
		t.Errorf("no failed ServerState event: %+v", got.all())
	}
}

// TestForeignContainerLeftAlone: a container with classhub's name but not
// its label is reported, never touched.
func TestForeignContainerLeftAlone(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("dave")
	resp, err := e.cli.ContainerCreate(e.ctx, &container.Config{Image: testImage}, nil, nil, nil, ContainerName(user))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cli.ContainerRemove(e.ctx, resp.ID, container.RemoveOptions{Force: true}) })
	_, err = e.d.Start(e.ctx, e.req(user, "tok"))
	if !errors.Is(err, ErrNotManaged) || !strings.Contains(err.Error(), "classhub did not create it") {
		t.Fatalf("Start = %v, want ErrNotManaged", err)
	}
	for _, op := range []func() error{
		func() error { return e.d.Stop(e.ctx, user) },
		func() error { return e.d.Delete(e.ctx, user) },
	} {
		if err := op(); !errors.Is(err, ErrNotManaged) {
			t.Errorf("op on a foreign container = %v, want ErrNotManaged", err)
		}
	}
	if _, err := e.cli.ContainerInspect(e.ctx, resp.ID); err != nil {
		t.Errorf("the foreign container was touched: %v", err)
	}
}

// TestRecoverCreatedContainer: a half-made container ("created", from
// older settings) is replaced instead of leaving the user stuck.
func TestRecoverCreatedContainer(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("erin")
	stale, err := e.cli.ContainerCreate(e.ctx, &container.Config{Image: testImage, Labels: map[string]string{
		engine.LabelManaged: "true", engine.LabelUser: user, engine.LabelRole: RoleServer, engine.LabelFingerprint: "stale",
	}}, nil, nil, nil, ContainerName(user))
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, e.bus, events.ForUser(user))
	srv := e.start(user, "tok")
	if srv.ID == stale.ID {
		t.Fatal("the stale container was reused")
	}
	if _, ok := got.find(events.Notice, "Recreated"); !ok {
		t.Error("no notice said the container was recreated")
	}
}

// TestConcurrentStartsTwoSpawners: two spawners (two hubs, or a hub and a
// CLI) starting one user at once end with one container, through the
// engine's name conflict (409).
func TestConcurrentStartsTwoSpawners(t *testing.T) {
	e := newTestEnv(t)
	other := New(e.cli, Options{Config: e.cfg, Bus: e.bus})
	user := e.user("frank")
	type res struct {
		s   Server
		err error
	}
	ch := make(chan res, 2)
	for _, d := range []*Docker{e.d, other} {
		go func() {
			s, err := d.Start(e.ctx, e.req(user, "tok"))
			ch <- res{s, err}
		}()
	}
	got := collect(t, e.bus, events.ForUser(user))
	a, b := <-ch, <-ch
	if a.err != nil || b.err != nil {
		for _, ev := range got.all() {
			t.Logf("%s %s %s", ev.Kind, ev.State, ev.Message)
		}
		t.Fatalf("starts: %v, %v", a.err, b.err)
	}
	if a.s.ID != b.s.ID {
		t.Errorf("two containers for one user: %s and %s", a.s.ID, b.s.ID)
	}
}
