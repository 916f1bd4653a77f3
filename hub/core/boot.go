package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Boot restores the servers that were running before the hub (re)started,
// routes them again, and starts the hub's background work: watching
// containers, pre-pulling the image and culling idle servers. Servers outlive the hub on purpose: a crashed or updated
// hub must not cost a class its running kernels.
func (h *Lifecycle) Boot(ctx context.Context) error {
	adopted, err := h.spawner.Adopt(ctx)
	if err != nil {
		return fmt.Errorf("find the servers already running: %w", err)
	}
	running := make(map[string]spawner.Server)
	for _, sv := range adopted {
		if sv.State == spawner.StateRunning && sv.Target != "" {
			running[sv.User] = sv
		}
	}
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	for _, u := range users {
		old, err := h.store.GetServer(ctx, u.Name, "")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read %s's server: %w", u.Name, err)
		}
		sv, ok := running[u.Name]
		target, perr := url.Parse(sv.Target)
		if !ok || perr != nil {
			if !old.Started.IsZero() || old.Ready || old.Pending != "" {
				h.noteFailure(u.Name, h.recordStopped(ctx, u.Name))
			}
			continue
		}
		h.route(u.Name, target, sv)
		started := old.Started
		if started.IsZero() {
			started = sv.StartedAt
		}
		h.mu.Lock()
		st := h.state(u.Name)
		st.ready, st.target, st.started = true, sv.Target, started
		h.mu.Unlock()
		old.User, old.Started, old.URL, old.Ready, old.Pending = u.Name, started, sv.Target, true, ""
		if _, err := h.store.PutServer(ctx, old); err != nil {
			h.noteFailure(u.Name, fmt.Errorf("could not record %s's adopted server: %w", u.Name, err))
		}
		h.bus.Publish(events.Event{Kind: events.ServerState, User: u.Name, State: string(spawner.StateRunning),
			Message: "Server adopted after the hub started"})
	}
	h.goBackground(func(ctx context.Context) {
		h.spawner.Watch(ctx, func(e events.Event) { h.outside(ctx, e) })
	})
	h.goBackground(func(ctx context.Context) {
		if err := h.spawner.Prepull(ctx); err != nil && ctx.Err() == nil {
			h.bus.Publish(events.Event{Kind: events.Notice, Failed: true, Message: err.Error()})
		}
	})
	h.goBackground(h.cullLoop)
	return nil
}

// outside handles what the spawner's Watch reports before passing it on,
// so whoever hears it sees the hub already in step: a server that stopped
// behind the hub's back loses its route.
func (h *Lifecycle) outside(ctx context.Context, e events.Event) {
	// Containers of users this hub does not know (another hub's, on a
	// shared engine) are not news here.
	if e.User != "" {
		if _, err := h.store.GetUser(ctx, e.User); err != nil {
			return
		}
	}
	defer h.bus.Publish(e)
	if e.Kind != events.ServerState {
		return
	}
	h.mu.Lock()
	st := h.state(e.User)
	pending, ready := st.pending, st.ready
	h.mu.Unlock()
	if pending != "" || !ready {
		return
	}
	switch spawner.State(e.State) {
	case spawner.StateStopped, spawner.StateMissing, spawner.StateBroken, spawner.StateFailed:
	default:
		return
	}
	// Events arrive late; trust the engine's present state over them.
	if cur, err := h.spawner.Status(ctx, e.User); err == nil && cur.State == spawner.StateRunning {
		return
	}
	h.router.RemoveRoute(e.User)
	h.mu.Lock()
	if st.pending == "" {
		st.ready, st.target, st.started = false, "", time.Time{}
	}
	h.mu.Unlock()
	h.noteFailure(e.User, h.recordStopped(ctx, e.User))
}
