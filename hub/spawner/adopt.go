package spawner

import (
	"context"
	"fmt"
	"sort"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// serverFilter selects classhub's server containers.
func serverFilter() filters.Args {
	return filters.NewArgs(
		filters.Arg("label", engine.ManagedFilter()),
		filters.Arg("label", engine.LabelRole+"="+RoleServer),
	)
}

// List reports every server container classhub made, running ones with
// their target, sorted by user. Containers without a user label, or whose
// name is not the one classhub gives that user, are not classhub's to run
// and are left out.
func (d *Docker) List(ctx context.Context) ([]Server, error) {
	cs, err := d.run.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", engine.Explain(err))
	}
	netName := d.run.networkName(d.config())
	var out []Server
	for _, c := range cs {
		user := c.user
		if !c.named {
			continue
		}
		info, err := d.run.inspect(ctx, c.id)
		if cerrdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list servers: %w", engine.Explain(err))
		}
		out = append(out, serverFrom(user, info, netName))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out, nil
}

func hasName(names []string, want string) bool {
	for _, n := range names {
		if n == "/"+want || n == want {
			return true
		}
	}
	return false
}

// Adopt is what a hub calls when it starts: it lists the servers left by a
// previous run (running ones keep running, with their target and APIToken,
// so the hub can route to them again), removes dead containers that could
// never start again (keeping their volumes), and remembers what it found so
// Watch reports later changes made behind the hub's back.
func (d *Docker) Adopt(ctx context.Context) ([]Server, error) {
	list, err := d.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("adopt: %w", err)
	}
	for i, s := range list {
		if s.DockerState != container.StateDead {
			continue
		}
		ul := d.users.get(s.User)
		if !ul.tryLock() {
			continue // an operation on this user will deal with it
		}
		err := d.run.remove(ctx, s.ID)
		ul.unlock()
		if err != nil {
			return nil, fmt.Errorf("adopt: %w", err)
		}
		d.notice(s.User, fmt.Sprintf("Removed %s's dead server container; the files in %s are kept and the next start makes a new one.", s.User, WorkDir))
		list[i] = serverFrom(s.User, container.InspectResponse{}, "")
	}
	d.knownMu.Lock()
	for _, s := range list {
		d.known[s.User] = observed{state: s.State, id: s.ID}
	}
	d.knownMu.Unlock()
	return list, nil
}
