package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/classhub/classhub/hub/store"
)

// manyLimit bounds the starts and stops StartMany and StopMany run at
// once. A stop waits for its notebook server to shut down, and a class of
// thirty one after another would take half a minute; the spawner queues
// starts beyond its own limit anyway.
const manyLimit = 8

// StartMany asks for the server of each of names to start, and waits for
// their answers until ctx ends: a start still under way then is no
// failure, and goes on in the background as any start does. An Outcome's
// Err says why a start failed, a spawn that failed while it was waited
// for included; a server already running, or a start a stop cancelled
// meanwhile, did not fail.
func (h *Lifecycle) StartMany(ctx context.Context, names []string) []Outcome {
	return Each(ctx, names, manyLimit, func(ctx context.Context, name string) error {
		type result struct {
			s   ServerStatus
			err error
		}
		answer := make(chan result, 1)
		h.goBackground(func(hctx context.Context) {
			s, err := h.Start(hctx, name)
			answer <- result{s, err}
		})
		select {
		case r := <-answer:
			return startFailure(r.s, r.err)
		case <-ctx.Done():
			return nil
		}
	})
}

// startFailure is why a start failed, or nil if it is running or on its
// way. Start reports a spawn that failed within its wait in the status,
// not as an error.
func startFailure(s ServerStatus, err error) error {
	switch {
	case errors.Is(err, ErrAlreadyRunning), errors.Is(err, ErrCancelled):
		return nil // running, or stopped on purpose meanwhile
	case err != nil:
		return err
	case !s.Ready && s.Pending == "" && s.Failed != "":
		return fmt.Errorf("start %s: %s", s.User, s.Failed)
	}
	return nil
}

// StopMany stops the server of each of names, a few at a time, keeping
// their containers, and cancels their starts still pending. A stop
// already under way is what was asked for, not a failure.
func (h *Lifecycle) StopMany(ctx context.Context, names []string) []Outcome {
	return Each(ctx, names, manyLimit, func(ctx context.Context, name string) error {
		if err := h.Stop(ctx, name, false); !errors.Is(err, ErrPending) {
			return err
		}
		return nil
	})
}

// StartAll starts every user's server that is not running, queueing them
// through the spawner's pool, and returns how many were asked to start.
// It does not wait for them: each start reports on the bus how it went.
func (h *Lifecycle) StartAll(ctx context.Context) (int, error) {
	names, err := h.usersWhose(ctx, func(s ServerStatus) bool { return !s.Active() })
	if err != nil {
		return 0, err
	}
	// A context that has ended asks for every start and waits for none.
	asked, cancel := context.WithCancel(ctx)
	cancel()
	h.StartMany(asked, names)
	return len(names), nil
}

// StopAll stops every running server, keeping their containers, and
// cancels every start still pending (a class burst queued behind the
// spawner's pool), returning how many it stopped or cancelled.
func (h *Lifecycle) StopAll(ctx context.Context) (int, error) {
	names, err := h.usersWhose(ctx, func(s ServerStatus) bool { return s.Ready || s.Pending == PendingSpawn })
	if err != nil {
		return 0, err
	}
	outcomes := h.StopMany(ctx, names)
	return len(outcomes) - Failed(outcomes), Errors(outcomes)
}

// usersWhose lists the users whose server status satisfies ok.
func (h *Lifecycle) usersWhose(ctx context.Context, ok func(ServerStatus) bool) ([]string, error) {
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, u := range users {
		if ok(h.status(ctx, u.Name)) {
			names = append(names, u.Name)
		}
	}
	return names, nil
}
