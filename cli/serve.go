package cli

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("serve", command{
		summary: "run the hub without the desktop app",
		usage:   "serve [--listen ADDR] [--image IMAGE] [--config FILE]",
		run:     runServe,
	})
}

// loadConfig reads the config file (--config, else the data dir's) and
// applies the flags that override it for this run.
func loadConfig(g *globals, file string, override func(*config.Config)) (config.Config, error) {
	if file == "" {
		file = g.configPath()
	}
	cfg, err := config.Load(file)
	if err != nil {
		return cfg, err
	}
	if override != nil {
		override(&cfg)
	}
	return cfg, cfg.Validate()
}

func runServe(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("serve", env)
	listen := fs.String("listen", "", "public address (default 0.0.0.0:8000 in class mode, 127.0.0.1:8000 for one person)")
	img := fs.String("image", "", "notebook image (default from the config file)")
	cfgFile := fs.String("config", "", "config file (default DATA_DIR/classhub.toml)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := loadConfig(g, *cfgFile, func(c *config.Config) {
		setIf(fs, "listen", &c.Listen, *listen)
		setIf(fs, "image", &c.Image, *img)
	})
	if err != nil {
		return err
	}
	h, err := hub.Open(ctx, hub.Options{DataDir: g.dataDir, Config: cfg, Version: Version,
		Log: log.New(env.Stderr, "classhub: ", log.LstdFlags)})
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintf(env.Stdout, "classhub %s is serving.\n", Version)
	fmt.Fprintf(env.Stdout, "  class link:       %s\n", h.ClassURL())
	fmt.Fprintf(env.Stdout, "  listening on:     %s\n", h.PublicAddr())
	fmt.Fprintf(env.Stdout, "  for containers:   %s (network %s)\n", h.InternalAddr(), h.Network.Name)
	fmt.Fprintf(env.Stdout, "  image:            %s\n", cfg.Image)
	fmt.Fprintln(env.Stdout, "Press Ctrl+C to stop the hub; notebook servers keep running until you stop them.")
	return h.Serve(ctx)
}

// setIf sets *dst to v when the flag name was given.
func setIf(fs *flag.FlagSet, name string, dst *string, v string) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			*dst = v
		}
	})
}
