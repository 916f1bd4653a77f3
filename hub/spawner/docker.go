package spawner

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
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
	// SpawnConcurrency; change it later with SetConfig.
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
	bus         *events.Bus
	version     string
	poll        time.Duration
	stopTimeout time.Duration
	httpc       *http.Client

	cfgMu sync.RWMutex
	cfg   config.Config

	netMu sync.Mutex
	net   *Network

	pool  *pool
	users userLocks
	pulls flight

	// imageWaiters are the reports of starts waiting for the image: the
	// one pull serves them all, so each start's progress shows its bytes.
	imageMu      sync.Mutex
	imageWaiters map[*report]struct{}

	noticeMu sync.Mutex
	noticed  map[string]bool

	knownMu sync.Mutex
	known   map[string]observed
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
		imageWaiters: map[*report]struct{}{},
		httpc: &http.Client{
			// Container addresses must never go through a proxy.
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
				DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if d.poll <= 0 {
		d.poll = 15 * time.Second
	}
	if d.stopTimeout <= 0 {
		d.stopTimeout = 10 * time.Second
	}
	return d
}

// SetConfig replaces the settings. Running servers keep theirs; a stopped
// server whose container no longer matches is recreated at its next start.
func (d *Docker) SetConfig(c config.Config) {
	d.cfgMu.Lock()
	d.cfg = c
	d.cfgMu.Unlock()
	d.pool.resize(c.SpawnConcurrency)
	d.netMu.Lock()
	if d.net != nil && d.net.Name != c.Network {
		d.net = nil
	}
	d.netMu.Unlock()
}

func (d *Docker) config() config.Config {
	d.cfgMu.RLock()
	defer d.cfgMu.RUnlock()
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
// Progress, everything else to the bus (d.publish).
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

// Start makes the user's server run with the current settings and returns
// it once GET <prefix>api answers. Image pulls and waiting in the queue do
// not count against config.StartTimeout (creating and starting the
// container) nor config.HTTPTimeout (waiting for the server to answer).
// A stopped container made from other settings or another token is
// recreated, keeping the user's volume; dead or half-made containers are
// replaced. Stop or Delete for the same user interrupts a Start.
func (d *Docker) Start(ctx context.Context, req StartRequest) (Server, error) {
	if err := req.validate(); err != nil {
		return Server{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ul := d.users.get(req.User)
	if err := ul.lock(ctx); err != nil {
		return Server{}, fmt.Errorf("start %s: %w", req.User, err)
	}
	ul.setCancel(cancel)
	defer func() {
		ul.setCancel(nil)
		ul.unlock()
	}()
	rep := report(req.Progress)
	if rep == nil {
		rep = func(events.Event) {}
	}
	d.transition(rep, req.User, StateStarting, "", "Starting")
	srv, err := d.start(ctx, req, rep)
	if err != nil {
		err = fmt.Errorf("start %s: %w", req.User, err)
		rep(events.Event{Kind: events.SpawnProgress, User: req.User, Progress: 100, Message: err.Error(), Failed: true,
			Reason: events.ReasonFailed})
		d.transition(rep, req.User, StateFailed, "", err.Error())
		// Remember the engine's truth so Watch does not report the
		// failure again as a change behind the hub's back.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if s, serr := d.status(sctx, req.User); serr == nil {
			d.knownMu.Lock()
			d.known[req.User] = observed{state: s.State, id: s.ID}
			d.knownMu.Unlock()
		}
		scancel()
		return Server{}, err
	}
	return srv, nil
}

// spec is everything ContainerCreate needs for one user's server.
type spec struct {
	user, name, volume string
	cfg                *container.Config
	host               *container.HostConfig
	netcfg             *network.NetworkingConfig
	imageID            string
	fingerprint        string
	token              string
}

func (d *Docker) specFor(cfg config.Config, netw Network, imageID string, req StartRequest) (spec, error) {
	mem, err := cfg.MemoryBytes()
	if err != nil {
		return spec{}, fmt.Errorf("memory_limit: %w", err)
	}
	swap, err := cfg.SwapBytes()
	if err != nil {
		return spec{}, fmt.Errorf("swap_limit: %w", err)
	}
	if mem == 0 {
		swap = 0 // the engine refuses a swap limit without a memory limit
	}
	env, _ := buildEnv(envInput{
		User: req.User, Token: req.APIToken, HubHost: netw.HubHost, HubPort: req.HubPort,
		Image: cfg.Image, MemBytes: mem, CPULimit: cfg.CPULimit, Extra: cfg.Environment, AllowUserConfig: cfg.AllowUserConfig,
	})
	port := nat.Port(strconv.Itoa(ServerPort) + "/tcp")
	name := ContainerName(req.User)
	s := spec{
		user:   req.User,
		name:   name,
		volume: VolumeName(req.User),
		cfg: &container.Config{
			Image: cfg.Image,
			// Cmd stays nil: the image's CMD runs (jupyterhub-singleuser).
			Env:          env,
			ExposedPorts: nat.PortSet{port: struct{}{}},
			Hostname:     name,
			Labels:       d.labels(RoleServer, req.User),
		},
		host: &container.HostConfig{
			NetworkMode: container.NetworkMode(netw.Name),
			Mounts: []mount.Mount{{
				// A named volume starts as a copy of the image's directory,
				// ownership included, so jovyan (1000:100) can write.
				Type: mount.TypeVolume, Source: VolumeName(req.User), Target: WorkDir,
			}},
			Resources: container.Resources{
				Memory:     mem,
				MemorySwap: swap,
				NanoCPUs:   int64(cfg.CPULimit * 1e9),
			},
			// A semester of request logs must not fill the disk.
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}},
		},
		netcfg:  &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netw.Name: {}}},
		imageID: imageID,
		token:   req.APIToken,
	}
	harden(s.host, cfg)
	if !netw.ContainerIPsRoutable {
		s.host.PortBindings = nat.PortMap{port: {{HostIP: "127.0.0.1"}}}
		s.host.ExtraHosts = []string{desktopHost + ":host-gateway"}
	}
	s.fingerprint = fingerprint(s.cfg, s.host, imageID)
	s.cfg.Labels[engine.LabelFingerprint] = s.fingerprint
	return s, nil
}

func (d *Docker) start(ctx context.Context, req StartRequest, rep report) (Server, error) {
	user := req.User
	rep.progress(user, 0, events.PhaseNetwork, "Getting the network ready")
	netw, err := d.EnsureNetwork(ctx)
	if err != nil {
		return Server{}, err
	}
	rep.progress(user, 5, events.PhaseImage, "Checking the notebook image")
	imageID, err := d.ensureImage(ctx, rep)
	if err != nil {
		return Server{}, err
	}
	release, err := d.pool.acquire(ctx, func(ahead int) {
		rep.progress(user, 10, events.PhaseQueued, fmt.Sprintf("Queued, %d ahead", ahead))
	})
	if err != nil {
		return Server{}, err
	}
	defer release()

	cfg := d.config()
	sp, err := d.specFor(cfg, netw, imageID, req)
	if err != nil {
		return Server{}, err
	}
	sctx, scancel := context.WithTimeout(ctx, time.Duration(cfg.StartTimeout))
	info, err := d.ensureRunning(sctx, sp, rep)
	scancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return Server{}, fmt.Errorf("the container did not start within %s (start_timeout): the engine may be overloaded; try again", time.Duration(cfg.StartTimeout))
		}
		return Server{}, err
	}
	target, err := targetOf(info, netw.Name)
	if err != nil {
		return Server{}, err
	}
	rep.progress(user, 60, events.PhaseWaiting, "Waiting for the notebook server to answer")
	rctx, rcancel := context.WithTimeout(ctx, time.Duration(cfg.HTTPTimeout))
	err = d.waitReady(rctx, rep, user, info.ID, target+ServerPrefix(user)+"api", time.Duration(cfg.HTTPTimeout))
	rcancel()
	if err != nil {
		// A server that never answered is stopped, not left half alive;
		// its container stays for its logs.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), d.stopTimeout+10*time.Second)
		d.stopContainer(sctx, info.ID)
		scancel()
		return Server{}, err
	}
	srv := serverFrom(user, info, netw.Name)
	srv.Target = target
	d.transition(rep, user, StateRunning, info.ID, "Ready")
	rep.progress(user, 100, events.PhaseReady, "Server ready")
	return srv, nil
}

// errRetry makes ensureRunning look again: something changed meanwhile.
var errRetry = errors.New("retry")

// ensureRunning brings the user's container to running and returns its
// inspection.
func (d *Docker) ensureRunning(ctx context.Context, sp spec, rep report) (container.InspectResponse, error) {
	user := sp.user
	if err := d.ensureVolume(ctx, user); err != nil {
		return container.InspectResponse{}, err
	}
	startFailed := false
	pause := 50 * time.Millisecond
	for attempt := 0; attempt < 10; attempt++ {
		info, found, err := d.inspectOwned(ctx, user)
		if err != nil {
			return info, err
		}
		if !found {
			rep.progress(user, 30, events.PhaseCreating, "Creating the container")
			id, err := d.create(ctx, sp)
			if errors.Is(err, errRetry) {
				// Another creator holds the name but its container is
				// not visible yet: give it a moment.
				select {
				case <-ctx.Done():
					return info, ctx.Err()
				case <-time.After(pause):
				}
				pause = min(2*pause, time.Second)
				continue
			}
			if err != nil {
				return info, err
			}
			rep.progress(user, 45, events.PhaseStarting, "Starting the container")
			if err := d.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
				return info, fmt.Errorf("start container %s: %w", sp.name, engine.Explain(err))
			}
			return d.inspect(ctx, id)
		}
		tokenOK := tokenMatches(info, sp.token)
		fpOK := info.Config.Labels[engine.LabelFingerprint] == sp.fingerprint
		switch info.State.Status {
		case container.StateRunning, container.StatePaused:
			// A running server that cannot authenticate to the hub, or
			// reach it, is broken anyway: restart it. Other drift waits
			// for the next stop so nobody loses a running kernel.
			why := ""
			if !tokenOK {
				why = "it was running with credentials the hub no longer has"
			} else if old, _ := envValue(info.Config.Env, "JUPYTERHUB_API_URL"); old != sp.apiURL() {
				why = "the hub's address changed, so it could no longer reach the hub"
			}
			if why != "" {
				d.notice(user, fmt.Sprintf("Restarted %s's server: %s. The files in %s are kept.", user, why, WorkDir))
				if err := d.removeContainer(ctx, info.ID); err != nil {
					return info, err
				}
				continue
			}
			if info.State.Status == container.StatePaused {
				if err := d.cli.ContainerUnpause(ctx, info.ID); err != nil {
					return info, fmt.Errorf("unpause %s: %w", sp.name, engine.Explain(err))
				}
			}
			if !fpOK {
				d.noticeOnce("drift:"+info.ID, user, fmt.Sprintf("%s's server is running with older settings (%s); they apply after it is stopped and started again.",
					user, joinReasons(driftReasons(info, sp.cfg, sp.host, sp.imageID))))
			}
			return d.inspect(ctx, info.ID)
		case container.StateRestarting, container.StateDead:
			d.notice(user, fmt.Sprintf("Replaced %s's server container, which the engine reported as %s. The files in %s are kept.", user, info.State.Status, WorkDir))
			if err := d.removeContainer(ctx, info.ID); err != nil {
				return info, err
			}
			continue
		case container.StateRemoving:
			if err := d.waitGone(ctx, info.ID); err != nil {
				return info, err
			}
			continue
		}
		// Created or exited: reuse it if it is what the settings make.
		if !fpOK {
			d.notice(user, fmt.Sprintf("Recreated %s's server because %s. The files in %s are kept.",
				user, joinReasons(driftReasons(info, sp.cfg, sp.host, sp.imageID)), WorkDir))
			if err := d.removeContainer(ctx, info.ID); err != nil {
				return info, err
			}
			continue
		}
		if !tokenOK {
			// Quietly: a new token per start is normal for a hub.
			if err := d.removeContainer(ctx, info.ID); err != nil {
				return info, err
			}
			continue
		}
		rep.progress(user, 45, events.PhaseStarting, "Starting the container")
		if err := d.cli.ContainerStart(ctx, info.ID, container.StartOptions{}); err != nil {
			if now, ierr := d.cli.ContainerInspect(ctx, info.ID); ierr == nil && now.State != nil && now.State.Running {
				continue // someone else started it meanwhile
			}
			if ctx.Err() != nil || startFailed {
				return info, fmt.Errorf("start container %s: %w", sp.name, engine.Explain(err))
			}
			startFailed = true
			d.notice(user, fmt.Sprintf("Recreated %s's server because its container would not start (%v). The files in %s are kept.", user, err, WorkDir))
			if err := d.removeContainer(ctx, info.ID); err != nil {
				return info, err
			}
			continue
		}
		return d.inspect(ctx, info.ID)
	}
	return container.InspectResponse{}, fmt.Errorf("container %s kept changing while classhub set it up: check that no other program manages it", sp.name)
}

func (sp spec) apiURL() string {
	v, _ := envValue(sp.cfg.Env, "JUPYTERHUB_API_URL")
	return v
}

func tokenMatches(info container.InspectResponse, token string) bool {
	if info.Config == nil {
		return false
	}
	have, _ := envValue(info.Config.Env, "JUPYTERHUB_API_TOKEN")
	return subtle.ConstantTimeCompare([]byte(have), []byte(token)) == 1
}

func (d *Docker) create(ctx context.Context, sp spec) (string, error) {
	resp, err := d.cli.ContainerCreate(ctx, sp.cfg, sp.host, sp.netcfg, nil, sp.name)
	switch {
	case err == nil:
		return resp.ID, nil
	case cerrdefs.IsConflict(err):
		return "", errRetry // someone made it meanwhile: look again
	case cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "network"):
		// The network vanished since it was checked: make it again.
		d.forgetNetwork()
		if _, nerr := d.EnsureNetwork(ctx); nerr != nil {
			return "", nerr
		}
		return "", errRetry
	}
	return "", fmt.Errorf("create container %s: %w", sp.name, engine.Explain(err))
}

// ensureVolume creates the user's work volume if it is missing and checks
// that an existing one is classhub's and this user's.
func (d *Docker) ensureVolume(ctx context.Context, user string) error {
	name := VolumeName(user)
	v, err := d.cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		v, err = d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local", Labels: d.labels(RoleWork, user)})
	}
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, engine.Explain(err))
	}
	if v.Labels[engine.LabelManaged] != "true" {
		return fmt.Errorf("a Docker volume named %s exists but classhub did not create it: rename or remove it (`docker volume rm %s`) so classhub can make %s's own: %w", name, name, user, ErrNotManaged)
	}
	if owner := v.Labels[engine.LabelUser]; owner != user {
		return fmt.Errorf("volume %s belongs to user %q, not %q: their names escape alike; rename one of the users: %w", name, owner, user, ErrNotManaged)
	}
	return nil
}

// inspectOwned inspects the user's container. found is false when there is
// none; a container of that name that is not classhub's, or is another
// user's, is an error and is left alone.
func (d *Docker) inspectOwned(ctx context.Context, user string) (info container.InspectResponse, found bool, err error) {
	name := ContainerName(user)
	info, err = d.cli.ContainerInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("inspect container %s: %w", name, engine.Explain(err))
	}
	// Containers inherit their image's labels, and classhub's image is
	// labelled managed too: only the server role and a user label mark a
	// server classhub made.
	l := map[string]string{}
	if info.Config != nil {
		l = info.Config.Labels
	}
	if info.State == nil || l[engine.LabelManaged] != "true" || l[engine.LabelRole] != RoleServer || l[engine.LabelUser] == "" {
		return info, false, fmt.Errorf("a Docker container named %s exists but classhub did not create it: rename or remove it (`docker rm -f %s`) so classhub can start %s's server: %w", name, name, user, ErrNotManaged)
	}
	if owner := l[engine.LabelUser]; owner != user {
		return info, false, fmt.Errorf("container %s belongs to user %q, not %q: their names escape alike; rename one of the users: %w", name, owner, user, ErrNotManaged)
	}
	return info, true, nil
}

func (d *Docker) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	info, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return info, fmt.Errorf("inspect container %s: %w", id, engine.Explain(err))
	}
	return info, nil
}

// removeContainer force-removes a container, tolerating one that is
// already gone or being removed.
func (d *Docker) removeContainer(ctx context.Context, id string) error {
	err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	switch {
	case err == nil, cerrdefs.IsNotFound(err):
		return nil
	case cerrdefs.IsConflict(err): // "removal already in progress"
		return d.waitGone(ctx, id)
	}
	return fmt.Errorf("remove container %s: %w", id, engine.Explain(err))
}

// waitGone waits until the engine has finished removing a container.
func (d *Docker) waitGone(ctx context.Context, id string) error {
	delay := 100 * time.Millisecond
	for {
		_, err := d.cli.ContainerInspect(ctx, id)
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for container %s to go: %w", id, engine.Explain(err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s is still being removed: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

func (d *Docker) stopContainer(ctx context.Context, id string) error {
	secs := int(d.stopTimeout.Round(time.Second) / time.Second)
	err := d.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return engine.Explain(err)
	}
	return nil
}

// targetOf is where the hub reaches a running server: a port published on
// loopback when there is one, else the container's IP on the network.
func targetOf(info container.InspectResponse, netName string) (string, error) {
	port := strconv.Itoa(ServerPort)
	if ns := info.NetworkSettings; ns != nil {
		for _, b := range ns.Ports[nat.Port(port+"/tcp")] {
			if b.HostPort != "" && (b.HostIP == "127.0.0.1" || b.HostIP == "") {
				return "http://127.0.0.1:" + b.HostPort, nil
			}
		}
		if ep := ns.Networks[netName]; ep != nil && ep.IPAddress != "" {
			return "http://" + net.JoinHostPort(ep.IPAddress, port), nil
		}
		for _, ep := range ns.Networks {
			if ep != nil && ep.IPAddress != "" {
				return "http://" + net.JoinHostPort(ep.IPAddress, port), nil
			}
		}
	}
	return "", fmt.Errorf("container %s runs but has no address on network %s: delete the server and start it again", strings.TrimPrefix(info.Name, "/"), netName)
}

// serverFrom describes a container for the hub.
func serverFrom(user string, info container.InspectResponse, netName string) Server {
	s := Server{
		User:      user,
		State:     StateMissing,
		Container: ContainerName(user),
		Volume:    VolumeName(user),
		Prefix:    ServerPrefix(user),
	}
	if info.ContainerJSONBase == nil || info.State == nil {
		return s
	}
	s.ID = info.ID
	st := info.State
	s.DockerState = st.Status
	s.State = stateOf(st.Status)
	s.StartedAt = parseTime(st.StartedAt)
	s.FinishedAt = parseTime(st.FinishedAt)
	s.ExitCode = st.ExitCode
	s.OOMKilled = st.OOMKilled
	s.Error = st.Error
	if info.Config != nil {
		s.Image = info.Config.Image
		s.APIToken, _ = envValue(info.Config.Env, "JUPYTERHUB_API_TOKEN")
	}
	if s.State == StateRunning {
		s.Target, _ = targetOf(info, netName)
	}
	return s
}

func stateOf(dockerState string) State {
	switch dockerState {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return StateRunning
	case container.StateCreated, container.StateExited:
		return StateStopped
	case container.StateDead, container.StateRemoving:
		return StateBroken
	}
	return StateBroken
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// Stop stops the user's server and keeps its container, so the next Start
// is quick. A start in progress for the user is interrupted. Stopping a
// server that is not running is not an error.
func (d *Docker) Stop(ctx context.Context, user string) error {
	ul := d.users.get(user)
	ul.interrupt()
	if err := ul.lock(ctx); err != nil {
		return fmt.Errorf("stop %s: %w", user, err)
	}
	defer ul.unlock()
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return fmt.Errorf("stop %s: %w", user, err)
	}
	if !found {
		d.transition(d.publish, user, StateMissing, "", "No server to stop")
		return nil
	}
	if info.State.Running {
		d.transition(d.publish, user, StateStopping, info.ID, "Stopping")
		if err := d.stopContainer(ctx, info.ID); err != nil {
			return fmt.Errorf("stop %s: %w", user, err)
		}
	}
	d.transition(d.publish, user, StateStopped, info.ID, "Stopped")
	return nil
}

// Delete removes the user's container (stopping it first) and keeps their
// volume, so their files are there at the next Start. A start in progress
// is interrupted.
func (d *Docker) Delete(ctx context.Context, user string) error {
	ul := d.users.get(user)
	ul.interrupt()
	if err := ul.lock(ctx); err != nil {
		return fmt.Errorf("delete %s: %w", user, err)
	}
	defer ul.unlock()
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return fmt.Errorf("delete %s: %w", user, err)
	}
	if found {
		if info.State.Running {
			d.transition(d.publish, user, StateStopping, info.ID, "Stopping")
			if err := d.stopContainer(ctx, info.ID); err != nil {
				return fmt.Errorf("delete %s: %w", user, err)
			}
		}
		if err := d.removeContainer(ctx, info.ID); err != nil {
			return fmt.Errorf("delete %s: %w", user, err)
		}
	}
	d.transition(d.publish, user, StateMissing, "", "Server deleted; files kept")
	return nil
}

// DeleteData removes the user's work volume: every file they kept in
// /home/jovyan/work is lost for good. It is a separate, explicit action
// and refuses while the user's container exists, running or stopped:
// Delete the server first. A user without a volume is not an error.
func (d *Docker) DeleteData(ctx context.Context, user string) error {
	ul := d.users.get(user)
	if err := ul.lock(ctx); err != nil {
		return fmt.Errorf("delete %s's files: %w", user, err)
	}
	defer ul.unlock()
	name := VolumeName(user)
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return fmt.Errorf("delete %s's files: %w", user, err)
	}
	if found {
		return fmt.Errorf("delete %s's files: their server container %s still exists (%s): delete the server first; deleting the files then removes volume %s with everything in %s, for good",
			user, ContainerName(user), info.State.Status, name, WorkDir)
	}
	v, err := d.cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s's files: %w", user, engine.Explain(err))
	}
	if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelUser] != user {
		return fmt.Errorf("delete %s's files: volume %s was not created by classhub for %s, so classhub leaves it alone: %w", user, name, user, ErrNotManaged)
	}
	if err := d.cli.VolumeRemove(ctx, name, false); err != nil {
		if cerrdefs.IsConflict(err) {
			return fmt.Errorf("delete %s's files: volume %s is in use by another container: stop it first (`docker ps -a --filter volume=%s`)", user, name, name)
		}
		return fmt.Errorf("delete %s's files: %w", user, engine.Explain(err))
	}
	d.notice(user, fmt.Sprintf("Deleted %s's files (volume %s).", user, name))
	return nil
}

// Status reports the user's server as the engine sees it now.
func (d *Docker) Status(ctx context.Context, user string) (Server, error) {
	s, err := d.status(ctx, user)
	if err != nil {
		return s, fmt.Errorf("status %s: %w", user, err)
	}
	return s, nil
}

func (d *Docker) status(ctx context.Context, user string) (Server, error) {
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return Server{}, err
	}
	if !found {
		return serverFrom(user, container.InspectResponse{}, ""), nil
	}
	return serverFrom(user, info, d.config().Network), nil
}

// Logs returns the last tail lines (all when tail <= 0) the user's server
// wrote to stdout and stderr.
func (d *Docker) Logs(ctx context.Context, user string, tail int) (string, error) {
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return "", fmt.Errorf("logs %s: %w", user, err)
	}
	if !found {
		return "", fmt.Errorf("logs %s: %s has no server container", user, user)
	}
	out, err := d.logs(ctx, info.ID, tail)
	if err != nil {
		return "", fmt.Errorf("logs %s: %w", user, err)
	}
	return out, nil
}

func (d *Docker) logs(ctx context.Context, id string, tail int) (string, error) {
	t := "all"
	if tail > 0 {
		t = strconv.Itoa(tail)
	}
	rc, err := d.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: t})
	if err != nil {
		return "", engine.Explain(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	// Servers never get a TTY, so the stream is multiplexed.
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return buf.String(), err
	}
	return buf.String(), nil
}

// lastLines is the end of a container's log on one line, for errors.
func (d *Docker) lastLines(id string, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := d.logs(ctx, id, n)
	if err != nil || strings.TrimSpace(out) == "" {
		return "(no output)"
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		// Python underlines the failing expression with ^ and ~.
		if l = strings.TrimSpace(l); strings.Trim(l, "^~ ") != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
