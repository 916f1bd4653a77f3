package spawner

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/docker/docker/client"
)

// WorkDir is where each user's volume is mounted in their container.
const WorkDir = "/home/jovyan/work"

// Roles classhub's objects carry in engine.LabelRole.
const (
	RoleServer  = "server"
	RoleWork    = "work"
	RoleNetwork = "network"
	RoleProbe   = "probe"
)

// Options configure a Docker spawner.
type Options struct {
	// Config holds the image, pull policy, limits, network, timeouts and
	// SpawnConcurrency, fixed for the spawner's life but for the image,
	// which SetImage changes.
	Config config.Config
	// Bus, the hub's event stream, receives notices, image pull progress
	// and the state changes of stops and deletes; nil publishes nothing.
	// A start reports to its request's Progress instead, and Watch to
	// the func it is given.
	Bus *events.Bus
	// Version is recorded on created objects as engine.LabelVersion.
	Version string
	// PollInterval is how often Watch lists containers in case the engine's
	// event stream missed something; 0 means 15 s.
	PollInterval time.Duration
	// StopTimeout is how long a server gets to shut down before it is
	// killed; 0 means 10 s.
	StopTimeout time.Duration
}

// Docker is the Spawner for a Docker engine.
type Docker struct {
	cli         client.APIClient
	run         backend // how servers run: containers or services
	bus         *events.Bus
	version     string
	poll        time.Duration
	stopTimeout time.Duration
	httpc       *http.Client

	// cfg is read through config: SetImage changes its image while
	// starts read it.
	cfgMu sync.Mutex
	cfg   config.Config

	netMu sync.Mutex
	net   *Network // the network made ready, nil until then

	seatMu sync.Mutex // held from a seat's choice until its service holds it

	pool  *pool
	users userLocks
	pulls flight

	owners owners // see owner.go

	// imageWaiters are the reports of starts waiting for the image: the
	// one pull serves them all, so each start's progress shows its bytes.
	imageMu      sync.Mutex
	imageWaiters map[*report]struct{}

	noticeMu sync.Mutex
	noticed  map[string]bool

	knownMu sync.Mutex
	known   map[string]observed

	versionMu sync.Mutex
	versions  map[netip.Addr]string // see hubversion.go

	// modes is what each image runs, by image ID and image_mode (see
	// mode.go); detections share one detection among the starts that
	// need it at once.
	modesMu    sync.Mutex
	modes      map[string]imageMode
	detections flight
}

var _ Spawner = (*Docker)(nil)

// observed is the last state the hub knows for a user, so Watch can tell
// changes made behind its back from its own.
type observed struct {
	state State
	id    string
}

// New returns a spawner using cli, which should be made with
// client.WithAPIVersionNegotiation (engine.Connect does).
func New(cli client.APIClient, opts Options) *Docker {
	d := &Docker{
		cli:          cli,
		bus:          opts.Bus,
		version:      opts.Version,
		poll:         opts.PollInterval,
		stopTimeout:  opts.StopTimeout,
		cfg:          opts.Config,
		pool:         newPool(opts.Config.SpawnConcurrency),
		noticed:      map[string]bool{},
		known:        map[string]observed{},
		versions:     map[netip.Addr]string{},
		modes:        map[string]imageMode{},
		imageWaiters: map[*report]struct{}{},
		httpc: &http.Client{
			// Container addresses must never go through a proxy.
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
				DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	d.run = newBackend(d, opts.Config)
	if d.poll <= 0 {
		d.poll = 15 * time.Second
	}
	if d.stopTimeout <= 0 {
		d.stopTimeout = 10 * time.Second
	}
	return d
}

// config returns the settings in force.
func (d *Docker) config() config.Config {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	return d.cfg
}

// Load reports how many starts hold a slot and how many are queued.
func (d *Docker) Load() (running, queued int) { return d.pool.load() }

func (d *Docker) labels(role, user string) map[string]string {
	l := map[string]string{engine.LabelManaged: "true", engine.LabelRole: role}
	if user != "" {
		l[engine.LabelUser] = user
	}
	if d.version != "" {
		l[engine.LabelVersion] = d.version
	}
	return l
}

func (d *Docker) publish(e events.Event) {
	if d.bus != nil {
		d.bus.Publish(e)
	}
}

// report is where an operation's events go: a start's to its request's
// Progress, Watch's to the func the hub gives it, a stop's or a delete's
// to the bus (d.publish).
type report func(events.Event)

// progress reports a step of a start.
func (r report) progress(user string, pct int, phase events.Phase, msg string) {
	r(events.Event{Kind: events.SpawnProgress, User: user, Progress: pct, Phase: phase, Message: msg})
}

func (d *Docker) notice(user, msg string) {
	d.publish(events.Event{Kind: events.Notice, User: user, Message: msg})
}

// noticeOnce publishes a notice the first time key is seen, for conditions
// that would otherwise repeat at every start.
func (d *Docker) noticeOnce(key, user, msg string) {
	d.noticeMu.Lock()
	seen := d.noticed[key]
	d.noticed[key] = true
	d.noticeMu.Unlock()
	if !seen {
		d.notice(user, msg)
	}
}

// transition records a state the hub caused and reports it.
func (d *Docker) transition(r report, user string, st State, id, msg string) {
	d.knownMu.Lock()
	d.known[user] = observed{state: st, id: id}
	d.knownMu.Unlock()
	e := events.Event{Kind: events.ServerState, User: user, State: string(st), Message: msg}
	if st == StateFailed {
		e.Failed, e.Reason = true, events.ReasonFailed
	}
	r(e)
}
