package hub

import (
	"context"
	"fmt"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
)

// HandoutResult is what handing out did for one student.
type HandoutResult = core.HandoutResult

// Collected is what collecting found of one student's folder.
type Collected = core.Collected

// Progress is told after each student how many of total are done.
type Progress = core.Progress

// Handout copies the folder src into work/NAME of each student of to
// (everyone when empty), running servers or not; see core.Handout.
func (a *Accounts) Handout(ctx context.Context, src string, to []string, cfg config.Config, progress Progress) (rs []HandoutResult, err error) {
	err = withEngine(ctx, cfg, func(d *spawner.Docker, free core.FreeSpace) error {
		rs, err = core.Handout(ctx, a.store, d, src, to, free, progress)
		return err
	})
	return rs, err
}

// Collect copies work/DIR of each student of to (everyone when empty)
// into out/STUDENT/ with a manifest; see core.Collect.
func (a *Accounts) Collect(ctx context.Context, dir, out string, to []string, cfg config.Config, progress Progress) (rs []Collected, err error) {
	err = withEngine(ctx, cfg, func(d *spawner.Docker, _ core.FreeSpace) error {
		rs, err = core.Collect(ctx, a.store, d, dir, out, to, progress)
		return err
	})
	return rs, err
}

// withEngine is withSpawner for the folder commands, with the space free
// where the engine keeps its volumes when that is on this machine.
func withEngine(ctx context.Context, cfg config.Config, fn func(*spawner.Docker, core.FreeSpace) error) error {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return fmt.Errorf("students' files live in Docker, which classhub cannot reach: %w", err)
	}
	defer docker.Close()
	free := func() (int64, bool) {
		info, err := docker.Info(ctx)
		if err != nil || info.DockerRootDir == "" {
			return 0, false
		}
		return diskFree(info.DockerRootDir)
	}
	return fn(spawner.New(docker, spawner.Options{Config: cfg}), free)
}

// CollectManifest is the manifest's name in a collect's OUTDIR.
const CollectManifest = core.ManifestName
