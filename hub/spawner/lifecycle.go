package spawner

import (
	"context"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// Stop stops the user's server and keeps its container, so the next Start
// is quick. A start in progress for the user is interrupted. Stopping a
// server that is not running is not an error.
func (d *Docker) Stop(ctx context.Context, user string) error {
	return d.withUser(ctx, user, "stop "+user, true, func(info container.InspectResponse, found bool) error {
		if !found {
			d.transition(d.publish, user, StateMissing, "", "No server to stop")
			return nil
		}
		if info.State.Running {
			d.transition(d.publish, user, StateStopping, info.ID, "Stopping")
			if err := d.run.stop(ctx, info.ID); err != nil {
				return err
			}
		}
		d.transition(d.publish, user, StateStopped, info.ID, "Stopped")
		return nil
	})
}

// Delete removes the user's container (stopping it first) and keeps their
// volume, so their files are there at the next Start. A start in progress
// is interrupted.
func (d *Docker) Delete(ctx context.Context, user string) error {
	return d.withUser(ctx, user, "delete "+user, true, func(info container.InspectResponse, found bool) error {
		if found {
			if info.State.Running {
				d.transition(d.publish, user, StateStopping, info.ID, "Stopping")
				if err := d.run.stop(ctx, info.ID); err != nil {
					return err
				}
			}
			if err := d.run.remove(ctx, info.ID); err != nil {
				return err
			}
		}
		d.transition(d.publish, user, StateMissing, "", "Server deleted; files kept")
		return nil
	})
}

// DeleteData removes the account's work volume: every file they kept in
// /home/jovyan/work is lost for good. It is a separate, explicit action
// and refuses while the user's container exists, running or stopped:
// Delete the server first. A volume an older classhub made for the user
// goes too when it is the account's (see legacyVolume); one of an earlier
// account of the same name never does. An account without a volume is not
// an error. An empty acct.Key deletes the volume named by the user alone.
func (d *Docker) DeleteData(ctx context.Context, user string, acct Account) error {
	return d.withUser(ctx, user, "delete "+user+"'s files", false, func(info container.InspectResponse, found bool) error {
		if err := acct.valid(); err != nil {
			return err
		}
		var names []string
		if acct.Key == "" {
			names = append(names, VolumeName(user))
		} else {
			if v, ok, err := d.accountVolume(ctx, acct.Key); err != nil {
				return err
			} else if ok {
				names = append(names, v.Name)
			}
			if v, ok, err := d.legacyVolume(ctx, user, acct); err != nil {
				return err
			} else if ok {
				names = append(names, v.Name)
			}
		}
		if found && len(names) > 0 {
			return fmt.Errorf("their server container %s still exists (%s): delete the server first; deleting the files then removes volume %s with everything in %s, for good: %w",
				ContainerName(user), info.State.Status, names[0], WorkDir, ErrInUse)
		}
		for _, name := range names {
			v, err := d.cli.VolumeInspect(ctx, name)
			if cerrdefs.IsNotFound(err) {
				continue
			}
			if err != nil {
				return engine.Explain(err)
			}
			if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelUser] != user && v.Labels[engine.LabelAccount] == "" {
				return fmt.Errorf("volume %s was not created by classhub for %s, so classhub leaves it alone: %w", name, user, ErrNotManaged)
			}
			if err := d.removeVolume(ctx, name); err != nil {
				return err
			}
			d.notice(user, fmt.Sprintf("Deleted %s's files (volume %s).", user, name))
		}
		return nil
	})
}

// withUser runs fn on the user's container, inspected, holding the user's
// lock; with interrupt, a start in progress gives the lock up at once. op
// ("stop alice") prefixes the error, once.
func (d *Docker) withUser(ctx context.Context, user, op string, interrupt bool, fn func(info container.InspectResponse, found bool) error) error {
	ul := d.users.get(user)
	if interrupt {
		ul.interrupt()
	}
	if err := ul.lock(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer ul.unlock()
	info, found, err := d.inspectOwned(ctx, user)
	if err == nil {
		err = fn(info, found)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
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
