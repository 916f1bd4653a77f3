package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/store"
)

// cullLoop stops servers idle for longer than the idle timeout, checking
// every half timeout (at most every five minutes), as
// jupyterhub-idle-culler does. Stopped servers keep their containers, so
// a student coming back gets their files and a quick start.
func (h *Lifecycle) cullLoop(ctx context.Context) {
	for {
		timeout := time.Duration(h.Config().IdleTimeout)
		every := min(max(timeout/2, 10*time.Second), 5*time.Minute)
		if timeout <= 0 {
			every = time.Minute // culling is off; look again in case settings change
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if timeout > 0 {
			h.CullIdle(ctx, time.Now().Add(-timeout))
		}
	}
}

// ownActivity asks name's server for the activity it reports itself (a
// plain Jupyter server's kernels and terminals, which do not pass the
// proxy while they compute) and records it when it is newer than last,
// so the dashboard shows it too. A server that reports no activity of its
// own (jupyterhub-singleuser reports to the hub) is not asked. It returns
// the newer of the two; a server that cannot say leaves last as it is.
func (h *Lifecycle) ownActivity(ctx context.Context, name string, last time.Time) time.Time {
	t, err := h.spawner.ServerActivity(ctx, name)
	if err != nil || !t.After(last) {
		return last
	}
	// The server is its student's to run: a time to come is now.
	if now := time.Now(); t.After(now) {
		t = now
	}
	if err := h.store.RecordActivity(ctx, name, "", t); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.noteFailure(name, fmt.Errorf("could not record the activity %s's server reported: %w", name, err))
	}
	return t
}

// CullIdle stops every ready server whose last activity (or start, if it
// never reported any) is before cutoff, and returns whom it stopped.
func (h *Lifecycle) CullIdle(ctx context.Context, cutoff time.Time) []string {
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return nil
	}
	var culled []string
	for _, u := range users {
		s := h.status(ctx, u.Name)
		if !s.Ready {
			continue
		}
		last := s.LastActivity
		if last.IsZero() || last.Before(s.Started) {
			last = s.Started
		}
		if last.IsZero() || !last.Before(cutoff) {
			continue
		}
		if own := h.ownActivity(ctx, u.Name, last); !own.Before(cutoff) {
			continue
		} else if own.After(last) {
			last = own
		}
		if err := h.Stop(ctx, u.Name, false); err == nil {
			culled = append(culled, u.Name)
			h.bus.Publish(events.Event{Kind: events.Notice, User: u.Name, Reason: events.ReasonCulled,
				Message: u.Name + "'s server was stopped after being idle since " + last.Format("15:04") + "; their files are kept"})
		}
	}
	return culled
}
