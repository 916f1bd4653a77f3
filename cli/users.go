package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("users", command{
		summary: "add, list, reset or delete users, or set a password (works with the hub running or not)",
		usage:   "users add NAME... [--admin] | users import FILE.csv | users list | users reset NAME | users passwd NAME | users delete NAME [--wipe]",
		run:     runUsers,
	})
	register("token", command{
		summary: "print a new API token for NAME (last line), like `jupyterhub token`",
		usage:   "token NAME [--note TEXT]",
		run:     runToken,
	})
}

func runUsers(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 {
		return usageError{"say what to do: users add, users import, users list, users reset, users passwd or users delete"}
	}
	sub, rest := args[0], args[1:]
	fs := g.flags("users "+sub, env)
	admin := fs.Bool("admin", false, "make the new users admins")
	generate := fs.Bool("generate-passwords", false, "import: give users without a password in the file a generated one (printed once)")
	wipe := fs.Bool("wipe", false, "delete: delete the user's files too, for good (asks for their name again)")
	confirm := fs.String("confirm", "", "delete --wipe: the user's name typed again, for scripts")
	if err := parse(fs, rest); err != nil {
		return err
	}
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	switch sub {
	case "add":
		if fs.NArg() == 0 {
			return usageError{"name at least one user to add"}
		}
		created, err := accounts.Add(ctx, fs.Args(), *admin)
		// The warnings need the settings; a settings file that does not
		// load is serve's to report, not a reason to hide the accounts.
		cfg, cfgErr := config.Load(g.configPath())
		for _, a := range created {
			printAccount(env.Stdout, "added", a)
			if warn := hub.LocalAccountWarning(cfg, a.Name); cfgErr == nil && warn != "" {
				fmt.Fprintf(env.Stderr, "warning: %s.\n", warn)
			}
		}
		if err != nil {
			return err
		}
		if skipped := fs.NArg() - len(created); skipped > 0 {
			fmt.Fprintf(env.Stdout, "%d already existed and were left as they are\n", skipped)
		}
		return nil
	case "reset":
		if *wipe {
			return usageError{"users reset gives a user new credentials; to reset their server (and with --wipe delete their files) run `classhub server reset NAME --wipe`"}
		}
		if fs.NArg() != 1 {
			return usageError{"name the one user to reset"}
		}
		a, err := accounts.Reset(ctx, fs.Arg(0))
		if errors.Is(err, hub.ErrNoSuchUser) {
			return fmt.Errorf("no user %s: `classhub users list` shows who exists", fs.Arg(0))
		} else if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s's password, logins and tokens no longer work; a running server keeps running.\n", a.Name)
		printAccount(env.Stdout, "reset", a)
		return nil
	case "passwd":
		if fs.NArg() != 1 {
			return usageError{"name the one user whose password to set"}
		}
		name := fs.Arg(0)
		if _, err := accounts.User(ctx, name); errors.Is(err, hub.ErrNoSuchUser) {
			return fmt.Errorf("no user %s: `classhub users list` shows who exists", name)
		} else if err != nil {
			return err
		}
		password, err := readNewPassword(env, name)
		if err != nil {
			return err
		}
		if err := accounts.SetPassword(ctx, name, password); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
		fmt.Fprintf(env.Stdout, "set %s's password; they were logged out everywhere\n", name)
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
		entries, err := hub.ParseRoster(f)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		done, err := accounts.Import(ctx, entries, *generate)
		created := 0
		for _, im := range done {
			if im.Created {
				created++
			}
		}
		fmt.Fprintf(env.Stdout, "imported %d new users (%d were already there)\n", created, len(done)-created)
		if handouts := hub.Handouts(done); len(handouts) > 0 {
			fmt.Fprintln(env.Stdout, "Their generated passwords and setup codes, shown only now (students use a setup code at the class link's /hub/setup page):")
			if werr := hub.WriteHandoutsCSV(env.Stdout, handouts, ""); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	case "list":
		if err := noArgs(fs); err != nil {
			return err
		}
		users, err := accounts.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADMIN\tSERVER\tLAST ACTIVITY")
		for _, u := range users {
			server := "stopped"
			switch {
			case u.Server.Pending != "":
				server = u.Server.Pending + " pending"
			case u.Server.Ready:
				server = "running"
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
		if _, err := accounts.User(ctx, name); err != nil {
			return fmt.Errorf("no user %s: `classhub users list` shows who exists", name)
		}
		cfg, _ := loadConfig(g, "", nil)
		if *wipe {
			if err := confirmName(env, confirm, fmt.Sprintf("This deletes %s and everything in their work folder, for good. Type their name again to confirm: ", name)); err != nil {
				return err
			}
			if err := accounts.DeleteWithFiles(ctx, name, *confirm, cfg); err != nil {
				return unconfirmed(err)
			}
			fmt.Fprintf(env.Stdout, "deleted %s and their files\n", name)
			return nil
		}
		// Their container goes too when Docker answers; their work
		// volume stays either way.
		noDocker, err := accounts.Delete(ctx, name, cfg)
		if noDocker != nil {
			fmt.Fprintf(env.Stderr, "note: %v; %s's container, if any, is left in place\n", noDocker, name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted %s; their files are kept (`classhub volumes list`), and a new user of the same name starts without them\n", name)
		return nil
	}
	return usageError{fmt.Sprintf("unknown users command %q", sub)}
}

// printAccount says what an account got to log in with the first time,
// the secret on a line of its own so it can be copied or cut out of a
// script's output.
func printAccount(w io.Writer, did string, a hub.Account) {
	switch {
	case a.SetupCode != "":
		fmt.Fprintf(w, "%s %s. Their setup code, shown only now, with which they choose a password at /hub/setup:\n%s\n", did, a.Name, a.SetupCode)
	case a.Generated:
		role := ""
		if a.Admin {
			role = " (admin)"
		}
		fmt.Fprintf(w, "%s %s%s. Their password, shown only now:\n%s\n", did, a.Name, role, a.Password)
	default:
		fmt.Fprintf(w, "%s %s\n", did, a.Name)
	}
}

// stdinLine is the first line of stdin, without its line ending: how a
// script hands over a secret (what) that must not be on the command line.
func stdinLine(env Env, what string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readNewPassword asks for a new password twice on a terminal, without
// echo, or reads one line from stdin when it is not a terminal (a script,
// a pipe): never from the command line, where other users of the machine
// and the shell's history would see it.
func readNewPassword(env Env, name string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(env.Stderr, "New password for %s (at least %d characters): ", name, hub.MinPasswordLen)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		fmt.Fprint(env.Stderr, "The same password again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords are not the same; nothing was changed, run the command again")
		}
		return string(first), nil
	}
	line, err := stdinLine(env, "password")
	if err != nil {
		return "", err
	}
	if line == "" {
		return "", errors.New("no password on stdin: run the command in a terminal, or pipe the password in on one line")
	}
	return line, nil
}

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
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	if _, err := accounts.User(ctx, name); err != nil {
		return fmt.Errorf("no user %s: add them first with `classhub users add %s`", name, name)
	}
	if *note == "" {
		*note = "Requested with classhub token"
	}
	secret, err := accounts.NewToken(ctx, name, *note)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	return nil
}
