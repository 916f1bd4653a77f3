package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// MaxNameLen bounds usernames; longer names are usually a pasted line.
const MaxNameLen = 64

// NormalizeName lowercases and trims a username, as JupyterHub's default
// authenticator does, so "Alice " and "alice" are one student.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ValidateName says, in a sentence, what is wrong with a (normalized)
// username, or returns nil. Names may hold lowercase letters, digits and
// . _ - @, and must start with a letter or digit: enough for e-mail
// addresses and student numbers, and safe in URLs, paths and logs.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the username is empty", ErrBadName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %q is longer than %d characters", ErrBadName, name, MaxNameLen)
	case !isAlnum(rune(name[0])):
		return fmt.Errorf("%w: %q must start with a letter or a digit", ErrBadName, name)
	}
	for _, r := range name {
		if !isAlnum(r) && !strings.ContainsRune("._-@", r) {
			return fmt.Errorf("%w: %q may only hold lowercase letters, digits and . _ - @ (not %q)", ErrBadName, name, r)
		}
	}
	return nil
}

func isAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

// AddUsers creates users that do not exist yet and returns the created
// ones with the credential each gets (see CreateUser); existing names are
// skipped, bad names fail the whole call before anything is created.
func (h *Lifecycle) AddUsers(ctx context.Context, names []string, admin bool) ([]Account, error) {
	clean := make([]string, 0, len(names))
	seen := make(map[string]bool)
	for _, n := range names {
		n = NormalizeName(n)
		if err := ValidateName(n); err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			clean = append(clean, n)
		}
	}
	var created []Account
	for _, n := range clean {
		a, err := h.CreateUser(ctx, n, admin, "")
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return created, fmt.Errorf("add user %s: %w", n, err)
		}
		created = append(created, a)
	}
	return created, nil
}

// DeleteUser stops and deletes the user's container, then the user, their
// tokens and sessions. Their work volume is kept: deleting a student by
// mistake must not delete their work (DeleteData does that, explicitly).
func (h *Lifecycle) DeleteUser(ctx context.Context, name string) error {
	if _, err := h.user(ctx, name); err != nil {
		return err
	}
	if err := h.Stop(ctx, name, true); err != nil && !errors.Is(err, spawner.ErrNotRunning) {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	if err := h.store.DeleteUser(ctx, name); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	h.mu.Lock()
	delete(h.servers, name)
	h.mu.Unlock()
	if h.origins != nil {
		h.origins.Close(name)
	}
	h.bus.Publish(events.Event{Kind: events.Notice, User: name, Message: "User " + name + " deleted; their work volume is kept"})
	return nil
}

// UserStatus is a user with their server's status, for lists.
type UserStatus struct {
	store.User
	Server ServerStatus
}

// Users lists users matching opt with their server status, and the total.
func (h *Lifecycle) Users(ctx context.Context, opt store.ListOptions) ([]UserStatus, int, error) {
	users, total, err := h.store.ListUsers(ctx, opt)
	if err != nil {
		return nil, 0, err
	}
	out := make([]UserStatus, len(users))
	for i, u := range users {
		out[i] = UserStatus{User: u, Server: h.status(ctx, u.Name)}
	}
	return out, total, nil
}

// StartAll starts every user's server that is not running, queueing them
// through the spawner's pool, and returns how many were asked to start.
func (h *Lifecycle) StartAll(ctx context.Context) (int, error) {
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range users {
		if s := h.status(ctx, u.Name); s.Active() {
			continue
		}
		name := u.Name
		h.goBackground(func(ctx context.Context) { h.Start(ctx, name) })
		n++
	}
	return n, nil
}

// StopAll stops every running server, keeping their containers, and
// cancels every start still pending (a class burst queued behind the
// spawner's pool), returning how many it stopped or cancelled. Stops run a
// few at a time: each waits for its notebook server to shut down, and a
// class of thirty one after another would take half a minute.
func (h *Lifecycle) StopAll(ctx context.Context) (int, error) {
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		n    int
		errs []error
		sem  = make(chan struct{}, stopAllConcurrency)
	)
	for _, u := range users {
		if s := h.status(ctx, u.Name); !s.Ready && s.Pending != PendingSpawn {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(name string) {
			defer wg.Done()
			defer func() { <-sem }()
			err := h.Stop(ctx, name, false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			n++
		}(u.Name)
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// stopAllConcurrency bounds StopAll's parallel stops.
const stopAllConcurrency = 8
