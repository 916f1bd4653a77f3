package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"path/filepath"
	"strings"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func init() {
	register("serve", command{
		summary: "run the hub without the desktop app",
		usage:   "serve [--listen ADDR] [--backend container|swarm] [--image IMAGE] [--image-mode auto|jupyterhub|server] [--tls auto|files|off] [--tls-cert FILE --tls-key FILE] [--materials DIR] [--config FILE]",
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
	backend := fs.String("backend", "", `how servers run: "container" (on this Docker engine) or "swarm" (Swarm services on the swarm this engine manages; default from the config file)`)
	img := fs.String("image", "", "notebook image (default from the config file)")
	imgMode := fs.String("image-mode", "", `how the image runs a server: "auto" (find out from the image), "jupyterhub" (it has jupyterhub-singleuser) or "server" (a plain Jupyter server; default from the config file)`)
	tlsMode := fs.String("tls", "", `HTTPS: "auto" (a certificate from classhub's own authority), "files" (--tls-cert and --tls-key) or "off" (default from the config file: auto unless the hub listens on loopback only)`)
	tlsCert := fs.String("tls-cert", "", "your own PEM certificate (with its chain) for HTTPS")
	tlsKey := fs.String("tls-key", "", "the private key (PEM) of --tls-cert")
	materials := fs.String("materials", "", "a folder every server sees read-only at "+hub.MaterialsDir+" (default from the config file)")
	cfgFile := fs.String("config", "", "config file (default DATA_DIR/classhub.toml)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	file := *cfgFile
	if file == "" {
		file = g.configPath()
	}
	cfg, err := loadConfig(g, file, func(c *config.Config) {
		setIf(fs, "listen", &c.Listen, *listen)
		setIf(fs, "backend", &c.Backend, *backend)
		setIf(fs, "image", &c.Image, *img)
		setIf(fs, "image-mode", &c.ImageMode, *imgMode)
		setIf(fs, "tls-cert", &c.TLSCert, *tlsCert)
		setIf(fs, "tls-key", &c.TLSKey, *tlsKey)
		// Giving your own certificate means using it, whatever the file
		// says, unless --tls says otherwise.
		if c.TLSCert != "" && (*tlsCert != "" || *tlsKey != "") {
			c.TLS = config.TLSFiles
		}
		setIf(fs, "tls", &c.TLS, *tlsMode)
		// A folder on the command line is relative to where it is typed;
		// the file's must be whole paths.
		if m, err := filepath.Abs(*materials); err == nil && *materials != "" {
			*materials = m
		}
		setIf(fs, "materials", &c.Materials, *materials)
	})
	if err != nil {
		return err
	}
	h, err := hub.Open(ctx, hub.Options{DataDir: g.dataDir, Config: cfg, Version: Version, ConfigFile: file,
		Log: log.New(env.Stderr, "classhub: ", log.LstdFlags)})
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintf(env.Stdout, "classhub %s is serving.\n", Version)
	fmt.Fprintf(env.Stdout, "  class link:       %s\n", h.ClassURL())
	fmt.Fprintf(env.Stdout, "  listening on:     %s\n", h.PublicAddr())
	fmt.Fprintf(env.Stdout, "  for containers:   %s (network %s)\n", h.InternalAddr(), h.Network().Name)
	if cfg.Backend == config.BackendSwarm {
		fmt.Fprintf(env.Stdout, "  backend:          swarm services%s\n", swarmLine(h.Network()))
	}
	fmt.Fprintf(env.Stdout, "  image:            %s\n", cfg.Image)
	if cfg.Materials != "" {
		fmt.Fprintf(env.Stdout, "  materials:        %s, read-only at %s in every server\n", cfg.Materials, hub.MaterialsDir)
	}
	fmt.Fprintf(env.Stdout, "  HTTPS:            %s\n", httpsLine(cfg, h))
	fmt.Fprintf(env.Stdout, "  logins:           %s\n", loginsLine(cfg, h))
	fmt.Fprintln(env.Stdout, "Press Ctrl+C to stop the hub; notebook servers keep running until you stop them.")
	return h.Serve(ctx)
}

// httpsLine says how the hub serves and what people should check.
func httpsLine(cfg config.Config, h *hub.Hub) string {
	switch cfg.TLSMode() {
	case config.TLSAuto:
		return "on, certificate authority fingerprint (SHA-256) " + h.TLSFingerprint() +
			"\n                    students can check it and install the authority at " + h.ClassURL() + "hub/certificate"
	case config.TLSFiles:
		return "on, your certificate " + cfg.TLSCert + ", fingerprint (SHA-256) " + h.TLSFingerprint()
	}
	if !cfg.LoopbackOnly() {
		return "off: passwords cross the network unencrypted (set tls = \"auto\" or pass --tls auto)"
	}
	return "off (only this laptop connects)"
}

// loginsLine says how people log in, and what the instructor registers
// with GitHub or the school's provider.
func loginsLine(cfg config.Config, h *hub.Hub) string {
	var ways []string
	if cfg.LocalLogins {
		ways = append(ways, "classhub passwords")
	}
	if cfg.GitHub.Enabled() {
		ways = append(ways, "GitHub (the OAuth app's callback URL: "+cmp.Or(cfg.GitHub.CallbackURL, h.OAuthCallbackURL())+")")
	}
	if cfg.OIDC.Enabled() {
		ways = append(ways, "school accounts from "+cfg.OIDC.Issuer+" (the client's redirect URI: "+h.OAuthCallbackURL()+")")
	}
	return strings.Join(ways, ", ")
}

// setIf sets *dst to v when the flag name was given.
func setIf(fs *flag.FlagSet, name string, dst *string, v string) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			*dst = v
		}
	})
}

// swarmLine says where the swarm backend's servers run.
func swarmLine(n hub.Network) string {
	if n.PinNode != "" {
		return fmt.Sprintf(", all on this node (%s): the hub runs outside the swarm's network (see `classhub image build-hub`)", n.PinNode)
	}
	return fmt.Sprintf(", on any node of the swarm, up to %d at once (its seats)", len(n.Seats))
}
