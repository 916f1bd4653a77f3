package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("logs", command{
		summary: "print the hub's log, or NAME's notebook server's log (works with the hub running or not)",
		usage:   "logs [NAME] [--tail N]",
		run:     runLogs,
	})
}

// runLogs prints the hub's log from the data dir, or a student's server
// log from Docker; neither needs the hub to run.
func runLogs(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("logs", env)
	tail := fs.Int("tail", 0, "print only the last N lines (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tail < 0 {
		return usageError{"--tail takes a number of lines, 1 or more"}
	}
	var out string
	var err error
	switch fs.NArg() {
	case 0:
		out, err = hub.ReadLog(g.dataDir, *tail)
	case 1:
		out, err = serverLogs(ctx, g, fs.Arg(0), *tail)
	default:
		return usageError{"name one user, or none for the hub's log"}
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(env.Stdout, out)
	return err
}

// serverLogs is name's server log, once name is known to be a user.
func serverLogs(ctx context.Context, g *globals, name string, tail int) (string, error) {
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return "", err
	}
	u, err := accounts.User(ctx, name)
	accounts.Close()
	if errors.Is(err, hub.ErrNoSuchUser) {
		return "", fmt.Errorf("no user %s: `classhub users list` shows who exists", name)
	} else if err != nil {
		return "", err
	}
	cfg, err := config.Load(g.configPath())
	if err != nil {
		return "", err
	}
	return hub.ServerLogs(ctx, cfg, u.Name, tail)
}
