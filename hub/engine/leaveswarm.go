package engine

import (
	"context"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
)

// LeaveSwarm makes the engine leave its swarm and, when removeGateway (the
// caller's swarm made docker_gwbridge, which outlives the swarm), removes
// that bridge too, so the engine is as it was before the swarm. Tests and
// the bench that made a swarm call it.
func LeaveSwarm(ctx context.Context, cli client.APIClient, removeGateway bool) error {
	if err := cli.SwarmLeave(ctx, true); err != nil {
		return fmt.Errorf("leave the swarm: %w", err)
	}
	if !removeGateway {
		return nil
	}
	// The bridge goes once the engine has let go of the ingress sandbox
	// that used it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err := cli.NetworkRemove(ctx, GatewayBridge)
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove %s, which the swarm made: %w", GatewayBridge, err)
		}
	}
}

// GatewayBridge is the bridge a swarm node's containers reach the world
// and its host through, which the engine makes at `docker swarm init`.
const GatewayBridge = "docker_gwbridge"
