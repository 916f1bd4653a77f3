package cli

import (
	"context"
	"fmt"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("swarm", command{
		summary: "run the hub itself as a Swarm service, so servers on every node of the swarm reach it",
		usage:   "swarm deploy [--image IMAGE] [--seats N] [--config FILE]",
		run:     runSwarm,
	})
}

func runSwarm(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 || args[0] != "deploy" {
		return usageError{"say what to do: `classhub swarm deploy` runs the hub as a service (build its image first with `classhub image build-hub`)"}
	}
	fs := g.flags("swarm deploy", env)
	ref := fs.String("image", hub.HubImage, "the hub's image, from `classhub image build-hub`")
	seats := fs.Int("seats", 0, fmt.Sprintf("how many servers can run at once, each on a network it shares with the hub alone (default: as many as before, or %d; never fewer)", hub.DefaultSeats))
	cfgFile := fs.String("config", "", "config file (default DATA_DIR/classhub.toml)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := loadConfig(g, *cfgFile, func(c *config.Config) { c.Backend = config.BackendSwarm })
	if err != nil {
		return err
	}
	id, n, err := hub.DeployHub(ctx, cfg, g.dataDir, *ref, *seats)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "The hub runs as service %s (%s) on this node, from %s with its data in %s.\n", hub.HubServiceName, shortID(id), *ref, g.dataDir)
	fmt.Fprintf(env.Stdout, "It has %d seats: up to %d servers run at once, each on a network it shares with the hub alone, so no student's server can reach another's. `classhub swarm deploy --seats N` adds more.\n", n, n)
	fmt.Fprintf(env.Stdout, "Its log: `docker service logs -f %s`; to stop it: `docker service rm %s` (servers keep running).\n", hub.HubServiceName, hub.HubServiceName)
	return nil
}
