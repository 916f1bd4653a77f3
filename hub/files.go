package hub

import (
	"context"
	"fmt"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
)

// Volume is a student's work volume, as `classhub volumes list` shows it.
type Volume = spawner.Volume

// MaterialsDir is where every server sees the materials folder
// (config.Materials), read-only.
const MaterialsDir = spawner.MaterialsDir

// ErrConfirm is matched by a deletion of files refused because the
// student's name was not typed again.
var ErrConfirm = core.ErrConfirm

// withSpawner runs fn with a spawner on this machine's engine, for the
// files commands, which need Docker.
func withSpawner(ctx context.Context, cfg config.Config, fn func(spawner.Spawner) error) error {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return fmt.Errorf("students' files live in Docker, which classhub cannot reach: %w", err)
	}
	defer docker.Close()
	return fn(spawner.New(docker, spawner.Options{Config: cfg}))
}

// ResetServer deletes name's server container so their next start makes a
// new one; with wipe, and confirm their name typed again, their files go
// too, for good.
func (a *Accounts) ResetServer(ctx context.Context, name string, wipe bool, confirm string, cfg config.Config) error {
	if _, err := a.User(ctx, name); err != nil {
		return err
	}
	if wipe {
		if err := core.ConfirmWipe(name, confirm); err != nil {
			return err
		}
	}
	return withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		return core.ResetServer(ctx, a.store, sp, name, wipe, confirm)
	})
}

// DeleteWithFiles deletes name, their server and their files, for good;
// confirm is their name typed again.
func (a *Accounts) DeleteWithFiles(ctx context.Context, name, confirm string, cfg config.Config) error {
	if _, err := a.User(ctx, name); err != nil {
		return err
	}
	if err := core.ConfirmWipe(name, confirm); err != nil {
		return err
	}
	return withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		if err := core.ResetServer(ctx, a.store, sp, name, true, confirm); err != nil {
			return err
		}
		return core.DeleteUser(ctx, a.store, sp, name)
	})
}

// KeptVolumes lists the work volumes of deleted students.
func (a *Accounts) KeptVolumes(ctx context.Context, cfg config.Config) (vs []Volume, err error) {
	err = withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		vs, err = core.KeptVolumes(ctx, a.store, sp)
		return err
	})
	return vs, err
}

// RestoreVolume gives the files of a kept volume to name, who has none.
func (a *Accounts) RestoreVolume(ctx context.Context, volume, name string, cfg config.Config) error {
	return withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		return core.RestoreVolume(ctx, a.store, sp, volume, name)
	})
}

// DeleteVolume deletes a kept volume for good; confirm is the name of the
// student it was made for, typed again.
func (a *Accounts) DeleteVolume(ctx context.Context, volume, confirm string, cfg config.Config) error {
	return withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		return core.DeleteVolume(ctx, a.store, sp, volume, confirm)
	})
}
