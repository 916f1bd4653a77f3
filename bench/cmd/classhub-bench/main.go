// Command classhub-bench measures classhub against the physical floor and
// against JupyterHub's own proxy and hub in one run, prints the results
// table and writes it (Markdown and JSON) to the results directory.
//
//	classhub-bench --classhub bin/classhub-nogui [--quick] [--only 9] [--out bench/results]
//	classhub-bench --render bench/results/DATE-HOST.json
//
// It removes every process, container, volume and network it starts, also
// on failure and on Ctrl+C; it exits non-zero when a scenario failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/classhub/classhub/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	quick := flag.Bool("quick", false, "small N and short runs (a minute or two), as CI runs it")
	classhub := flag.String("classhub", "bin/classhub", "the classhub binary to measure")
	image := flag.String("image", bench.ClassicImage, "the notebook image (must be in the engine; the classic one's jupyterhub-singleuser matches the JupyterHub it is compared with)")
	out := flag.String("out", "bench/results", "directory for the results (Markdown and JSON)")
	levels := flag.String("levels", "", "concurrency levels of the proxy scenario, e.g. 1,10,50 (default by mode)")
	duration := flag.Duration("duration", 0, "load per path, level and round (default by mode)")
	rounds := flag.Int("rounds", 0, "rounds of the proxy scenario (default 3, quick 1)")
	burst := flag.Int("burst", 0, "class size of the burst scenario (default 30, quick 5)")
	executes := flag.Int("executes", 0, "kernel round trips per path (default 1000, quick 150)")
	logins := flag.Int("logins", 0, "class size of the login scenario (default 30, quick 10)")
	handoutStudents := flag.Int("handout-students", 0, "class size of the hand-out scenario (default 30, quick 3)")
	handoutMiB := flag.Int("handout-mib", 0, "size of the folder the hand-out scenario hands out, in MiB (default 50, quick 5)")
	only := flag.String("only", "", "run only these scenarios, by number, e.g. 9 or 3,4 (default all)")
	render := flag.String("render", "", "make the Markdown page of an earlier run again from its JSON, measuring nothing")
	flag.Parse()

	if *render != "" {
		rep, err := bench.ReadReport(*render)
		if err != nil {
			fmt.Fprintf(os.Stderr, "classhub-bench: %v\n", err)
			return 1
		}
		rep.Compare()
		md, _, err := rep.Write(filepath.Dir(*render))
		if err != nil {
			fmt.Fprintf(os.Stderr, "classhub-bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "classhub-bench: wrote %s\n", md)
		return 0
	}

	p := bench.FullParams()
	if *quick {
		p = bench.QuickParams()
	}
	if *levels != "" {
		p.Levels = nil
		for _, s := range strings.Split(*levels, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "classhub-bench: --levels %q: give positive numbers separated by commas\n", *levels)
				return 2
			}
			p.Levels = append(p.Levels, n)
		}
	}
	if *duration > 0 {
		p.LoadDuration = *duration
	}
	if *rounds > 0 {
		p.ProxyRounds = *rounds
	}
	if *burst > 0 {
		p.Burst = *burst
	}
	if *executes > 0 {
		p.Executes = *executes
	}
	if *logins > 0 {
		p.Logins = *logins
	}
	if *handoutStudents > 0 {
		p.HandoutStudents = *handoutStudents
	}
	if *handoutMiB > 0 {
		p.HandoutMiB = *handoutMiB
	}
	var scenarios []string
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 10 {
			fmt.Fprintf(os.Stderr, "classhub-bench: --only %q: give scenario numbers from 1 to 10 separated by commas\n", *only)
			return 2
		}
		scenarios = append(scenarios, s)
	}

	// Signals cancel the run; the bench then stops what it started. They
	// stay caught until it has, so a second Ctrl+C cannot leave servers
	// running.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var interrupted atomic.Bool
	go func() {
		for s := range sigs {
			fmt.Fprintf(os.Stderr, "classhub-bench: %v: stopping and removing what the run started (a few seconds)\n", s)
			interrupted.Store(true)
			cancel()
		}
	}()

	start := time.Now()
	rep, err := bench.Run(ctx, bench.Options{Params: p, Quick: *quick, Only: scenarios, Classhub: *classhub, Image: *image, Log: os.Stderr})
	// An interrupted run measured less than it says; it must not replace
	// the day's results.
	if !rep.Measured() || interrupted.Load() {
		fmt.Fprintf(os.Stderr, "classhub-bench: no results written: %v\n", err)
		return 1
	}
	rep.Compare()
	rep.Markdown(os.Stdout)
	md, js, werr := rep.Write(*out)
	if werr != nil {
		fmt.Fprintf(os.Stderr, "classhub-bench: write results: %v\n", werr)
		return 1
	}
	fmt.Fprintf(os.Stderr, "classhub-bench: %s; results in %s and %s\n", time.Since(start).Round(time.Second), md, js)
	if err != nil {
		fmt.Fprintf(os.Stderr, "classhub-bench: %v\n", err)
		return 1
	}
	return 0
}
