package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/classhub/classhub/hub"
)

func init() {
	register("server", command{
		summary: "reset NAME's notebook server, keeping their files, or with --wipe deleting them (their name typed again)",
		usage:   "server reset NAME [--wipe [--confirm NAME]]",
		run:     runServer,
	})
	register("volumes", command{
		summary: "list, restore or delete the kept files (volumes) of deleted students",
		usage:   "volumes list | volumes restore VOLUME NAME | volumes delete VOLUME [--confirm NAME]",
		run:     runVolumes,
	})
}

// runServer resets a student's server. `users reset` already resets
// credentials, so servers have a command of their own.
func runServer(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 || args[0] != "reset" {
		return usageError{"say what to do: server reset NAME [--wipe]"}
	}
	fs := g.flags("server reset", env)
	wipe := fs.Bool("wipe", false, "delete the student's files too, for good (asks for their name again)")
	confirm := fs.String("confirm", "", "with --wipe: the student's name typed again, for scripts")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name the one user whose server to reset"}
	}
	name := fs.Arg(0)
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	if _, err := accounts.User(ctx, name); err != nil {
		return fmt.Errorf("no user %s: `classhub users list` shows who exists", name)
	}
	if *wipe {
		if err := confirmName(env, confirm, fmt.Sprintf("This deletes everything in %s's work folder, for good. Type their name again to confirm: ", name)); err != nil {
			return err
		}
	}
	cfg, _ := loadConfig(g, "", nil)
	if err := accounts.ResetServer(ctx, name, *wipe, *confirm, cfg); err != nil {
		return unconfirmed(err)
	}
	if *wipe {
		fmt.Fprintf(env.Stdout, "reset %s's server and deleted their files; their next start begins with an empty work folder\n", name)
	} else {
		fmt.Fprintf(env.Stdout, "reset %s's server; their files are kept, and their next start makes a new server\n", name)
	}
	return nil
}

func runVolumes(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 {
		return usageError{"say what to do: volumes list, volumes restore or volumes delete"}
	}
	sub := args[0]
	fs := g.flags("volumes "+sub, env)
	confirm := fs.String("confirm", "", "delete: the name of the student the volume was made for, typed again, for scripts")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	accounts, err := hub.OpenAccounts(g.dataDir)
	if err != nil {
		return err
	}
	defer accounts.Close()
	cfg, _ := loadConfig(g, "", nil)
	switch sub {
	case "list":
		vs, err := accounts.KeptVolumes(ctx, cfg)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			fmt.Fprintln(env.Stdout, "no kept volumes: every student's files belong to a student who exists")
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VOLUME\tSTUDENT\tMADE")
		for _, v := range vs {
			made := "-"
			if !v.Created.IsZero() {
				made = v.Created.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, v.User, made)
		}
		return tw.Flush()
	case "restore":
		if fs.NArg() != 2 {
			return usageError{"name the volume and the user to give its files to: volumes restore VOLUME NAME"}
		}
		if err := accounts.RestoreVolume(ctx, fs.Arg(0), fs.Arg(1), cfg); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "restored %s to %s: their next start has its files\n", fs.Arg(0), fs.Arg(1))
		return nil
	case "delete":
		if fs.NArg() != 1 {
			return usageError{"name the one volume to delete"}
		}
		vol := fs.Arg(0)
		if err := confirmName(env, confirm, fmt.Sprintf("This deletes every file in %s, for good. Type the name of the student it was made for to confirm: ", vol)); err != nil {
			return err
		}
		if err := accounts.DeleteVolume(ctx, vol, *confirm, cfg); err != nil {
			return unconfirmed(err)
		}
		fmt.Fprintf(env.Stdout, "deleted %s\n", vol)
		return nil
	}
	return usageError{fmt.Sprintf("unknown volumes command %q", sub)}
}

// confirmName asks, with prompt, for a name typed again, on the terminal
// or one line of stdin, unless --confirm already gave it in *typed.
func confirmName(env Env, typed *string, prompt string) error {
	if *typed != "" {
		return nil
	}
	fmt.Fprint(env.Stderr, prompt)
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the confirmation: %w", err)
	}
	*typed = strings.TrimRight(line, "\r\n")
	return nil
}

// unconfirmed says of a wipe the hub refused for want of the right name
// that it changed nothing.
func unconfirmed(err error) error {
	if errors.Is(err, hub.ErrConfirm) {
		return fmt.Errorf("%v; nothing was changed", err)
	}
	return err
}
