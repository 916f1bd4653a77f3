// Package core is the hub's machine room without HTTP: it ties the store,
// the spawner, the proxy's route table and the event bus together into the
// operations everyone calls — the REST API, the web pages, the tray app and
// the CLI alike — so that none of them holds lifecycle logic of its own.
package core

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Version is the JupyterHub version the hub speaks, sent as
// X-JupyterHub-Version and in GET /hub/api. jupyterhub-singleuser 3.0 warns
// on a major.minor mismatch and 5.x on a major one; 3.0.0 matches the
// Debian image exactly.
const Version = "3.0.0"

// Router is the proxy's route table.
type Router interface {
	SetRoute(user string, target *url.URL)
	// SetGuardedRoute routes to a server that logs nobody in by itself
	// (spawner.ModeServer): the proxy lets through only visitors the
	// hub's login allows on user's server, and adds token for them.
	SetGuardedRoute(user string, target *url.URL, token string)
	RemoveRoute(user string)
}

// Origins gives each user's server an origin of its own (a port of theirs).
type Origins interface {
	// Open makes name's origin ready before their server starts; its
	// error, a sentence that says what to do, fails the start.
	Open(ctx context.Context, name string) error
	// Close gives up name's origin once name is deleted.
	Close(name string)
}

// Options are the hub's dependencies, injected so tests can swap any of
// them.
type Options struct {
	Config  config.Config
	Store   *store.Store
	Spawner spawner.Spawner
	Router  Router
	// Origins, if set, opens a user's origin before their server starts.
	Origins Origins
	// Bus is the hub's one event stream, the one the tray, dashboard and
	// progress pages follow; the spawner publishes its notices on it too.
	Bus *events.Bus
	// HubPort is the internal API listener's port, which servers are told
	// to call; set before the first Start.
	HubPort int
	// SlowSpawn is how long Start waits for a server before answering
	// "pending"; 0 means JupyterHub's 10 s.
	SlowSpawn time.Duration
	// SaveImage writes a notebook image SetImage chose to the settings
	// file (config.SetImage), so that it outlives the hub; nil keeps the
	// choice for this run only.
	SaveImage func(ref string) error
	// Sizer, if set, tells Capacity what the laptop gives servers.
	Sizer Sizer
}

// Lifecycle runs users' servers and keeps their accounts: the one place
// the hub decides what happens to them.
type Lifecycle struct {
	store   *store.Store
	spawner spawner.Spawner
	router  Router
	origins Origins
	bus     *events.Bus

	mu      sync.Mutex
	cfg     config.Config
	hubPort int
	servers map[string]*serverState

	// imageMu orders image choices (SetImage), each saved then applied,
	// and guards the engine's images LocalImages found, and when.
	imageMu   sync.Mutex
	saveImage func(ref string) error
	images    []image.Local
	imagesAt  time.Time
	// sizer and usage are what Capacity reads (usage.go).
	sizer Sizer
	usage usage

	slowSpawn time.Duration
	ctx       context.Context // lives as long as the hub; spawns outlive requests
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New returns a Lifecycle. Call Close to stop its background work.
func New(opts Options) *Lifecycle {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Lifecycle{
		store:     opts.Store,
		spawner:   opts.Spawner,
		router:    opts.Router,
		origins:   opts.Origins,
		bus:       opts.Bus,
		cfg:       opts.Config,
		hubPort:   opts.HubPort,
		servers:   make(map[string]*serverState),
		slowSpawn: opts.SlowSpawn,
		saveImage: opts.SaveImage,
		sizer:     opts.Sizer,
		ctx:       ctx,
		cancel:    cancel,
	}
	if h.bus == nil {
		h.bus = events.NewBus(256)
	}
	if h.slowSpawn <= 0 {
		h.slowSpawn = 10 * time.Second
	}
	return h
}

// Bus is the hub's event stream.
func (h *Lifecycle) Bus() *events.Bus { return h.bus }

// Store is the hub's state.
func (h *Lifecycle) Store() *store.Store { return h.store }

// Config returns the settings in force.
func (h *Lifecycle) Config() config.Config {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cfg
}

// Close stops background work and waits for spawns in flight to end.
func (h *Lifecycle) Close() {
	h.cancel()
	h.wg.Wait()
}

// goBackground runs fn in the background for as long as the hub lives;
// Close waits for it.
func (h *Lifecycle) goBackground(fn func(ctx context.Context)) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn(h.ctx)
	}()
}

// Errors the operations return; callers map them to HTTP statuses or
// sentences.
var (
	ErrNoSuchUser     = errors.New("no such user")
	ErrPending        = errors.New("an operation on this server is still in progress")
	ErrAlreadyRunning = errors.New("server is already running")
	ErrBadName        = errors.New("invalid username")
	// ErrCancelled says a start was cancelled by a stop while its caller
	// waited for it.
	ErrCancelled = errors.New("the start was cancelled")
)

func (h *Lifecycle) user(ctx context.Context, name string) (store.User, error) {
	return getUser(ctx, h.store, name)
}
