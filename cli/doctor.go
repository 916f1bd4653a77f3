package cli

import (
	"context"
	"errors"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("doctor", command{
		summary: "check Docker, the network, the hub address and how servers are confined, and say what to fix",
		usage:   "doctor [--config FILE]",
		run:     runDoctor,
	})
}

// errReported is returned after a report already said what failed.
var errReported = errors.New("some checks failed")

func runDoctor(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("doctor", env)
	cfgFile := fs.String("config", "", "config file (default DATA_DIR/classhub.toml)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := loadConfig(g, *cfgFile, nil)
	if err != nil {
		return err
	}
	r := hub.Doctor(ctx, cfg)
	if r.OK() {
		r.Checks = append(r.Checks, capacityChecks(ctx, cfg, g.dataDir)...)
	}
	r.Print(env.Stdout)
	if !r.OK() {
		return errReported
	}
	return nil
}

// capacityChecks say how many students this laptop (or a swarm's nodes,
// one line each) holds, and why. Not knowing is no failure: the hub runs
// all the same; nor is a node down, though students whose servers it
// holds must wait for it.
func capacityChecks(ctx context.Context, cfg config.Config, dataDir string) []hub.DoctorCheck {
	c, err := hub.MachineCapacity(ctx, cfg, dataDir)
	if err != nil {
		return []hub.DoctorCheck{{Name: "capacity", OK: true, Weak: true, Detail: "could not work it out: " + err.Error(),
			Advice: "run `classhub doctor` again once the engine answers"}}
	}
	checks := []hub.DoctorCheck{{Name: "capacity", OK: true, Detail: c.Sentence() + " " + c.Detail()}}
	for i, line := range c.NodeLines(nil) {
		check := hub.DoctorCheck{Name: "node", OK: true, Detail: line}
		if !c.Nodes[i].Usable() {
			check.Weak = true
			check.Advice = "new servers go to the other nodes; a student whose files are on a volume of this node's local driver cannot start until it is back: " +
				"`docker node ls` shows it, and `docker node update --availability active " + c.Nodes[i].Hostname + "` makes a drained or paused node take servers again"
		}
		checks = append(checks, check)
	}
	return checks
}
