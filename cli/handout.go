package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/classhub/classhub/hub"
)

func init() {
	register("handout", command{
		summary: "copy a folder into every student's work folder (or --to some), running servers or not, keeping files they changed",
		usage:   "handout DIR [--to NAME,NAME...]",
		run:     runHandout,
	})
	register("collect", command{
		summary: "gather each student's work/DIR into OUTDIR/STUDENT/, with OUTDIR/manifest.csv; their files are not changed",
		usage:   "collect DIR --out OUTDIR [--to NAME,NAME...]",
		run:     runCollect,
	})
}

func runHandout(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("handout", env)
	to := fs.String("to", "", "only these students, names separated by commas (default: every student)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name the one folder to hand out: handout DIR"}
	}
	src := fs.Arg(0)
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	cfg, _ := loadConfig(g, "", nil)
	rs, err := accounts.Handout(ctx, src, hub.SplitNames(*to), cfg, progressLine(env.Stdout, "handed out to"))
	if err != nil {
		return err
	}
	dir := filepath.Base(filepath.Clean(src))
	failed := 0
	for _, r := range rs {
		if r.Err != nil {
			failed++
			fmt.Fprintf(env.Stdout, "%s: failed: %v\n", r.User, r.Err)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", r.User, r.Summary())
		for _, f := range r.Files {
			switch f.Outcome {
			case "kept":
				fmt.Fprintf(env.Stdout, "  kept %s/%s, which they changed; the new version is beside it as %s\n", dir, f.Path, f.Beside)
			case "failed":
				fmt.Fprintf(env.Stdout, "  could not hand out %s/%s: %s\n", dir, f.Path, f.Beside)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("handing out %s failed for %d of %d students (above)", dir, failed, len(rs))
	}
	return nil
}

func runCollect(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("collect", env)
	out := fs.String("out", "", "the new or empty folder to gather into (required)")
	to := fs.String("to", "", "only these students, names separated by commas (default: every student)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name the one folder to collect: collect DIR --out OUTDIR"}
	}
	if *out == "" {
		return usageError{"say where to gather the folders: --out OUTDIR"}
	}
	dir := fs.Arg(0)
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	cfg, _ := loadConfig(g, "", nil)
	rs, err := accounts.Collect(ctx, dir, *out, hub.SplitNames(*to), cfg, progressLine(env.Stdout, "collected from"))
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rs {
		if r.Err != nil {
			failed++
			fmt.Fprintf(env.Stdout, "%s: failed: %v\n", r.User, r.Err)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", r.User, r.Summary())
	}
	fmt.Fprintln(env.Stdout, hub.CollectSummary(dir, *out, rs))
	if failed > 0 {
		return fmt.Errorf("collecting %s failed for %d of %d students (above)", dir, failed, len(rs))
	}
	return nil
}

// progressLine prints a progress line per student done; it is called from
// several students' work at once.
func progressLine(w io.Writer, what string) hub.Progress {
	var mu sync.Mutex
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "[%s] %d/%d %s\n", bar(done*100/total, 20), done, total, what)
	}
}
