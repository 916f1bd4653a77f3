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
		usage:   "swarm deploy [--image IMAGE] [--config FILE]",
		run:     runSwarm,
	})
}

func runSwarm(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 || args[0] != "deploy" {
		return usageError{"say what to do: `classhub swarm deploy` runs the hub as a service (build its image first with `classhub image build-hub`)"}
	}
	fs := g.flags("swarm deploy", env)
	ref := fs.String("image", hub.HubImage, "the hub's image, from `classhub image build-hub`")
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
	id, err := hub.DeployHub(ctx, cfg, g.dataDir, *ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "The hub runs as service %s (%s) on this node, from %s with its data in %s.\n", "classhub-hub", shortID(id), *ref, g.dataDir)
	fmt.Fprintln(env.Stdout, "Its log: `docker service logs -f classhub-hub`; to stop it: `docker service rm classhub-hub` (servers keep running).")
	fmt.Fprintln(env.Stdout, "Weaker than the hub on this node's host: its servers share its overlay network, so a student's server can connect to another's (each still needs its own login). With `classhub serve --backend swarm` here instead, each server has an overlay of its own.")
	return nil
}
