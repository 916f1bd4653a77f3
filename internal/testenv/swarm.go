package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// swarmMade says this test binary made the engine's swarm, which
// LeaveSwarm then leaves; gwMade, that the swarm made the engine's
// docker_gwbridge too, which outlives the swarm and LeaveSwarm removes.
var (
	swarmMu   sync.Mutex
	swarmMade bool
	gwMade    bool
)

// Swarm makes the engine a manager of a swarm for the swarm backend's
// tests: when the engine is in no swarm, it makes a single-node one bound
// to loopback (`docker swarm init --advertise-addr 127.0.0.1`); a swarm
// that exists is used as it is. A worker node, or a swarm in another
// state, skips the test (fails it in CI). The package's TestMain calls
// LeaveSwarm after its tests, which leaves only a swarm Swarm made.
func Swarm(t testing.TB, cli client.APIClient) {
	t.Helper()
	swarmMu.Lock()
	defer swarmMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		Unavailable(t, "no Docker engine: %v", engine.Explain(err))
	}
	switch info.Swarm.LocalNodeState {
	case swarm.LocalNodeStateActive:
		if !info.Swarm.ControlAvailable {
			Unavailable(t, "the engine is a worker of a swarm; the swarm tests need a manager")
		}
		return
	case swarm.LocalNodeStateInactive:
	default:
		Unavailable(t, "the engine's swarm is %s; the swarm tests need an active one or none", info.Swarm.LocalNodeState)
	}
	_, err = cli.NetworkInspect(ctx, engine.GatewayBridge, network.InspectOptions{})
	gwMade = cerrdefs.IsNotFound(err)
	if _, err := cli.SwarmInit(ctx, swarm.InitRequest{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"}); err != nil {
		t.Fatalf("make a single-node swarm: %v", err)
	}
	swarmMade = true
}

// RunLeavingSwarm is a TestMain's m.Run for a package that calls Swarm:
// afterwards it leaves the swarm Swarm made, if it made one, and fails the
// run when it cannot.
func RunLeavingSwarm(m *testing.M) int {
	code := m.Run()
	if err := LeaveSwarm(); err != nil {
		fmt.Fprintf(os.Stderr, "leave the swarm the tests made: %v\n", err)
		code = 1
	}
	return code
}

// LeaveSwarm leaves the swarm Swarm made, if it made one, so the engine is
// left as it was found. It returns what went wrong, for TestMain to print.
func LeaveSwarm() error {
	swarmMu.Lock()
	defer swarmMu.Unlock()
	if !swarmMade {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := engine.Connect(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := engine.LeaveSwarm(ctx, cli, gwMade); err != nil {
		return err
	}
	swarmMade, gwMade = false, false
	return nil
}
