// Package cli is classhub's command line: every subcommand runs without a
// display and never imports Fyne, so `classhub serve` works on a headless
// server and in CI.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/classhub/classhub/hub/config"
)

// Version is set at build time with -ldflags "-X …/cli.Version=…".
var Version = "0.1.0-dev"

// Env is what a command runs with; tests replace its parts.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
}

// command is one subcommand.
type command struct {
	summary string
	usage   string
	run     func(ctx context.Context, env Env, g *globals, args []string) error
}

// commands is the one table of subcommands.
var commands = map[string]command{}

func register(name string, c command) { commands[name] = c }

// globals are the flags every subcommand takes.
type globals struct {
	dataDir string
}

// configPath is the config file inside the data dir.
func (g *globals) configPath() string { return filepath.Join(g.dataDir, config.FileName) }

// flags returns a FlagSet for a subcommand carrying the global flags.
func (g *globals) flags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("classhub "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	def, err := config.DefaultDataDir()
	if err != nil {
		def = ""
	}
	fs.StringVar(&g.dataDir, "data-dir", def, "folder for classhub's config and state")
	return fs
}

// usageError marks errors that are the caller's: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError is an error with an exit status of its own.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs classhub with args (without the program name) and returns the
// exit status.
func Main(args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if len(args) == 0 {
		help(env.Stdout)
		return 0
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	if name == "--version" {
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "classhub: unknown command %q. Run `classhub help` to see the commands.\n", name)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globals{}
	err := cmd.run(ctx, env, g, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(env.Stderr, "classhub %s: %v\nUsage: %s\n", name, err, cmd.usage)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "classhub %s: %v\n", name, err)
		if ee := (exitError{}); errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
}

// IsCommand reports whether name is a subcommand; main uses it to decide
// between the CLI and the desktop app.
func IsCommand(name string) bool {
	_, ok := commands[name]
	return ok || name == "-h" || name == "--help" || name == "--version"
}

func help(w io.Writer) {
	fmt.Fprintf(w, "classhub %s: a JupyterHub for a classroom, run from a laptop.\n\n", Version)
	fmt.Fprintln(w, "Usage:\n  classhub              open the tray app (needs a desktop)\n  classhub COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", commands[n].usage, commands[n].summary)
	}
	def, err := config.DefaultDataDir()
	if err != nil {
		def = "none: " + err.Error()
	}
	fmt.Fprintf(w, "\nEvery command takes --data-dir DIR (default %s).\n", def)
}

func init() {
	register("help", command{
		summary: "show this help",
		usage:   "help",
		run: func(_ context.Context, env Env, _ *globals, _ []string) error {
			help(env.Stdout)
			return nil
		},
	})
	register("version", command{
		summary: "print classhub's version",
		usage:   "version",
		run: func(_ context.Context, env Env, g *globals, args []string) error {
			if err := g.flags("version", env).Parse(args); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "classhub %s\n", Version)
			return nil
		},
	})
}

// parse parses args allowing flags between positional arguments, as
// people type them: `classhub users add alice bob --admin`. A lone "--"
// ends the flags.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// noArgs rejects leftover positional arguments.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", strings.Join(fs.Args(), " "))}
	}
	return nil
}
