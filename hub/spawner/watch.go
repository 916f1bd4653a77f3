package spawner

import (
	"context"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	dockerevents "github.com/docker/docker/api/types/events"
)

// Watch reports through report, until ctx ends, server containers that
// stop, die, run out of memory or vanish behind the hub's back: a
// ServerState event with the new state, and a Notice saying what happened.
// It follows the engine's event stream (filtered by classhub's labels) and
// also lists containers every PollInterval, so nothing is missed while the
// stream is broken; a lost or regained engine is reported too. Changes the
// hub makes itself are not reported again. A nil report publishes on the
// bus. It returns ctx's error.
func (d *Docker) Watch(ctx context.Context, report func(events.Event)) error {
	rep := report
	if rep == nil {
		rep = d.publish
	}
	ticker := time.NewTicker(d.poll)
	defer ticker.Stop()
	backoff := time.Second
	lost := false
	f := serverFilter()
	f.Add("type", string(dockerevents.ContainerEventType))
	for {
		sctx, cancel := context.WithCancel(ctx)
		msgs, errs := d.cli.Events(sctx, dockerevents.ListOptions{Filters: f})
		// Subscribe first, then look: nothing falls between the two.
		lost = d.resync(ctx, lost, rep)
		streaming := true
		for streaming {
			select {
			case <-ctx.Done():
				cancel()
				return ctx.Err()
			case m := <-msgs:
				backoff = time.Second
				d.onEvent(ctx, m, rep)
			case <-errs:
				streaming = false
			case <-ticker.C:
				lost = d.resync(ctx, lost, rep)
			}
		}
		cancel()
		// The stream broke: poll until it can be opened again.
		retry := time.NewTimer(backoff)
	wait:
		for {
			select {
			case <-ctx.Done():
				retry.Stop()
				return ctx.Err()
			case <-ticker.C:
				lost = d.resync(ctx, lost, rep)
			case <-retry.C:
				break wait
			}
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (d *Docker) onEvent(ctx context.Context, m dockerevents.Message, rep report) {
	user := m.Actor.Attributes[engine.LabelUser]
	if user == "" || m.Actor.Attributes[engine.LabelRole] != RoleServer {
		return
	}
	switch m.Action {
	case dockerevents.ActionCreate, dockerevents.ActionStart, dockerevents.ActionDie, dockerevents.ActionStop,
		dockerevents.ActionDestroy, dockerevents.ActionOOM, dockerevents.ActionPause, dockerevents.ActionUnPause:
		d.refresh(ctx, user, rep)
	}
}

// resync lists the servers and refreshes every user whose container
// differs from what the hub knows. It returns whether the engine is lost,
// announcing the change.
func (d *Docker) resync(ctx context.Context, lost bool, rep report) bool {
	cs, err := d.run.list(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return lost
		}
		if !lost {
			rep(events.Event{Kind: events.Notice, Message: fmt.Sprintf("Lost contact with the Docker engine: %v. Servers cannot start or stop until it is back.", engine.Explain(err))})
		}
		return true
	}
	if lost {
		rep(events.Event{Kind: events.Notice, Message: "The Docker engine is back."})
	}
	seen := map[string]observed{}
	for _, c := range cs {
		if c.named {
			seen[c.user] = observed{state: c.state, id: c.id}
		}
	}
	d.knownMu.Lock()
	var stale []string
	for user, k := range d.known {
		if s, ok := seen[user]; !ok && k.state != StateMissing || ok && s != k {
			stale = append(stale, user)
		}
	}
	for user := range seen {
		if _, ok := d.known[user]; !ok {
			stale = append(stale, user)
		}
	}
	d.knownMu.Unlock()
	for _, user := range stale {
		d.refresh(ctx, user, rep)
	}
	return false
}

// refresh compares a user's container with what the hub knows and reports
// the difference. A user with an operation under way is skipped: that
// operation records its own outcome.
func (d *Docker) refresh(ctx context.Context, user string, rep report) {
	ul := d.users.get(user)
	if !ul.tryLock() {
		return
	}
	defer ul.unlock()
	s, err := d.status(ctx, user)
	if err != nil {
		return
	}
	d.knownMu.Lock()
	prev, had := d.known[user]
	now := observed{state: s.State, id: s.ID}
	if had && prev == now {
		d.knownMu.Unlock()
		return
	}
	d.known[user] = now
	d.knownMu.Unlock()

	msg := ""
	if had {
		msg = whatHappened(user, prev.state, s)
	}
	rep(events.Event{Kind: events.ServerState, User: user, State: string(s.State), Message: msg})
	if msg != "" {
		rep(events.Event{Kind: events.Notice, User: user, Message: msg})
	}
}

// whatHappened says, for people, how a server changed outside classhub;
// "" when the change needs no notice.
func whatHappened(user string, was State, s Server) string {
	switch {
	case was == StateRunning && s.State == StateStopped && s.OOMKilled:
		return fmt.Sprintf("%s's server ran out of memory and stopped: raise memory_limit, or ask them to use less.", user)
	case was == StateRunning && s.State == StateStopped:
		return fmt.Sprintf("%s's server stopped outside classhub (exit code %d).", user, s.ExitCode)
	case s.State == StateMissing && (was == StateRunning || was == StateStopped || was == StateBroken):
		return fmt.Sprintf("%s's server container was removed outside classhub; the files in %s are kept.", user, WorkDir)
	case was != StateRunning && s.State == StateRunning:
		return fmt.Sprintf("%s's server was started outside classhub.", user)
	case s.State == StateBroken:
		return fmt.Sprintf("%s's server container is %s; the next start replaces it.", user, s.DockerState)
	}
	return ""
}
