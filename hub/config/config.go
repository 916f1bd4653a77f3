// Package config holds classhub's settings: one TOML file in the data dir that
// `classhub serve` reads and the GUI's settings window edits. Flags override
// it for one run; nothing else does.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileName is the config file's name inside the data dir.
const FileName = "classhub.toml"

// Modes.
const (
	// ModeClass serves a class over the LAN.
	ModeClass = "class"
	// ModePersonal serves only the person at this laptop, on loopback.
	ModePersonal = "personal"
)

// Pull policies, as DockerSpawner names them.
const (
	PullIfNotPresent = "if-not-present"
	PullAlways       = "always"
	PullNever        = "never"
)

// TLS choices: how the hub serves its public address.
const (
	// TLSAuto serves HTTPS with a certificate from a local authority kept
	// in the data dir (hub/tlscert).
	TLSAuto = "auto"
	// TLSFiles serves HTTPS with the instructor's own TLSCert and TLSKey.
	TLSFiles = "files"
	// TLSOff serves plain HTTP.
	TLSOff = "off"
)

// DefaultPidsLimit is far above what a notebook server with a few kernels
// and a terminal uses (under 100 threads), and far below what slows a laptop.
const DefaultPidsLimit = 512

// MinPidsLimit is the fewest processes and threads a notebook server and
// one kernel need to start.
const MinPidsLimit = 64

// Image modes: how the image runs a server (Config.ImageMode).
const (
	ImageModeAuto       = "auto"
	ImageModeJupyterHub = "jupyterhub"
	ImageModeServer     = "server"
)

// Backends: how servers run.
const (
	BackendContainer = "container"
	BackendSwarm     = "swarm"
)

// DefaultImage is the image `classhub image build` produces with no flags:
// the default profile's, JupyterLab 4 with the scientific stack.
const DefaultImage = "classhub/notebook:latest"

// Config is everything a person can set. The zero value is not useful; start
// from Default.
type Config struct {
	// Mode is ModeClass or ModePersonal.
	Mode string `toml:"mode"`
	// Listen is the public address; empty means the mode's default.
	Listen string `toml:"listen"`
	// Image is the notebook image every server runs.
	Image string `toml:"image"`
	// PullPolicy is PullIfNotPresent, PullAlways or PullNever.
	PullPolicy string `toml:"pull_policy"`
	// ImageMode says how Image runs a server: ImageModeAuto (find out at
	// the first start of each image), ImageModeJupyterHub (it has
	// jupyterhub-singleuser) or ImageModeServer (a plain Jupyter server,
	// which classhub starts with a token it keeps and logs people in to
	// at the proxy).
	ImageMode string `toml:"image_mode"`
	// MemoryLimit caps each server's memory, e.g. "2G"; empty means none.
	MemoryLimit string `toml:"memory_limit"`
	// SwapLimit caps memory plus swap; empty means equal to MemoryLimit, so
	// that a limit is a limit and not an invitation to swap.
	SwapLimit string `toml:"swap_limit"`
	// CPULimit caps each server's CPUs, e.g. 1.5; 0 means none.
	CPULimit float64 `toml:"cpu_limit"`
	// PidsLimit caps the processes and threads in each server's container,
	// so one fork bomb stops at its own container instead of the laptop;
	// 0 means none.
	PidsLimit int64 `toml:"pids_limit"`
	// Network is the Docker network servers join. The swarm backend's
	// overlay network is named after it, with "-swarm" added.
	Network string `toml:"network"`
	// Backend is how servers run: BackendContainer (a container on this
	// engine) or BackendSwarm (a Swarm service, on any node of the swarm
	// this engine manages).
	Backend string `toml:"backend"`
	// VolumeDriver is the volume driver of work volumes (an NFS or other
	// plugin every node has); empty means "local", which on a swarm keeps
	// each student's server on the node that holds their files.
	VolumeDriver string `toml:"volume_driver,omitempty"`
	// HubPort is the port of the hub's internal API on the Docker bridge.
	// It is baked into every container's JUPYTERHUB_API_URL, so it stays
	// fixed across restarts: running servers keep reaching a restarted hub.
	HubPort int `toml:"hub_port"`
	// UserPorts is the range, "FIRST-LAST", from which each user's server
	// gets a port of its own the first time it starts: a port is an origin,
	// so nothing one student's server serves can read the hub's or another
	// student's pages. A user keeps their port until they are deleted.
	UserPorts string `toml:"user_ports"`
	// SubdomainHost, when set (e.g. "hub.example.org", which needs a
	// wildcard DNS name), serves each user's server at
	// <label>.<SubdomainHost> on the public port instead of on a port of
	// its own.
	SubdomainHost string `toml:"subdomain_host"`
	// MaxWebsockets caps one user's open websockets (kernels, terminals)
	// through the proxy; more are refused with 429, so one server cannot
	// hold all of the hub's connections.
	MaxWebsockets int `toml:"max_websockets"`
	// SpawnConcurrency bounds how many Docker operations run at once; more
	// requests queue, visibly.
	SpawnConcurrency int `toml:"spawn_concurrency"`
	// StartTimeout bounds creating and starting a container (not pulls).
	StartTimeout Duration `toml:"start_timeout"`
	// HTTPTimeout bounds waiting for a started server to answer.
	HTTPTimeout Duration `toml:"http_timeout"`
	// IdleTimeout stops servers idle for this long; 0 disables culling.
	IdleTimeout Duration `toml:"idle_timeout"`
	// JoinCode is the login mode: empty means only users an instructor
	// added (or imported) can log in; a code lets anyone who knows it
	// sign up with a username and password of their choice.
	JoinCode string `toml:"join_code"`
	// ClaimAccounts lets the first person to log in as a pre-created
	// student choose its password without the setup code, as JupyterHub's
	// FirstUseAuthenticator does: for informal workshops only, where
	// nobody would take a classmate's name. Never for instructors, nor for
	// a student an instructor has reset: the reset's setup code is the way
	// back in.
	ClaimAccounts bool `toml:"claim_accounts"`
	// Owner is the person at this laptop: an admin whose notebook the
	// tray's "Open my notebook" opens. Empty means the login name.
	Owner string `toml:"owner"`
	// AllowUserConfig lets each student's server read configuration from
	// their own home directory (~/.jupyter), as JupyterHub's
	// disable_user_config = False does. Off, a student cannot make their
	// server serve arbitrary files or scripts to whoever opens it.
	AllowUserConfig bool `toml:"allow_user_config"`
	// TLS is TLSAuto, TLSFiles or TLSOff; empty means the default that
	// TLSMode works out.
	TLS string `toml:"tls,omitempty"`
	// TLSCert and TLSKey are the PEM certificate (with its chain) and key
	// that TLSFiles serves.
	TLSCert string `toml:"tls_cert,omitempty"`
	TLSKey  string `toml:"tls_key,omitempty"`
	// Environment is extra env for every server; it cannot override the
	// JupyterHub protocol's variables.
	Environment map[string]string `toml:"environment,omitempty"`
	// Materials is a folder on this computer (a dataset, slides) that
	// every server sees read-only at /home/jovyan/materials; empty means
	// none. Files changed in it show in running servers at once; a new
	// folder applies at each server's next start. CheckMaterials says
	// which folders may be shared.
	Materials string `toml:"materials,omitempty"`
	// LocalLogins lets people log in with a classhub password (and sign up
	// with the join code). It can be off only while an external login is
	// on; the tray's login links work either way.
	LocalLogins bool `toml:"local_logins"`
	// GitHub is the [github] table: logging in with a GitHub account.
	GitHub GitHub `toml:"github,omitempty"`
	// OIDC logs people in with a school's OpenID Connect provider.
	OIDC OIDC `toml:"oidc,omitempty"`
}

// Default returns the settings classhub starts with.
func Default() Config {
	return Config{
		Mode:             ModeClass,
		Image:            DefaultImage,
		PullPolicy:       PullIfNotPresent,
		ImageMode:        ImageModeAuto,
		MemoryLimit:      "2G",
		CPULimit:         1,
		PidsLimit:        DefaultPidsLimit,
		Network:          "classhub",
		Backend:          BackendContainer,
		HubPort:          8081,
		UserPorts:        "8100-8399",
		MaxWebsockets:    64,
		SpawnConcurrency: 4,
		StartTimeout:     Duration(60 * time.Second),
		HTTPTimeout:      Duration(60 * time.Second),
		IdleTimeout:      Duration(time.Hour),
		LocalLogins:      true,
	}
}

// ListenAddr returns the public listen address: Listen if set, else all
// interfaces in class mode and loopback for one person.
func (c Config) ListenAddr() string {
	if c.Listen != "" {
		return c.Listen
	}
	if c.Mode == ModePersonal {
		return "127.0.0.1:8000"
	}
	return "0.0.0.0:8000"
}

// TLSMode is how the hub serves: TLS if set; else TLSFiles when a
// certificate is given; else HTTPS from the local authority, except on a
// loopback-only address (personal mode's), where nothing crosses a network
// and a certificate would only bring a browser warning for nothing.
func (c Config) TLSMode() string {
	switch {
	case c.TLS != "":
		return c.TLS
	case c.TLSCert != "" || c.TLSKey != "":
		return TLSFiles
	case c.LoopbackOnly():
		return TLSOff
	}
	return TLSAuto
}

// LoopbackOnly reports whether the hub listens on loopback only, so that
// nothing it serves crosses a network.
func (c Config) LoopbackOnly() bool {
	host, _, err := net.SplitHostPort(c.ListenAddr())
	return err == nil && loopbackHost(host)
}

// MemoryBytes returns MemoryLimit in bytes (0 for none).
func (c Config) MemoryBytes() (int64, error) { return ParseBytes(c.MemoryLimit) }

// SwapBytes returns the memory+swap cap in bytes (0 for none).
func (c Config) SwapBytes() (int64, error) {
	if c.SwapLimit == "" {
		return c.MemoryBytes()
	}
	return ParseBytes(c.SwapLimit)
}

// Validate reports every bad setting at once, each as a sentence that says
// what to write instead.
func (c Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeClass, ModePersonal:
	default:
		errs = append(errs, fmt.Errorf("mode %q is not known: use %q or %q", c.Mode, ModeClass, ModePersonal))
	}
	switch c.PullPolicy {
	case PullIfNotPresent, PullAlways, PullNever:
	default:
		errs = append(errs, fmt.Errorf("pull_policy %q is not known: use %q, %q or %q", c.PullPolicy, PullIfNotPresent, PullAlways, PullNever))
	}
	switch c.ImageMode {
	case "", ImageModeAuto, ImageModeJupyterHub, ImageModeServer: // "" is auto, as in a file from before image_mode
	default:
		errs = append(errs, fmt.Errorf("image_mode %q is not known: use %q (find out from the image), %q (the image has jupyterhub-singleuser) or %q (a plain Jupyter server: jupyter-lab, jupyter-server or jupyter-notebook)",
			c.ImageMode, ImageModeAuto, ImageModeJupyterHub, ImageModeServer))
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, errors.New("image is empty: set it, e.g. to "+DefaultImage))
	}
	mem, err := c.MemoryBytes()
	if err != nil {
		errs = append(errs, fmt.Errorf("memory_limit: %w", err))
	}
	swap, err := c.SwapBytes()
	if err != nil {
		errs = append(errs, fmt.Errorf("swap_limit: %w", err))
	} else if mem > 0 && swap > 0 && swap < mem {
		errs = append(errs, fmt.Errorf("swap_limit %s is below memory_limit %s: it counts memory plus swap, so make it at least as large", c.SwapLimit, c.MemoryLimit))
	}
	if c.CPULimit < 0 {
		errs = append(errs, fmt.Errorf("cpu_limit %g is negative: use 0 for no limit", c.CPULimit))
	}
	if c.PidsLimit < 0 || (c.PidsLimit > 0 && c.PidsLimit < MinPidsLimit) {
		errs = append(errs, fmt.Errorf("pids_limit %d is too low for a notebook server and its kernels: use at least %d (the default is %d), or 0 for no limit", c.PidsLimit, MinPidsLimit, DefaultPidsLimit))
	}
	if c.Network == "" {
		errs = append(errs, errors.New("network is empty: set it, e.g. to \"classhub\""))
	}
	if c.Backend != "" && c.Backend != BackendContainer && c.Backend != BackendSwarm {
		errs = append(errs, fmt.Errorf("backend %q is not one classhub knows: use %q (servers in containers on this engine) or %q (Swarm services)", c.Backend, BackendContainer, BackendSwarm))
	}
	if c.HubPort < 0 || c.HubPort > 65535 {
		errs = append(errs, fmt.Errorf("hub_port %d is not a port: use 1–65535, or 0 to pick a free one", c.HubPort))
	}
	if _, _, err := c.UserPortRange(); err != nil {
		errs = append(errs, err)
	}
	if h := c.SubdomainHost; h != "" && !validHost(h) {
		errs = append(errs, fmt.Errorf("subdomain_host %q is not a host name: use a name like \"hub.example.org\" whose subdomains all reach this laptop, or leave it empty", h))
	}
	if c.MaxWebsockets < 1 {
		errs = append(errs, fmt.Errorf("max_websockets %d must be at least 1: a notebook needs one per open kernel, e.g. 64", c.MaxWebsockets))
	}
	if c.SpawnConcurrency < 1 {
		errs = append(errs, fmt.Errorf("spawn_concurrency %d must be at least 1", c.SpawnConcurrency))
	}
	if c.StartTimeout <= 0 || c.HTTPTimeout <= 0 {
		errs = append(errs, errors.New("start_timeout and http_timeout must be positive, e.g. \"60s\""))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, errors.New("idle_timeout is negative: use \"0s\" to turn culling off"))
	}
	if m := c.Materials; m != "" && !filepath.IsAbs(m) {
		errs = append(errs, fmt.Errorf("materials %q is not a full path: write the folder's whole path, or leave it empty", m))
	}
	errs = append(errs, c.validateTLS()...)
	errs = append(errs, c.OIDC.validate()...)
	errs = append(errs, c.GitHub.validate()...)
	if !c.LocalLogins && !c.ExternalLogins() {
		errs = append(errs, errors.New("local_logins = false needs an external login, or nobody but the laptop's owner could log in: set up [github] or [oidc] first, or set local_logins = true"))
	}
	return errors.Join(errs...)
}

// UserPortRange returns the first and last port of UserPorts. The range
// must not hold the public port or hub_port: those listeners serve the hub.
func (c Config) UserPortRange() (first, last int, err error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(c.UserPorts), "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return 0, 0, fmt.Errorf("user_ports %q is not a port range: write it as FIRST-LAST, e.g. \"8100-8399\", with one port per user who may start a server", c.UserPorts)
	}
	if c.HubPort >= first && c.HubPort <= last {
		return 0, 0, fmt.Errorf("user_ports %s holds hub_port %d: move one of them so that they do not overlap", c.UserPorts, c.HubPort)
	}
	if _, p, err := net.SplitHostPort(c.ListenAddr()); err == nil {
		if n, err := strconv.Atoi(p); err == nil && n >= first && n <= last {
			return 0, 0, fmt.Errorf("user_ports %s holds the public port %d: move one of them so that they do not overlap", c.UserPorts, n)
		}
	}
	return first, last, nil
}

// validHost reports whether h is a DNS name: dot-separated labels of
// letters, digits and inner hyphens.
func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (c Config) validateTLS() []error {
	var errs []error
	switch c.TLS {
	case "", TLSAuto, TLSFiles, TLSOff:
	default:
		return []error{fmt.Errorf("tls %q is not known: use %q (a certificate classhub makes), %q (your own, in tls_cert and tls_key) or %q (plain HTTP)", c.TLS, TLSAuto, TLSFiles, TLSOff)}
	}
	cert, key := strings.TrimSpace(c.TLSCert) != "", strings.TrimSpace(c.TLSKey) != ""
	switch {
	case c.TLSMode() == TLSFiles && !cert && !key:
		errs = append(errs, errors.New(`tls = "files" needs tls_cert and tls_key: set them to your PEM certificate and its private key, or use tls = "auto"`))
	case cert && !key:
		errs = append(errs, errors.New("tls_cert is set but tls_key is not: set tls_key to the certificate's private key (PEM)"))
	case key && !cert:
		errs = append(errs, errors.New("tls_key is set but tls_cert is not: set tls_cert to the certificate (PEM) that goes with the key"))
	case (cert || key) && c.TLSMode() != TLSFiles:
		errs = append(errs, fmt.Errorf(`tls_cert and tls_key are only used with tls = "files", not %q: set tls = "files" or remove them`, c.TLS))
	}
	return errs
}

// Load reads path over the defaults. A missing file is not an error: it
// means the defaults.
func Load(path string) (Config, error) {
	c := Default()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if c, err = decode(path, data); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// header opens every config file classhub writes.
const header = "# classhub settings. `classhub serve` and the app's Settings window both use this file.\n"

// Save writes c to path atomically, so a crash never leaves half a file.
func Save(path string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return writeAtomic(path, buf.Bytes(), 0o600)
}

// Duration is a time.Duration written as "90s" or "1h" in TOML.
type Duration time.Duration

// MarshalText writes d as Go duration text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go duration text such as "90s" or "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: write it like \"90s\", \"10m\" or \"1h\"", b)
	}
	*d = Duration(v)
	return nil
}

// ParseBytes reads sizes such as "512M", "2G", "1.5GiB" or "1073741824".
// Suffixes are binary (K = 1024), as Docker reads them. Empty means 0.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	num := strings.TrimRight(strings.ToUpper(s), "IB")
	mult := int64(1)
	if n := len(num); n > 0 {
		switch num[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			num = num[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: write it like \"512M\" or \"2G\"", s)
	}
	return int64(f * float64(mult)), nil
}
