package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// SwarmResult is scenario 10: scenarios 3 and 4 again, through a second
// classhub whose backend is "swarm" (each server a service), in the same
// run, so the two backends' figures sit side by side.
type SwarmResult struct {
	// Skipped, when not "", says why the scenario did not run.
	Skipped string `json:"skipped,omitempty"`
	// MadeSwarm: the engine was in no swarm, so the bench made a
	// single-node one for the scenario and left it afterwards.
	MadeSwarm bool `json:"made_swarm"`
	Trials    int  `json:"trials"`
	// Spawn is one start to ready in the REST API.
	Spawn Dist `json:"spawn"`
	Users int  `json:"users"`
	// BurstAllMS is the whole class ready; Burst each user's wait.
	BurstAllMS float64 `json:"burst_all_ready_ms"`
	Burst      Dist    `json:"burst_each"`
}

func (l *lab) swarmUser(kind string, i int) string {
	return fmt.Sprintf("w%s%02d%s", kind, i, l.suffix)
}

// swarmNet is the swarm hub's network setting; its overlay is this plus
// "-swarm".
func (l *lab) swarmNet() string { return l.netw + "-s" }

// swarmScenario is scenario 10. An engine that is a worker of a swarm, or
// whose swarm is in another state, cannot run it: the result says so and
// the report shows it as skipped, not as measured.
func (l *lab) swarmScenario(ctx context.Context) error {
	res := &SwarmResult{Trials: l.rep.Params.SpawnTrials, Users: l.rep.Params.Burst}
	l.rep.Swarm = res
	info, err := l.docker.Info(ctx)
	if err != nil {
		return err
	}
	switch st := info.Swarm.LocalNodeState; {
	case st == swarm.LocalNodeStateInactive:
		_, err := l.docker.NetworkInspect(ctx, "docker_gwbridge", network.InspectOptions{})
		l.madeGateway = cerrdefs.IsNotFound(err)
		if _, err := l.docker.SwarmInit(ctx, swarm.InitRequest{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"}); err != nil {
			return fmt.Errorf("make a single-node swarm: %w", err)
		}
		res.MadeSwarm, l.madeSwarm = true, true
	case st != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable:
		res.Skipped = fmt.Sprintf("the engine is not a swarm manager (swarm state %s), and the bench only makes a swarm where there is none", st)
		l.log("10 swarm: SKIPPED: %s", res.Skipped)
		return nil
	}

	sw, err := NewClasshub(l.ch.Bin, filepath.Join(l.dir, "classhub-swarm"), l.dir, l.swarmNet())
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(sw.DataDir, "classhub.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("backend = \"swarm\"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("swarm hub config: %w", err)
	}
	var users []string
	for i := 1; i <= res.Trials; i++ {
		users = append(users, l.swarmUser("", i))
	}
	for i := 1; i <= res.Users; i++ {
		users = append(users, l.swarmUser("b", i))
	}
	if _, err := sw.CLI(ctx, append([]string{"users", "add"}, users...)...); err != nil {
		return err
	}
	admin := "wteacher" + l.suffix
	if _, err := sw.CLI(ctx, "users", "add", admin, "--admin"); err != nil {
		return err
	}
	tok, err := sw.Token(ctx, admin)
	if err != nil {
		return err
	}
	if _, err := sw.Start(ctx); err != nil {
		return err
	}
	defer sw.Stop()

	var spawns []time.Duration
	for i := 1; i <= res.Trials; i++ {
		user := l.swarmUser("", i)
		start := time.Now()
		created, err := sw.StartServer(ctx, tok, user)
		if err == nil && !created {
			_, err = sw.WaitReady(ctx, tok, []string{user}, start, 50*time.Millisecond, spawnLimit)
		}
		d := time.Since(start)
		if serr := sw.StopServer(ctx, tok, user); err == nil {
			err = serr
		}
		if err != nil {
			return fmt.Errorf("spawn %s: %w", user, err)
		}
		spawns = append(spawns, d)
		l.log("10 swarm spawn %d/%d: %s", i, res.Trials, d.Round(time.Millisecond))
		time.Sleep(time.Second)
	}
	res.Spawn = Summarize(spawns)

	burst := users[res.Trials:]
	start := time.Now()
	ready, errs, err := startClass(ctx, sw, tok, burst)
	l.log("10 swarm burst: %d services ready in %s", len(ready), time.Since(start).Round(time.Millisecond))
	stopErrs := parallel(len(burst), func(i int) error { return sw.StopServer(ctx, tok, burst[i]) })
	if err := errors.Join(errs, err, stopErrs); err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	res.BurstAllMS = ms(slices.Max(values(ready)))
	res.Burst = Summarize(values(ready))
	return nil
}

// removeServices removes the services classhub made for users whose names
// end with suffix, then the overlay network netName once their tasks have
// left it.
func removeServices(ctx context.Context, cli *client.Client, suffix, netName string) error {
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	var errs []error
	for _, s := range svcs {
		if strings.HasSuffix(s.Spec.Labels[engine.LabelUser], suffix) {
			if err := cli.ServiceRemove(ctx, s.ID); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove service %s: %w", s.Spec.Name, err))
			}
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		err := cli.NetworkRemove(ctx, netName)
		if err == nil || cerrdefs.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", netName, err))
			break
		}
	}
	return errors.Join(errs...)
}
