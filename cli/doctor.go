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
		r.Checks = append(r.Checks, capacityCheck(ctx, cfg, g.dataDir))
	}
	r.Print(env.Stdout)
	if !r.OK() {
		return errReported
	}
	return nil
}

// capacityCheck says how many students this laptop holds, and why. Not
// knowing is no failure: the hub runs all the same.
func capacityCheck(ctx context.Context, cfg config.Config, dataDir string) hub.DoctorCheck {
	c, err := hub.MachineCapacity(ctx, cfg, dataDir)
	if err != nil {
		return hub.DoctorCheck{Name: "capacity", OK: true, Weak: true, Detail: "could not work it out: " + err.Error(),
			Advice: "run `classhub doctor` again once the engine answers"}
	}
	return hub.DoctorCheck{Name: "capacity", OK: true, Detail: c.Sentence() + " " + c.Detail()}
}
