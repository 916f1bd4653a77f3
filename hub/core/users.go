package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// getUser is st's user name, or ErrNoSuchUser.
func getUser(ctx context.Context, st *store.Store, name string) (store.User, error) {
	u, err := st.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("%w: %s", ErrNoSuchUser, name)
	}
	return u, err
}

// AddUsers creates the users of names that do not exist yet in st and
// returns the created ones with the credential each gets (see
// CreateUser); existing names are skipped, bad names fail the whole call
// before anything is created. It needs no running hub: the CLI calls it
// on the state file.
func AddUsers(ctx context.Context, st *store.Store, names []string, admin bool) ([]Account, error) {
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
		a, err := CreateUser(ctx, st, n, admin, "")
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

// AddUsers is the package's AddUsers on the hub's store.
func (h *Lifecycle) AddUsers(ctx context.Context, names []string, admin bool) ([]Account, error) {
	return AddUsers(ctx, h.store, names, admin)
}

// DeleteUser deletes name from st without a running hub, as the CLI does:
// their container first when sp is given (a CLI that cannot reach the
// engine leaves it), then the user, their tokens and sessions. Their work
// volume is kept, as Lifecycle.DeleteUser keeps it.
func DeleteUser(ctx context.Context, st *store.Store, sp spawner.Spawner, name string) error {
	if _, err := getUser(ctx, st, name); err != nil {
		return err
	}
	if sp != nil {
		if err := sp.Stop(ctx, name); err != nil && !errors.Is(err, spawner.ErrNotRunning) {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
		if err := sp.Delete(ctx, name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
	}
	if err := st.DeleteUser(ctx, name); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return nil
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

// DeleteUserAndFiles is DeleteUser that deletes the user's files too, for
// good; confirm must be their name typed again.
func (h *Lifecycle) DeleteUserAndFiles(ctx context.Context, name, confirm string) error {
	if _, err := h.user(ctx, name); err != nil {
		return err
	}
	if err := ConfirmWipe(name, confirm); err != nil {
		return err
	}
	if err := h.ResetServer(ctx, name, true, confirm); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return h.DeleteUser(ctx, name)
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
