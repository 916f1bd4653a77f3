// Package hub is classhub's hub as a library, and the one door to it: it
// opens the state, connects to Docker, finds the bridge address, and
// serves the public listener (pages, REST API, proxy to notebook servers)
// and the internal one that containers call.
//
// The tray app and the command line reach the hub through this package
// and hub/config alone, the settings being theirs to read and edit: Hub's
// methods are what an open hub offers (lifecycle.go), surface.go names the
// types and errors they speak in, Accounts changes users with no hub open
// (accounts.go), and machine.go checks the machine and builds the image.
package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/gate"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/logfile"
	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
	"github.com/classhub/classhub/hub/tlscert"
	"github.com/classhub/classhub/hub/web"
)

// StateFile is the SQLite database's name inside the data dir.
const StateFile = "classhub.sqlite"

// Options configure Open.
type Options struct {
	DataDir string
	Config  config.Config
	// Version is classhub's version, recorded on Docker objects.
	Version string
	// Log's writer receives the hub's log records, as the data dir's
	// LogFile does (log.go); nil means stderr.
	Log *log.Logger
	// ConfigFile is the settings file Config was read from, where an
	// image chosen while the hub runs (SetImage, the admin page) is
	// written; "" keeps such a choice for this run only.
	ConfigFile string
}

// Hub is a running classhub hub. Its methods are all the tray app and
// the CLI reach it through: the servers' and users' operations are in
// lifecycle.go, the words they are spoken in in surface.go.
type Hub struct {
	life    *core.Lifecycle
	store   *store.Store
	spawner *spawner.Docker
	proxy   *proxy.Proxy
	api     *api.API
	auth    *auth.Authenticator
	network spawner.Network

	cfg      config.Config
	log      *log.Logger
	docker   io.Closer
	public   net.Listener
	internal net.Listener
	origins  *origins // nil with subdomain_host
	// classHosts is the class link's host a browser at loopback is sent
	// to (loopback.go).
	classHosts classHostCache

	// slog is the hub's log, which log bridges to; logFile is the data
	// dir's LogFile; events feeds logEvents, and Close ends it and waits
	// for it before closing the file.
	slog       *slog.Logger
	logFile    *logfile.File
	events     *events.Subscription
	eventsDone chan struct{}

	// tls is the public listeners' TLS, nil for plain HTTP; ca is the
	// local authority with tls = "auto"; fingerprint is what people check.
	tls         *tls.Config
	ca          *tlscert.Authority
	fingerprint string
	// publicConns counts the connections from each address to every
	// public listener together (publicLimits.PerAddress); nil, no cap.
	publicConns *limit.PerKey
	servers     []*http.Server
	closeOne    sync.Once

	// activity holds the proxy's activity writes in flight, which Close
	// waits for before it closes the store; after activityDone it starts
	// none.
	activityMu   sync.Mutex
	activityDone bool
	activity     sync.WaitGroup
}

// Open prepares a hub: state, Docker, network, listeners and adopted
// servers. Call Serve to answer requests and Close when done.
func Open(ctx context.Context, opts Options) (_ *Hub, err error) {
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := config.CheckMaterials(cfg.Materials, opts.DataDir, opts.ConfigFile, cfg.TLSKey); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	out := io.Writer(os.Stderr)
	if opts.Log != nil {
		out = opts.Log.Writer()
	}
	logFile, slogger, logger, err := openLog(opts.DataDir, out)
	if err != nil {
		return nil, err
	}
	h := &Hub{cfg: cfg, log: logger, slog: slogger, logFile: logFile, publicConns: publicLimits.addresses()}
	defer func() {
		if err != nil {
			// The dashboard shows the log when the hub does not open.
			h.slog.Error("the hub could not open", "err", err)
			h.Close()
		}
	}()
	if h.store, err = store.Open(filepath.Join(opts.DataDir, StateFile)); err != nil {
		return nil, err
	}
	st := h.store

	// Certificates first: a bad tls_cert is the instructor's to fix, and
	// says so before Docker is asked anything.
	if err := h.setupTLS(opts.DataDir); err != nil {
		return nil, err
	}
	docker, err := engine.Connect(ctx)
	if err != nil {
		return nil, err
	}
	h.docker = docker
	bus := events.NewBus(512)
	h.events = bus.Subscribe(256, false, loggedKinds)
	h.eventsDone = make(chan struct{})
	go func() {
		defer close(h.eventsDone)
		logEvents(h.slog, h.events)
	}()
	h.spawner = spawner.New(docker, spawner.Options{Config: cfg, Bus: bus, Version: opts.Version})
	// A swarm or volume driver the settings need and the engine lacks
	// would fail every start: say so now, as `classhub doctor` does.
	if cfg.Backend == config.BackendSwarm || cfg.VolumeDriver != "" {
		eng, err := h.spawner.Engine(ctx)
		if err != nil {
			return nil, err
		}
		if ps := core.BackendProblems(cfg, eng); len(ps) > 0 {
			return nil, ps[0]
		}
	}
	if h.network, err = h.spawner.EnsureNetwork(ctx); err != nil {
		return nil, err
	}

	// The internal listener binds the bridge gateway, which containers
	// reach and the LAN does not. It stays plain HTTP even when the public
	// one is HTTPS: the singleuser server reaches it as JUPYTERHUB_API_URL
	// over the bridge, which never leaves the laptop, and would have to
	// trust the local authority to speak TLS to it.
	internalAddr := net.JoinHostPort(h.network.BindAddr, strconv.Itoa(cfg.HubPort))
	if h.internal, err = net.Listen("tcp", internalAddr); err != nil {
		return nil, fmt.Errorf("listen for notebook servers on %s: %w (is another classhub running? set hub_port to a free port)", internalAddr, err)
	}
	if h.public, err = h.listenPublic(cfg.ListenAddr()); err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another classhub running? pass --listen with a free port)", cfg.ListenAddr(), err)
	}

	// On HTTPS every cookie is Secure, so a browser never sends it over
	// plain HTTP, and the login cookie is __Host-: a page on a user's
	// origin, which shares the hub's host, can then neither shadow it
	// with a more specific path or a Domain nor replace it (auth's
	// cookie.go). __Host- needs Path=/, so browsers send the login to
	// users' origins as well: every server has an origin of its own, only
	// the proxy answers there, and it strips the hub's cookies from
	// whatever it forwards and drops a server's Set-Cookie of their names.
	// Anything else serving on this host name, on any port, would receive
	// the login too.
	h.auth = &auth.Authenticator{Store: st, Secure: h.tls != nil, ClaimAccounts: func() bool { return cfg.ClaimAccounts }}
	// Each user's server gets an origin of its own: a host name under
	// subdomain_host, or else a port on the public address.
	publicAddr := h.public.Addr().(*net.TCPAddr)
	userOrigins := &proxy.Origins{PublicPort: publicAddr.Port, SubdomainHost: cfg.SubdomainHost, Label: spawner.Escape}
	var coreOrigins core.Origins
	if cfg.SubdomainHost == "" {
		first, last, _ := cfg.UserPortRange() // Validate checked it
		h.origins = &origins{store: st, listen: h.listenPublic, ip: publicAddr.IP.String(), first: first, last: last, log: logger,
			ports: make(map[string]int), open: make(map[int]*userListener)}
		userOrigins.Port = h.origins.Port
		coreOrigins = h.origins
	}
	// The mux is filled below, once the API exists; the API needs the
	// hub, and the hub needs the proxy as its router.
	hubMux := http.NewServeMux()
	hubCookies := []string{auth.SessionCookie, auth.HostSessionCookie, web.StateCookie, web.HostStateCookie,
		gate.LoginCookie, gate.StateCookie}
	h.proxy = proxy.New(proxy.Options{
		Hub:           hubBodies(hubMux),
		NotRunning:    notRunning,
		Activity:      h.recordActivity,
		ErrorLog:      logger,
		Origins:       userOrigins,
		HubCookies:    hubCookies,
		MaxWebsockets: cfg.MaxWebsockets,
		// Servers of images without JupyterHub are logged in to here.
		Guard: gate.New(gate.Options{Logins: h.auth, ErrorLog: logger}),
		// A visitor's own token never reaches another's server.
		Tokens: &auth.Visits{Auth: h.auth, ClientID: core.OAuthClientID},
	})
	if h.origins != nil {
		h.origins.proxy = h.proxy
		if err := h.origins.boot(ctx); err != nil {
			return nil, err
		}
	}
	var saveImage func(string) error
	if file := opts.ConfigFile; file != "" {
		saveImage = func(ref string) error { return config.SetImage(file, ref) }
	}
	h.life = core.New(core.Options{Config: cfg, Store: st, Spawner: h.spawner, Router: h.proxy, Origins: coreOrigins,
		Bus: bus, HubPort: h.internal.Addr().(*net.TCPAddr).Port, SaveImage: saveImage, Sizer: h.spawner})
	// One cap on each user's event streams, the API's and the pages'.
	streams := limit.NewPerKey(limit.StreamsPerUser)
	providers, err := externalLogins(ctx, cfg, h.OAuthCallbackURL())
	if err != nil {
		return nil, err
	}
	// The pages are everything under /hub/ but the API, and the API's
	// consent page.
	pages := web.New(web.Options{Hub: h.life, Auth: h.auth, ErrorLog: logger, Streams: streams,
		JoinCode:    cfg.JoinCode,
		Fingerprint: h.TLSFingerprint(), CACert: h.CACert(), UserOrigins: h.proxy.UserOriginsSource, ClassURL: h.ClassURL,
		Providers: providers, PasswordsOff: !cfg.LocalLogins,
		HubLog: func(tail int) (string, error) { return ReadLog(opts.DataDir, tail) }})
	h.api = api.New(api.Options{Hub: h.life, Auth: h.auth, ErrorLog: logger, Pages: pages, Streams: streams,
		ServerVersion: h.serverVersion})

	hubMux.Handle("/hub/api/", h.api.Handler())
	hubMux.Handle("/hub/api", h.api.Handler())
	hubMux.Handle("/hub/health", h.api.Handler())
	hubMux.Handle("/", pages.Handler())

	if err := h.life.Boot(ctx); err != nil {
		return nil, err
	}
	if h.origins != nil {
		// Servers started by a classhub from before origins per user
		// get their port now.
		for user := range h.proxy.Routes() {
			if err := h.origins.Open(ctx, user); err != nil {
				logger.Printf("%v", err)
			}
		}
	}
	if _, err := h.EnsureOwner(ctx); err != nil {
		return nil, err
	}
	if err := h.endLoopbackLogins(ctx); err != nil {
		return nil, err
	}
	h.slog.Info("the hub is open", "version", opts.Version, "class_link", h.ClassURL(), "listen", h.public.Addr().String(),
		"image", cfg.Image, "https", h.tls != nil)
	return h, nil
}

// Owner is the username of the person at this laptop.
func (h *Hub) Owner() string {
	if h.cfg.Owner != "" {
		return core.NormalizeName(h.cfg.Owner)
	}
	return DefaultOwner()
}

// DefaultOwner derives a valid username from the login name.
func DefaultOwner() string {
	name := core.NormalizeName(os.Getenv("USER"))
	if u, err := user.Current(); err == nil && name == "" {
		name = core.NormalizeName(u.Username)
	}
	if core.ValidateName(name) != nil {
		return "instructor"
	}
	return name
}

// EnsureOwner creates the laptop's person as an admin on first run. They
// log in through the tray's login links and have no password until they
// set one (Settings, `classhub users passwd`); no instructor's account is
// ever claimed by typing its name on the login form.
func (h *Hub) EnsureOwner(ctx context.Context) (string, error) {
	name := h.Owner()
	_, err := h.store.CreateUser(ctx, store.NewUser{Name: name, Admin: true})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return name, fmt.Errorf("create the owner %s: %w", name, err)
	}
	return name, nil
}

// LoginLink returns a single-use link, valid for a minute, that logs
// name in and opens next (their server if empty). The tray opens it so the
// person at the laptop never types a password.
func (h *Hub) LoginLink(ctx context.Context, name, next string) (string, error) {
	addr := h.public.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	if auth.LoopbackHost(host) {
		// Where students' servers share this machine's loopback, the
		// login is set at the class link's host, or nowhere.
		to, err := h.awayFromLoopback()
		if err != nil {
			return "", err
		}
		if to != "" {
			host = to
		}
	}
	secret, err := h.store.CreateLoginLink(ctx, name, time.Minute)
	if err != nil {
		return "", fmt.Errorf("login link for %s: %w", name, err)
	}
	if next == "" {
		next = "/hub/spawn/" + url.PathEscape(name)
	}
	return h.scheme() + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + "/hub/login-link/" + secret + "?next=" + url.QueryEscape(next), nil
}

// notRunning sends requests for a server without a route to the hub's
// page for it, as JupyterHub's default route does: browsers get the
// progress page or a start button there, API clients a 424 saying the
// server is not running. 307 keeps a POST a POST.
func notRunning(w http.ResponseWriter, r *http.Request, user string) {
	code := http.StatusFound
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusTemporaryRedirect
	}
	http.Redirect(w, r, "/hub"+r.URL.RequestURI(), code)
}

// PublicAddr is the address the public listener bound.
func (h *Hub) PublicAddr() net.Addr { return h.public.Addr() }

// serverVersion is the JupyterHub version the internal listener answers
// the notebook server making r with: that of its image's jupyterhub.
func (h *Hub) serverVersion(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return h.spawner.JupyterHubVersion(ap.Addr())
}

// InternalAddr is the address the internal listener bound.
func (h *Hub) InternalAddr() net.Addr { return h.internal.Addr() }

// ClassURL is the address students type or scan: the laptop's LAN address
// in class mode, loopback for one person.
func (h *Hub) ClassURL() string {
	addr := h.public.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	switch {
	case !addr.IP.IsUnspecified():
		// Bound to one address: that is the only one that works.
	case h.cfg.Mode == config.ModeClass:
		host = "127.0.0.1"
		if ip, err := spawner.LANAddress(); err == nil {
			host = ip.String()
		}
	default:
		host = "127.0.0.1"
	}
	port := addr.Port
	return h.scheme() + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// Serve answers requests on the public listener, users' ports and the
// internal listener until ctx ends, then shuts them down gracefully; their
// timeouts and limits are in conns.go. Notebook servers keep running: the
// next hub adopts them.
func (h *Hub) Serve(ctx context.Context) error {
	// One error log for every public listener, so that the main port and
	// the users' ports together log one failed handshake a minute.
	publicLog := quietHandshakes(h.log)
	pub := newPublicServer(offLoopback(h.proxy, h.scheme(), h.awayFromLoopback), publicLog)
	in := newInternalServer(h.api.InternalHandler(), h.log)
	h.servers = []*http.Server{pub, in}
	errc := make(chan error, 2)
	go func() { errc <- pub.Serve(h.public) }()
	inL := h.internal
	if h.network.ContainerIPsRoutable {
		// Each container calls from its own address. In a VM they all
		// come from one, where a per-address cap would be a cap on the
		// whole class.
		inL = internalLimits.listener(inL)
	}
	go func() { errc <- in.Serve(inL) }()
	if h.origins != nil {
		h.origins.start(func(user string, handler http.Handler) *http.Server {
			handler = h.othersOffLoopback(user, handler)
			return newPublicServer(offLoopback(handler, h.scheme(), h.awayFromLoopback), publicLog)
		})
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pub.Shutdown(sctx)
	in.Shutdown(sctx)
	if h.origins != nil {
		h.origins.shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases everything Open took. Running servers are left running.
func (h *Hub) Close() {
	h.closeOne.Do(func() {
		if h.life != nil {
			h.life.Close()
		}
		if h.origins != nil {
			h.origins.closeAll()
		}
		for _, l := range []net.Listener{h.public, h.internal} {
			if l != nil {
				l.Close()
			}
		}
		h.activityMu.Lock()
		h.activityDone = true
		h.activityMu.Unlock()
		h.activity.Wait()
		if h.store != nil {
			h.store.Close()
		}
		if h.docker != nil {
			h.docker.Close()
		}
		if h.events != nil {
			h.events.Close()
			<-h.eventsDone
		}
		if h.logFile != nil {
			h.logFile.Close()
		}
	})
}

// recordActivity writes user's last activity for the proxy, which calls
// it at most every 30 s per user, off the request's path. Close waits for
// the writes in flight before it closes the store.
func (h *Hub) recordActivity(user string, t time.Time) {
	h.activityMu.Lock()
	defer h.activityMu.Unlock()
	if h.activityDone {
		return
	}
	h.activity.Add(1)
	go func() {
		defer h.activity.Done()
		// A user deleted while their browser still talks to their
		// server has nowhere to record it; nothing is wrong.
		if err := h.store.RecordActivity(context.Background(), user, "", t); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.Printf("%v", err)
		}
	}()
}
