package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

func TestEngineCheckGivesTheAdvice(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{engine.Explain(fmt.Errorf("dial unix /var/run/docker.sock: %w", syscall.EACCES)), "usermod -aG docker"},
		{engine.Explain(fmt.Errorf("dial unix /var/run/docker.sock: %w", syscall.ENOENT)), "not running"},
	}
	for _, tt := range tests {
		c := engineCheck(tt.err)
		if c.OK || !strings.Contains(c.Advice, tt.want) {
			t.Errorf("engineCheck(%v) = %+v, want advice containing %q", tt.err, c, tt.want)
		}
	}
}

func TestEngineDownFailsWithAdvice(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	r := Run(context.Background(), config.Default())
	var out bytes.Buffer
	r.Print(&out)
	if r.OK() {
		t.Fatalf("report passed with no engine:\n%s", out.String())
	}
	last := r.Checks[len(r.Checks)-1]
	if last.Name != "engine" || last.Advice != engine.AdviceNotRunning {
		t.Errorf("last check = %+v, want the engine check with the start-Docker advice", last)
	}
	if !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "cannot run here yet") {
		t.Errorf("report does not say what failed:\n%s", out.String())
	}
}

// TestRemoteEngineFailsFirst: an engine on another machine fails the
// first check, with what to do instead, and no later check runs.
func TestRemoteEngineFailsFirst(t *testing.T) {
	for _, host := range []string{"tcp://192.0.2.1:2376", "ssh://user@example.invalid"} {
		t.Setenv("DOCKER_HOST", host)
		r := Run(context.Background(), config.Default())
		var out bytes.Buffer
		r.Print(&out)
		if r.OK() || len(r.Checks) != 1 {
			t.Fatalf("DOCKER_HOST=%s: want one failed check, got:\n%s", host, out.String())
		}
		if c := r.Checks[0]; !errors.Is(engine.Locate(host).Refusal(), engine.ErrRemote) || !strings.Contains(c.Advice, "run classhub on") {
			t.Errorf("DOCKER_HOST=%s: check %+v does not say what to do instead", host, c)
		}
	}
}

// TestRealEnginePasses runs every check, including the probe container,
// on this machine's engine.
func TestRealEnginePasses(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.NotebookImage)
	cfg := config.Default()
	cfg.Image = testenv.NotebookImage
	// A random name, so that runs at the same moment never share (and
	// remove) one network.
	cfg.Network = fmt.Sprintf("classhub-test-doctor-%08x", rand.Uint32())
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), cfg.Network) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := Run(ctx, cfg)
	var out bytes.Buffer
	r.Print(&out)
	if !r.OK() {
		t.Fatalf("doctor failed on a working machine:\n%s", out.String())
	}
	for _, want := range []string{"engine version", "probe", "reached the hub", "confinement", "servers"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if testing.Verbose() {
		os.Stdout.Write(out.Bytes())
	}
}

// TestNetworkLines: every backend's network is a plain ok line that says
// servers cannot reach each other; the hub as a Swarm service says how
// many seats it meets them on.
func TestNetworkLines(t *testing.T) {
	c := networkCheck(spawner.Network{Name: "classhub-swarm", Subnet: "10.0.1.0/24", Seats: make([]spawner.Seat, 40)})
	if !c.OK || c.Weak || !strings.Contains(c.Detail, "40 seats") || !strings.Contains(c.Detail, "cannot reach each other") {
		t.Errorf("hub as a service: %+v", c)
	}
	for _, n := range []spawner.Network{{Name: "classhub"}, {Name: "classhub-swarm", PinNode: "n1"}} {
		if c := networkCheck(n); !c.OK || c.Weak || !strings.Contains(c.Detail, "cannot reach each other") {
			t.Errorf("%+v: %+v", n, c)
		}
	}
}

// TestHubServiceLines: a deployed hub service is an ok line with its seats,
// weak when every seat is held, and a FAIL that says where to look when its
// task does not run.
func TestHubServiceLines(t *testing.T) {
	if c := hubServiceCheck(spawner.HubState{State: "running", Node: "n1", Seats: 40, Held: 3}, nil); !c.OK || c.Weak || !strings.Contains(c.Detail, "3 of its 40 seats") {
		t.Errorf("running: %+v", c)
	}
	if c := hubServiceCheck(spawner.HubState{State: "running", Seats: 2, Held: 2}, nil); !c.OK || !c.Weak || !strings.Contains(c.Advice, "--seats 4") {
		t.Errorf("every seat held: %+v", c)
	}
	if c := hubServiceCheck(spawner.HubState{State: "rejected", Err: "No such image"}, nil); c.OK || !strings.Contains(c.Detail, "rejected: No such image") || !strings.Contains(c.Advice, "docker service ps") {
		t.Errorf("rejected: %+v", c)
	}
	if c := hubServiceCheck(spawner.HubState{}, nil); c.OK || !strings.Contains(c.Detail, "not made yet") {
		t.Errorf("no task: %+v", c)
	}
}
