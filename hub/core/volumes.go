package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// A student's files live in a volume tied to their account, not to their
// name: deleting a student keeps the volume, and a new student of the
// same name starts with nothing of it. Kept volumes are listed, restored
// to an account an instructor names, or deleted, each on purpose.

// ErrConfirm is matched by a wipe refused because the student's name was
// not typed again.
var ErrConfirm = errors.New("not confirmed")

// ErrNotKept is matched when a volume named for restore or delete belongs
// to an account that exists: its files are that account's to keep.
var ErrNotKept = errors.New("not a kept volume")

// AccountOf is the account u's files belong to. Its key is the store's id
// and the account's creation time: SQLite gives the id of the newest user,
// once deleted, to the next one, but never with the same creation time.
func AccountOf(u store.User) spawner.Account {
	return spawner.Account{Key: strconv.FormatInt(u.ID, 10) + "-" + strconv.FormatInt(u.Created.UnixMicro(), 36), Created: u.Created}
}

// ConfirmWipe checks that typed is name, the student's name typed again,
// before their files are deleted for good.
func ConfirmWipe(name, typed string) error {
	if typed == name {
		return nil
	}
	return fmt.Errorf("deleting %s's files removes everything in their work folder for good: type their name, %s, again to confirm: %w", name, name, ErrConfirm)
}

// ResetServer deletes name's server container without a running hub, as
// the CLI does, so their next start makes a new one; with wipe (and
// confirm, their name typed again) their files go too. Without wipe the
// files are kept.
func ResetServer(ctx context.Context, st *store.Store, sp spawner.Spawner, name string, wipe bool, confirm string) error {
	u, err := getUser(ctx, st, name)
	if err != nil {
		return err
	}
	if wipe {
		if err := ConfirmWipe(name, confirm); err != nil {
			return err
		}
	}
	if err := sp.Delete(ctx, name); err != nil {
		return fmt.Errorf("reset %s's server: %w", name, err)
	}
	if wipe {
		return sp.DeleteData(ctx, name, AccountOf(u))
	}
	return nil
}

// ResetServer stops and deletes name's server container, so their next
// start makes a new one from the current settings; with wipe (and
// confirm, their name typed again) their files are deleted too. Without
// wipe their files are kept.
func (h *Lifecycle) ResetServer(ctx context.Context, name string, wipe bool, confirm string) error {
	u, err := h.user(ctx, name)
	if err != nil {
		return err
	}
	if wipe {
		if err := ConfirmWipe(name, confirm); err != nil {
			return err
		}
	}
	if err := h.Stop(ctx, name, true); err != nil && !errors.Is(err, spawner.ErrNotRunning) {
		return fmt.Errorf("reset %s's server: %w", name, err)
	}
	if wipe {
		if err := h.spawner.DeleteData(ctx, name, AccountOf(u)); err != nil {
			return err
		}
	}
	return nil
}

// WipeFiles deletes name's files for good when confirm is their name typed
// again; their server container must be gone (spawner.ErrInUse).
func (h *Lifecycle) WipeFiles(ctx context.Context, name, confirm string) error {
	u, err := h.user(ctx, name)
	if err != nil {
		return err
	}
	if err := ConfirmWipe(name, confirm); err != nil {
		return err
	}
	return h.spawner.DeleteData(ctx, name, AccountOf(u))
}

// KeptVolumes lists the work volumes of deleted accounts: those whose
// account key no account has, and those an older classhub named by a user
// who no longer exists or exists as a newer account.
func KeptVolumes(ctx context.Context, st *store.Store, sp spawner.Spawner) ([]spawner.Volume, error) {
	users, _, err := st.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	vs, err := sp.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	byName := map[string]store.User{}
	for _, u := range users {
		keys[AccountOf(u).Key] = true
		byName[u.Name] = u
	}
	var kept []spawner.Volume
	for _, v := range vs {
		if !ownedByLive(v, keys, byName) {
			kept = append(kept, v)
		}
	}
	return kept, nil
}

// ownedByLive reports whether v belongs to an account that exists. A
// volume without a key belongs to the user it names when that account is
// not younger than the volume (see spawner.Account.Created).
func ownedByLive(v spawner.Volume, keys map[string]bool, byName map[string]store.User) bool {
	if v.Account != "" {
		return keys[v.Account]
	}
	u, ok := byName[v.User]
	return ok && !v.Created.Before(u.Created.Truncate(1e9))
}

// keptVolume returns the kept volume called name, or an error saying why
// it may not be touched.
func keptVolume(ctx context.Context, st *store.Store, sp spawner.Spawner, name string) (spawner.Volume, error) {
	name = strings.TrimSpace(name)
	kept, err := KeptVolumes(ctx, st, sp)
	if err != nil {
		return spawner.Volume{}, err
	}
	for _, v := range kept {
		if v.Name == name {
			return v, nil
		}
	}
	all, err := sp.Volumes(ctx)
	if err != nil {
		return spawner.Volume{}, err
	}
	for _, v := range all {
		if v.Name == name {
			return spawner.Volume{}, fmt.Errorf("volume %s holds the files of %s, who exists: reset their server with --wipe to delete them: %w", name, v.User, ErrNotKept)
		}
	}
	return spawner.Volume{}, fmt.Errorf("there is no kept volume %s: `classhub volumes list` shows them: %w", name, ErrNotKept)
}

// RestoreVolume gives the files of the kept volume to the account name,
// which must have none of its own and no server container: an instructor's
// explicit choice, such as a student deleted by mistake and added again.
func RestoreVolume(ctx context.Context, st *store.Store, sp spawner.Spawner, volume, name string) error {
	u, err := getUser(ctx, st, name)
	if err != nil {
		return err
	}
	v, err := keptVolume(ctx, st, sp, volume)
	if err != nil {
		return err
	}
	return sp.RestoreVolume(ctx, v.Name, u.Name, AccountOf(u))
}

// DeleteVolume deletes a kept volume for good; confirm must be the name of
// the student it was made for, typed again.
func DeleteVolume(ctx context.Context, st *store.Store, sp spawner.Spawner, volume, confirm string) error {
	v, err := keptVolume(ctx, st, sp, volume)
	if err != nil {
		return err
	}
	if err := ConfirmWipe(v.User, confirm); err != nil {
		return err
	}
	return sp.DeleteVolume(ctx, v.Name)
}

// KeptVolumes is the package's KeptVolumes on the hub's store and spawner.
func (h *Lifecycle) KeptVolumes(ctx context.Context) ([]spawner.Volume, error) {
	return KeptVolumes(ctx, h.store, h.spawner)
}

// RestoreVolume is the package's RestoreVolume on the hub's store and
// spawner; the account's server must not run.
func (h *Lifecycle) RestoreVolume(ctx context.Context, volume, name string) error {
	return RestoreVolume(ctx, h.store, h.spawner, volume, name)
}

// DeleteVolume is the package's DeleteVolume on the hub's store and
// spawner.
func (h *Lifecycle) DeleteVolume(ctx context.Context, volume, confirm string) error {
	return DeleteVolume(ctx, h.store, h.spawner, volume, confirm)
}
