package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/classhub/classhub/hub/events"
)

// readyTries is how many times WaitReady starts a server that stops as
// soon as it started before it gives up.
const readyTries = 3

// WaitReady starts name's server unless it runs or is on its way, and
// waits until it is ready, woken by the hub's events for name: the policy
// of whoever opens a notebook for someone. A server that stops right after
// it started is started again, a few times. It says why when the server
// cannot start, and returns an error wrapping ErrCancelled when a stop
// cancelled the start it asked for, rather than starting it again.
func (h *Lifecycle) WaitReady(ctx context.Context, name string) (ServerStatus, error) {
	sub := h.bus.Subscribe(64, false, events.ForUser(name))
	defer sub.Close()
	starts := 0
	var asked chan struct{} // the done channel of the start asked for
	for {
		s, err := h.Status(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return h.status(context.WithoutCancel(ctx), name), fmt.Errorf("%s's server is not ready yet: %w", name, ctx.Err())
			}
			return s, err
		}
		switch {
		case s.Ready:
			return s, nil
		case starts > 0 && (s.Pending == PendingStop || h.cancelled(name, asked)):
			return s, fmt.Errorf("start %s: %w", name, ErrCancelled)
		case s.Pending != "":
			// A start or stop is under way: wait for it to end.
		case starts > 0 && s.Failed != "":
			return s, errors.New(s.Failed)
		case starts >= readyTries:
			return s, fmt.Errorf("%s's server stopped each time it started; see its logs in the dashboard", name)
		default:
			starts++
			s, err := h.Start(ctx, name)
			h.mu.Lock()
			asked = h.state(name).done
			h.mu.Unlock()
			switch {
			case err == nil, errors.Is(err, ErrAlreadyRunning):
				continue
			case errors.Is(err, ErrPending):
				// Stopping: start again once it stopped.
				starts--
			default:
				return s, err // ErrCancelled among them: Start says so
			}
		}
		select {
		case <-ctx.Done():
			return h.status(context.WithoutCancel(ctx), name), fmt.Errorf("%s's server is not ready yet: %w", name, ctx.Err())
		case _, ok := <-sub.C:
			if !ok {
				return h.status(context.WithoutCancel(ctx), name), errors.New("the hub closed")
			}
		}
	}
}

// cancelled reports whether a stop cancelled the start whose done channel
// is done. Stop marks it before it says it is stopping, so whoever wakes
// on that event finds it marked.
func (h *Lifecycle) cancelled(name string, done chan struct{}) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return done != nil && h.state(name).cancelledDone == done
}
