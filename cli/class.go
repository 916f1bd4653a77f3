package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pkg/browser"
	"golang.org/x/term"

	"github.com/classhub/classhub/classclient"
)

func init() {
	register("class", command{
		summary: "join a class hub as a learner and start, stop or open your notebook server on it",
		usage:   "class join URL [--token-stdin] [--name NAME] [--no-browser] | class list | class use NAME | class forget NAME | class start | class stop | class open | class status",
		run:     runClass,
	})
}

// Exit statuses of `classhub class`, one per way a hub can fail, so that a
// script can tell them apart; each comes with a sentence on stderr.
const (
	exitNotHub      = 3
	exitUnreachable = 4
	exitRefused     = 5
	exitHubFailed   = 6
	exitNoAppLogin  = 7
	exitDenied      = 8
	exitStartFailed = 9
)

var exitOfKind = map[classclient.Kind]int{
	classclient.NotHub: exitNotHub, classclient.Unreachable: exitUnreachable, classclient.Refused: exitRefused,
	classclient.HubFailed: exitHubFailed, classclient.NoAppLogin: exitNoAppLogin, classclient.Denied: exitDenied,
	classclient.StartFailed: exitStartFailed,
}

// classExit gives a class hub's error its exit status.
func classExit(err error) error {
	if err == nil {
		return nil
	}
	if code, ok := exitOfKind[classclient.KindOf(err)]; ok {
		return exitError{code: code, err: err}
	}
	return err
}

// noKeyringEnv, set to anything, keeps tokens out of the OS keyring: for a
// machine whose keyring would prompt on a desktop nobody watches.
const noKeyringEnv = "CLASSHUB_NO_KEYRING"

func classStore(g *globals) *classclient.Store {
	s := classclient.OpenStore(filepath.Join(g.dataDir, "classes"))
	if os.Getenv(noKeyringEnv) != "" {
		s.Keyring = nil
	}
	return s
}

func runClass(ctx context.Context, env Env, g *globals, args []string) error {
	if len(args) == 0 {
		return usageError{"say what to do: class join, list, use, forget, start, stop, open or status"}
	}
	sub, rest := args[0], args[1:]
	fs := g.flags("class "+sub, env)
	tokenStdin := fs.Bool("token-stdin", false, "join: read a token from the hub's token page on stdin (for a stock JupyterHub) instead of logging in through the browser")
	name := fs.String("name", "", "join: what to call the class (default: the hub's address)")
	noBrowser := fs.Bool("no-browser", false, "join, open: print the address to open instead of opening a browser")
	if err := parse(fs, rest); err != nil {
		return err
	}
	s := classStore(g)
	open := func(u string) error {
		if *noBrowser {
			fmt.Fprintf(env.Stderr, "Open this address in a browser:\n%s\n", u)
			return nil
		}
		fmt.Fprintf(env.Stderr, "Opening your browser. If it does not open, visit:\n%s\n", u)
		if err := browser.OpenURL(u); err != nil {
			fmt.Fprintf(env.Stderr, "(the browser did not open: %v)\n", err)
		}
		return nil
	}
	one := func(what string) (string, error) {
		if fs.NArg() != 1 {
			return "", usageError{"name the one " + what}
		}
		return fs.Arg(0), nil
	}
	switch sub {
	case "join":
		link, err := one("class link (the address of the hub's page)")
		if err != nil {
			return err
		}
		return classExit(classJoin(ctx, env, s, link, *name, *tokenStdin, open))
	case "list":
		if err := noArgs(fs); err != nil {
			return err
		}
		return classList(env, s)
	case "use":
		n, err := one("class to use")
		if err != nil {
			return err
		}
		h, err := s.Use(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "now using %s (%s) as %s\n", h.Name, h.URL, h.User)
		return nil
	case "forget":
		n, err := one("class to forget")
		if err != nil {
			return err
		}
		h, err := s.Forget(ctx, n)
		if h.URL != "" {
			if err != nil {
				fmt.Fprintf(env.Stdout, "forgot %s here\n", h.Name)
			} else {
				fmt.Fprintf(env.Stdout, "forgot %s; its token is revoked on the hub\n", h.Name)
			}
		}
		return classExit(err)
	case "start", "stop", "open", "status":
		if err := noArgs(fs); err != nil {
			return err
		}
		c, h, err := s.Client()
		if err != nil {
			return err
		}
		switch sub {
		case "start":
			return classExit(classStart(ctx, env, c))
		case "stop":
			if err := c.Stop(ctx); err != nil {
				return classExit(err)
			}
			fmt.Fprintf(env.Stdout, "your server on %s is stopping\n", h.Name)
			return nil
		case "open":
			return classExit(classOpen(ctx, env, c, open))
		default:
			return classExit(classStatus(ctx, env, c, h))
		}
	}
	return usageError{fmt.Sprintf("unknown class command %q", sub)}
}

func classJoin(ctx context.Context, env Env, s *classclient.Store, link, name string, tokenStdin bool, open func(string) error) error {
	hub, err := classclient.Normalize(link)
	if err != nil {
		return usageError{err.Error()}
	}
	var tok classclient.Token
	if tokenStdin {
		secret, err := readToken(env, hub)
		if err != nil {
			return err
		}
		tok, err = classclient.Paste(ctx, hub, secret)
		if err != nil {
			return err
		}
	} else {
		tok, err = classclient.Login(ctx, hub, open)
		if err != nil {
			return err
		}
	}
	if err := s.Add(classclient.Hub{URL: hub, Name: name, User: tok.User}, tok); err != nil {
		// The hub gave a token this machine cannot keep: take it back.
		if rerr := classclient.New(hub, tok).Revoke(ctx); rerr != nil {
			return fmt.Errorf("%w; the token the hub gave could not be revoked either: delete it on %s/hub/token", err, hub)
		}
		return err
	}
	h, _, _ := s.Current()
	fmt.Fprintf(env.Stdout, "joined %s (%s) as %s\n", h.Name, h.URL, h.User)
	if tok.Minted {
		fmt.Fprintf(env.Stdout, "classhub made a token of its own there (note %q); the token you pasted is no longer needed: delete it on %s/hub/token\n",
			classclient.MintNote, hub)
	}
	return nil
}

// readToken reads a pasted token: without echo on a terminal, else one line
// of stdin. Never from the command line, which other users of the machine
// and the shell's history see.
func readToken(env Env, hub string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(env.Stderr, "Paste a token from %s/hub/token: ", hub)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := stdinLine(env, "token")
	if err != nil {
		return "", err
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", usageError{"no token on stdin: request one on " + hub + "/hub/token and pipe it in on one line"}
	}
	return line, nil
}

func classList(env Env, s *classclient.Store) error {
	hs, err := s.Hubs()
	if err != nil {
		return err
	}
	if len(hs.List) == 0 {
		fmt.Fprintln(env.Stdout, "no class joined yet: join one with `classhub class join URL`")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tNAME\tUSER\tURL")
	for _, h := range hs.List {
		cur := ""
		if h.URL == hs.Current {
			cur = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cur, h.Name, h.User, h.URL)
	}
	return tw.Flush()
}

// classStart starts the server and shows the start's progress until it is
// ready.
func classStart(ctx context.Context, env Env, c *classclient.Client) error {
	if err := c.Start(ctx); err != nil {
		return err
	}
	url, err := follow(ctx, env, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ready: %s\n", url)
	return nil
}

// follow prints each step of a start and returns the server's URL once it
// is ready.
func follow(ctx context.Context, env Env, c *classclient.Client) (string, error) {
	url := ""
	err := c.Progress(ctx, func(e classclient.Event) {
		fmt.Fprintln(env.Stdout, startLine(e))
		if e.Ready {
			url = e.URL
		}
	})
	return url, err
}

func startLine(e classclient.Event) string {
	msg := e.Message
	if e.Phase != "" {
		msg = e.Phase + ": " + msg
	}
	return fmt.Sprintf("%3d%% %s", e.Progress, msg)
}

// classOpen opens the server in the browser, starting it first if need be.
func classOpen(ctx context.Context, env Env, c *classclient.Client, open func(string) error) error {
	sv, err := c.Server(ctx)
	if err != nil {
		return err
	}
	u := sv.URL
	if sv.State != classclient.Ready {
		if sv.State == classclient.Stopped {
			if err := c.Start(ctx); err != nil {
				return err
			}
		}
		if u, err = follow(ctx, env, c); err != nil {
			return err
		}
	}
	return open(u)
}

// classStatus prints the class, the server's state and, for a start under
// way, its latest step.
func classStatus(ctx context.Context, env Env, c *classclient.Client, h classclient.Hub) error {
	sv, err := c.Server(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "class: %s (%s) as %s\n", h.Name, h.URL, h.User)
	switch sv.State {
	case classclient.Ready:
		fmt.Fprintf(env.Stdout, "server: ready at %s\n", sv.URL)
	case classclient.Stopped:
		fmt.Fprintln(env.Stdout, "server: stopped")
	default:
		line := ""
		if sv.Pending == "spawn" {
			// The stream replays the steps so far, then waits for the next:
			// the last one heard in a moment is where the start is.
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			c.Progress(pctx, func(e classclient.Event) { line = startLine(e) })
			cancel()
		}
		fmt.Fprintf(env.Stdout, "server: pending (%s) %s\n", sv.Pending, strings.TrimSpace(line))
	}
	return nil
}
