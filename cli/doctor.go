package cli

import (
	"context"
	"errors"

	"github.com/classhub/classhub/hub"
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
	r.Print(env.Stdout)
	if !r.OK() {
		return errReported
	}
	return nil
}
