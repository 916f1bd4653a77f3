package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

func init() {
	register("users", command{
		summary: "add, list or delete users (works with the hub running or not)",
		usage:   "users add NAME... [--admin] | users import FILE.csv | users list | users delete NAME",
		run:     runUsers,
	})
	register("token", command{
		summary: "print a new API token for NAME (last line), like `jupyterhub token`",
		usage:   "token NAME [--note TEXT]",
		run:     runToken,
	})
}

// openStore opens the state in the data dir. SQLite in WAL mode lets the
// CLI and a running hub share it.
func openStore(g *globals) (*store.Store, error) {
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return store.Open(filepath.Join(g.dataDir, hub.StateFile))
}

func runUsers(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 {
		return usageError{"say what to do: users add, users list or users delete"}
	}
	sub, rest := args[0], args[1:]
	fs := g.flags("users "+sub, env)
	admin := fs.Bool("admin", false, "make the new users admins")
	generate := fs.Bool("generate-passwords", false, "import: give users without a password in the file a generated one (printed once)")
	if err := parse(fs, rest); err != nil {
		return err
	}
	st, err := openStore(g)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		if fs.NArg() == 0 {
			return usageError{"name at least one user to add"}
		}
		h := core.New(core.Options{Store: st})
		defer h.Close()
		created, err := h.AddUsers(ctx, fs.Args(), *admin)
		if err != nil {
			return err
		}
		for _, u := range created {
			fmt.Fprintf(env.Stdout, "added %s%s (sets a password at first login)\n", u.Name, map[bool]string{true: " (admin)"}[u.Admin])
		}
		if skipped := fs.NArg() - len(created); skipped > 0 {
			fmt.Fprintf(env.Stdout, "%d already existed and were left as they are\n", skipped)
		}
		return nil
	case "import":
		if fs.NArg() != 1 {
			return usageError{"name the one roster file to import"}
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("open the roster: %w", err)
		}
		defer f.Close()
		entries, err := roster.Parse(f)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		done, err := roster.Import(ctx, st, entries, *generate)
		created := 0
		for _, im := range done {
			if im.Created {
				created++
			}
		}
		fmt.Fprintf(env.Stdout, "imported %d new users (%d were already there)\n", created, len(done)-created)
		if *generate {
			if werr := roster.WritePasswordsCSV(env.Stdout, done); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	case "list":
		if err := noArgs(fs); err != nil {
			return err
		}
		users, _, err := st.ListUsers(ctx, store.ListOptions{Sort: "name"})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADMIN\tSERVER\tLAST ACTIVITY")
		for _, u := range users {
			server := "stopped"
			if sv, err := st.GetServer(ctx, u.Name, ""); err == nil {
				switch {
				case sv.Pending != "":
					server = sv.Pending + " pending"
				case sv.Ready:
					server = "running"
				}
			}
			last := "never"
			if !u.LastActivity.IsZero() {
				last = u.LastActivity.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", u.Name, u.Admin, server, last)
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return usageError{"name the one user to delete"}
		}
		name := fs.Arg(0)
		if _, err := st.GetUser(ctx, name); err != nil {
			return fmt.Errorf("no user %s: `classhub users list` shows who exists", name)
		}
		// Remove their container too when Docker answers; their work
		// volume stays either way.
		opts := core.Options{Store: st, Router: noRouter{}}
		if docker, err := engine.Connect(ctx); err == nil {
			defer docker.Close()
			cfg, _ := loadConfig(g, "", nil)
			opts.Spawner = spawner.New(docker, spawner.Options{Config: cfg, Version: Version})
		} else {
			fmt.Fprintf(env.Stderr, "note: %v; %s's container, if any, is left in place\n", err, name)
		}
		h := core.New(opts)
		defer h.Close()
		if opts.Spawner != nil {
			err = h.DeleteUser(ctx, name)
		} else {
			err = st.DeleteUser(ctx, name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted %s; their work volume is kept\n", name)
		return nil
	}
	return usageError{fmt.Sprintf("unknown users command %q", sub)}
}

// noRouter is the route table of a CLI process, which proxies nothing.
type noRouter struct{}

func (noRouter) SetRoute(string, *url.URL) {}
func (noRouter) RemoveRoute(string)        {}

func runToken(ctx context.Context, env Env, g *globals, args []string) error {
	fs := g.flags("token", env)
	note := fs.String("note", "", "what the token is for")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name the one user to make a token for"}
	}
	name := fs.Arg(0)
	st, err := openStore(g)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetUser(ctx, name); err != nil {
		return fmt.Errorf("no user %s: add them first with `classhub users add %s`", name, name)
	}
	if *note == "" {
		*note = "Requested with classhub token"
	}
	secret, _, err := st.CreateToken(ctx, store.TokenSpec{User: name, Kind: "api", Scopes: []string{scopes.Inherit}, Note: *note})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	return nil
}
