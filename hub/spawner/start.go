package spawner

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
)

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
	// token is the secret the container must hold: the hub API token, or
	// a ModeServer server's Jupyter token.
	token string
	mode  Mode
	// freshVolume: the volume was made by this start, empty.
	freshVolume bool
}

func (d *Docker) specFor(cfg config.Config, netw Network, imageID string, m imageMode, req StartRequest) (spec, error) {
	vol := req.volume
	if vol == "" {
		vol = VolumeName(req.User)
		if req.Account.Key != "" {
			vol = AccountVolumeName(req.User, req.Account.Key)
		}
	}
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
	token := req.APIToken
	if m.mode == ModeServer {
		token = JupyterToken(req.APIToken)
	}
	env, _ := buildEnv(envInput{
		User: req.User, Token: token, HubHost: netw.HubHost, HubPort: req.HubPort,
		Image: cfg.Image, MemBytes: mem, CPULimit: cfg.CPULimit, Extra: cfg.Environment, AllowUserConfig: cfg.AllowUserConfig,
		Mode: m.mode,
	})
	port := nat.Port(strconv.Itoa(ServerPort) + "/tcp")
	name := ContainerName(req.User)
	s := spec{
		user:   req.User,
		name:   name,
		volume: vol,
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
				// ownership included, so jovyan (1000:100) can write; for
				// an image without one, ownVolume gives it to the image's
				// user.
				Type: mount.TypeVolume, Source: vol, Target: WorkDir,
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
		token:   token,
		mode:    m.mode,
	}
	s.cfg.Labels[engine.LabelMode] = string(ModeJupyterHub)
	if m.mode == ModeServer {
		s.cfg.Labels[engine.LabelMode] = string(ModeServer)
		s.cfg.Cmd = serverArgs(m, ServerPrefix(req.User))
		if m.ownEntrypoint {
			// An empty list, unlike nil, replaces the image's.
			s.cfg.Entrypoint = []string{}
		}
	}
	if cfg.Materials != "" {
		s.host.Mounts = append(s.host.Mounts, materialsMount(cfg.Materials))
	}
	harden(s.host, cfg)
	d.run.confine(s.host)
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
	// One reading of the settings for the whole start: the image its ID
	// is checked for is the one its container is made from, whatever
	// SetImage does meanwhile.
	cfg := d.config()
	rep.progress(user, 0, events.PhaseNetwork, "Getting the network ready")
	netw, err := d.EnsureNetwork(ctx)
	if err != nil {
		return Server{}, err
	}
	rep.progress(user, 5, events.PhaseImage, "Checking the notebook image")
	imageID, err := d.ensureImage(ctx, cfg, rep)
	if err != nil {
		return Server{}, err
	}
	mode, err := d.modeOf(ctx, rep, user, cfg, imageID)
	if err != nil {
		return Server{}, err
	}
	if cfg.Materials != "" {
		if err := checkMaterials(cfg.Materials); err != nil {
			return Server{}, err
		}
	}
	release, err := d.pool.acquire(ctx, func(ahead int) {
		rep.progress(user, 10, events.PhaseQueued, fmt.Sprintf("Queued, %d ahead", ahead))
	})
	if err != nil {
		return Server{}, err
	}
	defer release()

	// Before the start's time limit: moving an older volume's files into
	// the account's copies them all.
	vol, fresh, err := d.volumeFor(ctx, req, imageID)
	if err != nil {
		return Server{}, err
	}
	req.volume = vol
	sp, err := d.specFor(cfg, netw, imageID, mode, req)
	if err != nil {
		return Server{}, err
	}
	sp.freshVolume = fresh
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
	d.noteVersion(info, netw.Name)
	rep.progress(user, 60, events.PhaseWaiting, "Waiting for the notebook server to answer")
	rctx, rcancel := context.WithTimeout(ctx, time.Duration(cfg.HTTPTimeout))
	err = d.waitReady(rctx, rep, user, cfg.Image, info.ID, target+ServerPrefix(user)+"api", time.Duration(cfg.HTTPTimeout))
	rcancel()
	if err != nil {
		// A server that never answered is stopped, not left half alive;
		// its container stays for its logs.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), d.stopTimeout+10*time.Second)
		d.run.stop(sctx, info.ID)
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
// inspection. Each round looks at the container, lets reconcile decide,
// and acts; a container that changes meanwhile (another hub, a CLI, the
// engine) is looked at again, a few times.
func (d *Docker) ensureRunning(ctx context.Context, sp spec, rep report) (container.InspectResponse, error) {
	user := sp.user
	if err := d.ownVolume(ctx, sp, sp.freshVolume, rep); err != nil {
		return container.InspectResponse{}, err
	}
	if sp.freshVolume {
		d.applyKept(ctx, sp, rep)
	}
	say := func(msg string) { rep.progress(user, 50, events.PhaseStarting, msg) }
	startFailed := false
	pause := 50 * time.Millisecond
	for attempt := 0; attempt < 10; attempt++ {
		info, found, err := d.inspectOwned(ctx, user)
		if err != nil {
			return info, err
		}
		act := reconcile(info, found, sp)
		switch act.step {
		case stepCreate:
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
			if err := d.run.start(ctx, id, say); err != nil {
				return info, startError(sp, err)
			}
			return d.inspect(ctx, id)
		case stepUnpause, stepUse:
			if act.step == stepUnpause {
				if err := d.run.unpause(ctx, info.ID); err != nil {
					return info, fmt.Errorf("unpause %s: %w", sp.name, engine.Explain(err))
				}
			}
			if act.notice != "" {
				d.noticeOnce("drift:"+info.ID, user, act.notice)
			}
			return d.inspect(ctx, info.ID)
		case stepReplace:
			if act.notice != "" {
				d.notice(user, act.notice)
			}
			if err := d.run.remove(ctx, info.ID); err != nil {
				return info, err
			}
		case stepWaitGone:
			if err := d.run.waitGone(ctx, info.ID); err != nil {
				return info, err
			}
		case stepStart:
			rep.progress(user, 45, events.PhaseStarting, "Starting the container")
			err := d.run.start(ctx, info.ID, say)
			if err == nil {
				return d.inspect(ctx, info.ID)
			}
			if now, ierr := d.run.inspect(ctx, info.ID); ierr == nil && now.State != nil && now.State.Running {
				continue // someone else started it meanwhile
			}
			// A start refused for want of a seat is no broken
			// container: recreating it would only be refused again.
			if ctx.Err() != nil || startFailed || errors.Is(err, ErrNoSeat) {
				return info, startError(sp, err)
			}
			startFailed = true
			d.notice(user, fmt.Sprintf("Recreated %s's server because its container would not start (%v). The files in %s are kept.", user, err, WorkDir))
			if err := d.run.remove(ctx, info.ID); err != nil {
				return info, err
			}
		}
	}
	return container.InspectResponse{}, fmt.Errorf("container %s kept changing while classhub set it up: check that no other program manages it", sp.name)
}

func (sp spec) apiURL() string {
	v, _ := envValue(sp.cfg.Env, "JUPYTERHUB_API_URL")
	return v
}

// tokenMatches reports whether the container holds the secret sp gives
// it; a container of the other mode never does.
func tokenMatches(info container.InspectResponse, sp spec) bool {
	if info.Config == nil {
		return false
	}
	key := "JUPYTERHUB_API_TOKEN"
	if sp.mode == ModeServer {
		key = "JUPYTER_TOKEN"
	}
	have, _ := envValue(info.Config.Env, key)
	return have != "" && subtle.ConstantTimeCompare([]byte(have), []byte(sp.token)) == 1
}

func (d *Docker) create(ctx context.Context, sp spec) (string, error) {
	id, err := d.run.create(ctx, sp)
	switch {
	case err == nil:
		return id, nil
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

// startError explains why the engine would not start a server's
// container. An entrypoint or command that is not in the image is the
// image's fault, not the engine's, and the sentence says so.
func startError(sp spec, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "exec:") && strings.Contains(msg, "no such file or directory") {
		return fmt.Errorf("the notebook image %s has no program at its entrypoint or command (%w): check the image's ENTRYPOINT and CMD, or choose another image", sp.cfg.Image, err)
	}
	return fmt.Errorf("start container %s (image %s): %w", sp.name, sp.cfg.Image, engine.Explain(err))
}

// ensureVolume creates the user's work volume if it is missing, checks
// that an existing one is classhub's and this user's, and reports whether
// it made it.
func (d *Docker) ensureVolume(ctx context.Context, user string) (fresh bool, err error) {
	name := VolumeName(user)
	v, err := d.cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		labels := d.labels(RoleWork, user)
		driver, derr := d.volumeDriver(ctx, labels)
		if derr != nil {
			return false, fmt.Errorf("volume %s: %w", name, derr)
		}
		v, err = d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: driver, Labels: labels})
		fresh = true
	}
	if err != nil {
		return false, fmt.Errorf("volume %s: %w", name, engine.Explain(err))
	}
	if v.Labels[engine.LabelManaged] != "true" {
		return false, fmt.Errorf("a Docker volume named %s exists but classhub did not create it: rename or remove it (`docker volume rm %s`) so classhub can make %s's own: %w", name, name, user, ErrNotManaged)
	}
	if owner := v.Labels[engine.LabelUser]; owner != user {
		return false, fmt.Errorf("volume %s belongs to user %q, not %q: their names escape alike; rename one of the users: %w", name, owner, user, ErrNotManaged)
	}
	return fresh, nil
}
