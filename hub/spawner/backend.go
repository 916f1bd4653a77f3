package spawner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

// backend is how a user's server runs in the engine: as a container of
// this engine (containers) or as a Swarm service (services, service.go).
// The rest of the spawner reasons about one container per user, as the
// engine inspects it; a service is shown to it as the container its task
// runs, so reconcile, the fingerprint, adoption and Watch are one code for
// both. Helper containers (probes, volume copies) always run on this
// engine.
type backend interface {
	// networkName is the name of the servers' network under cfg.
	networkName(cfg config.Config) string
	// ensureNetwork makes the servers' network ready and works out how
	// the hub and the servers reach each other over it.
	ensureNetwork(ctx context.Context, name string) (Network, error)
	// confine drops from a server's HostConfig what the backend cannot
	// express, so its fingerprint and drift describe what runs.
	confine(hc *container.HostConfig)
	// inspect inspects a server by name or ID; a missing one is a
	// NotFound error.
	inspect(ctx context.Context, ref string) (container.InspectResponse, error)
	// create makes a server from sp without starting it (a service runs
	// at once, so for services start only waits); errRetry when another
	// creator holds the name.
	create(ctx context.Context, sp spec) (string, error)
	// start makes a created or stopped server run and returns once it
	// runs (not yet answers); say reports what the engine shows of the
	// way there (a service's task being scheduled and prepared).
	start(ctx context.Context, id string, say func(string)) error
	unpause(ctx context.Context, id string) error
	// stop stops a server and keeps it; a missing one is no error.
	stop(ctx context.Context, id string) error
	// remove removes a server, waiting until its files are free; a
	// missing one is no error.
	remove(ctx context.Context, id string) error
	// waitGone waits until a server the engine is removing is gone.
	waitGone(ctx context.Context, id string) error
	// list lists classhub's servers, briefly.
	list(ctx context.Context) ([]listed, error)
	// logs streams a server's output, multiplexed as the engine sends it.
	logs(ctx context.Context, id string, tail string) (io.ReadCloser, error)
	// stats samples a running server once.
	stats(ctx context.Context, id string) (container.StatsResponseReader, error)
}

// listed is one server as a list shows it.
type listed struct {
	user  string
	id    string
	state State
	// named: the engine's name for it is the one classhub gives user.
	named bool
}

// newBackend is the backend the settings choose.
func newBackend(d *Docker, cfg config.Config) backend {
	if cfg.Backend == config.BackendSwarm {
		return &services{d: d}
	}
	return containers{d: d}
}

// containers runs each server as a container of this engine.
type containers struct{ d *Docker }

func (containers) networkName(cfg config.Config) string { return cfg.Network }

func (b containers) ensureNetwork(ctx context.Context, name string) (Network, error) {
	return b.d.ensureNetwork(ctx, name)
}

func (containers) confine(*container.HostConfig) {}

func (b containers) inspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	return b.d.cli.ContainerInspect(ctx, ref)
}

func (b containers) create(ctx context.Context, sp spec) (string, error) {
	resp, err := b.d.cli.ContainerCreate(ctx, sp.cfg, sp.host, sp.netcfg, nil, sp.name)
	if err != nil {
		return "", err
	}
	return resp.ID, nil
}

func (b containers) start(ctx context.Context, id string, _ func(string)) error {
	return b.d.cli.ContainerStart(ctx, id, container.StartOptions{})
}

func (b containers) unpause(ctx context.Context, id string) error {
	return b.d.cli.ContainerUnpause(ctx, id)
}

func (b containers) stop(ctx context.Context, id string) error {
	secs := int(b.d.stopTimeout.Round(time.Second) / time.Second)
	err := b.d.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return engine.Explain(err)
	}
	return nil
}

func (b containers) remove(ctx context.Context, id string) error { return b.d.removeContainer(ctx, id) }

func (b containers) waitGone(ctx context.Context, id string) error { return b.d.waitGone(ctx, id) }

func (b containers) list(ctx context.Context) ([]listed, error) {
	cs, err := b.d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: serverFilter()})
	if err != nil {
		return nil, err
	}
	out := make([]listed, 0, len(cs))
	for _, c := range cs {
		user := c.Labels[engine.LabelUser]
		out = append(out, listed{user: user, id: c.ID, state: stateOf(c.State), named: user != "" && hasName(c.Names, ContainerName(user))})
	}
	return out, nil
}

func (b containers) logs(ctx context.Context, id string, tail string) (io.ReadCloser, error) {
	return b.d.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
}

func (b containers) stats(ctx context.Context, id string) (container.StatsResponseReader, error) {
	return b.d.cli.ContainerStats(ctx, id, false)
}

// notFound is the engine's NotFound error for a server that is gone.
func notFound(format string, args ...any) error {
	return errdefs.NotFound(fmt.Errorf(format, args...))
}
