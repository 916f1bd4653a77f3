package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Accounts are the hub's users and their credentials, opened from the
// data dir without opening the hub: what `classhub users` and `classhub
// token` change, with the hub running or not. SQLite in WAL mode lets a
// running hub and this share the state.
type Accounts struct {
	store *store.Store
}

// OpenAccounts opens the accounts in dataDir, making the folder on first
// use. Close them when done.
func OpenAccounts(dataDir string) (*Accounts, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	st, err := store.Open(filepath.Join(dataDir, StateFile))
	if err != nil {
		return nil, err
	}
	return &Accounts{store: st}, nil
}

// Close closes the state.
func (a *Accounts) Close() error { return a.store.Close() }

// User is name's account; its error wraps ErrNoSuchUser when there is
// none.
func (a *Accounts) User(ctx context.Context, name string) (User, error) {
	u, err := a.store.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("%w: %s", ErrNoSuchUser, name)
	}
	return u, err
}

// List lists every user by name, with their server as the state last
// recorded it: pending, ready or neither.
func (a *Accounts) List(ctx context.Context) ([]UserStatus, error) {
	users, _, err := a.store.ListUsers(ctx, store.ListOptions{Sort: "name"})
	if err != nil {
		return nil, err
	}
	out := make([]UserStatus, len(users))
	for i, u := range users {
		out[i] = UserStatus{User: u, Server: ServerStatus{User: u.Name}}
		if sv, err := a.store.GetServer(ctx, u.Name, ""); err == nil {
			out[i].Server.Pending, out[i].Server.Ready = sv.Pending, sv.Ready
		}
	}
	return out, nil
}

// Add creates the users of names that do not exist, each with the
// credential to hand them, shown once; bad names fail the whole call
// before anything is created.
func (a *Accounts) Add(ctx context.Context, names []string, admin bool) ([]Account, error) {
	return core.AddUsers(ctx, a.store, names, admin)
}

// Import creates the users of a roster read by ParseRoster.
func (a *Accounts) Import(ctx context.Context, entries []RosterEntry, generate bool) ([]Imported, error) {
	return roster.Import(ctx, a.store, entries, generate)
}

// Reset takes every way in name had and gives them a new credential to
// hand out. A running server keeps running.
func (a *Accounts) Reset(ctx context.Context, name string) (Account, error) {
	return core.ResetUser(ctx, a.store, name)
}

// SetPassword sets name's password and logs them out everywhere.
func (a *Accounts) SetPassword(ctx context.Context, name, password string) error {
	return core.SetPassword(ctx, a.store, name, password)
}

// NewToken makes an API token for name with all their rights, noting what
// it is for, and returns its secret.
func (a *Accounts) NewToken(ctx context.Context, name, note string) (string, error) {
	secret, _, err := a.store.CreateToken(ctx, store.TokenSpec{User: name, Kind: "api", Scopes: []string{scopes.Inherit}, Note: note})
	return secret, err
}

// Delete deletes name's account, and their container too when Docker
// answers: their work volume stays either way. When Docker does not
// answer, the account is deleted all the same and noDocker says why the
// container, if any, is left in place.
func (a *Accounts) Delete(ctx context.Context, name string, cfg config.Config) (noDocker, err error) {
	docker, noDocker := engine.Connect(ctx)
	if noDocker != nil {
		return noDocker, core.DeleteUser(ctx, a.store, nil, name)
	}
	defer docker.Close()
	return nil, core.DeleteUser(ctx, a.store, spawner.New(docker, spawner.Options{Config: cfg}), name)
}
