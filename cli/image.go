package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("image", command{
		summary: "build the notebook image from Debian packages, no registry needed",
		usage:   "image build [--profile scipy|lab|classic] [--packages \"P ...\"] [--tag T] | image build-hub [--tag T] [--binary FILE]",
		run:     runImage,
	})
}

func runImage(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) > 0 && args[0] == "build-hub" {
		return runBuildHub(ctx, env, g, args[1:])
	}
	if len(args) == 0 || args[0] != "build" {
		return usageError{"say what to do with the image: `classhub image build` (the notebook image) or `classhub image build-hub` (the hub's own, for a swarm)"}
	}
	fs := g.flags("image build", env)
	tag := fs.String("tag", config.DefaultImage, "name for the built image")
	profile := fs.String("profile", hub.DefaultImageProfile, "what the image holds: "+profileHelp())
	packages := fs.String("packages", "", "more Debian packages to install, separated by spaces or commas")
	mirror := fs.String("mirror", "", "Debian mirror URL to build from (default: this machine's apt sources)")
	verbose := fs.Bool("v", false, "show mmdebstrap's full output")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	prof, err := hub.LookupImageProfile(*profile)
	if err != nil {
		return usageError{err.Error()}
	}
	opts := hub.ImageOptions{Tag: *tag, Profile: prof.Name, Packages: splitPackages(*packages), Version: Version}
	if *mirror != "" {
		opts.Sources = hub.MirrorSources(*mirror, prof.Suite)
	}
	// The full log goes to the data dir so a failure can be read whole.
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	logPath := filepath.Join(g.dataDir, "image-build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("build log: %w", err)
	}
	defer logFile.Close()
	opts.Log = logFile
	if *verbose {
		opts.Log = io.MultiWriter(logFile, env.Stderr)
	}
	// One line per step and per five percent: enough to see it move,
	// few enough to read in a CI log.
	lastStep, lastPct := "", -5
	opts.Progress = func(p hub.ImageProgress) {
		if p.Step == lastStep && p.Percent < lastPct+5 {
			return
		}
		lastStep, lastPct = p.Step, p.Percent
		line := p.Step
		if p.Detail != "" {
			line += " (" + p.Detail + ")"
		}
		fmt.Fprintf(env.Stdout, "[%s] %3d%% %s\n", bar(p.Percent, 20), p.Percent, line)
	}

	fmt.Fprintf(env.Stdout, "Building %s: %s (a few minutes; log: %s)\n", *tag, prof.Summary, logPath)
	id, err := hub.BuildImage(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Built %s (%s)\n", *tag, shortID(id))
	return nil
}

// profileHelp lists the profiles for the flag's help.
func profileHelp() string {
	var parts []string
	for _, p := range hub.ImageProfiles() {
		parts = append(parts, p.Name+" ("+p.Summary+")")
	}
	return strings.Join(parts, "; ")
}

// splitPackages reads a list of Debian package names separated by spaces or
// commas.
func splitPackages(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// bar draws a text progress bar of width cells.
func bar(percent, width int) string {
	percent = max(0, min(100, percent))
	n := percent * width / 100
	return strings.Repeat("#", n) + strings.Repeat(".", width-n)
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// runBuildHub makes the hub's own image from this classhub binary (or
// --binary), for running the hub as a Swarm service.
func runBuildHub(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("image build-hub", env)
	tag := fs.String("tag", hub.HubImage, "name for the hub's image")
	binary := fs.String("binary", "", "a classhub built without cgo (default: this one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	exe := *binary
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find this classhub binary: %w: name one with --binary", err)
		}
	}
	id, err := hub.BuildHubImage(ctx, exe, *tag, Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Built %s (%s) from %s\n", *tag, shortID(id), exe)
	return nil
}
