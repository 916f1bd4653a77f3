package hub

import (
	"context"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
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
	err = withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		rs, err = core.Handout(ctx, a.store, sp.(core.Folders), src, to, progress)
		return err
	})
	return rs, err
}

// Collect copies work/DIR of each student of to (everyone when empty)
// into out/STUDENT/ with a manifest; see core.Collect.
func (a *Accounts) Collect(ctx context.Context, dir, out string, to []string, cfg config.Config, progress Progress) (rs []Collected, err error) {
	err = withSpawner(ctx, cfg, func(sp spawner.Spawner) error {
		rs, err = core.Collect(ctx, a.store, sp.(core.Folders), dir, out, to, progress)
		return err
	})
	return rs, err
}

// CollectManifest is the manifest's name in a collect's OUTDIR.
const CollectManifest = core.ManifestName

// CollectSummary says what a collect of dir into out came to, in one
// sentence; see core.CollectSummary.
func CollectSummary(dir, out string, rs []Collected) string { return core.CollectSummary(dir, out, rs) }

// Handout copies the folder src into work/NAME of each student of to
// (everyone when empty), running servers or not; see core.Handout.
func (h *Hub) Handout(ctx context.Context, src string, to []string, progress Progress) ([]HandoutResult, error) {
	return h.life.Handout(ctx, src, to, progress)
}

// Collect copies work/DIR of each student of to (everyone when empty)
// into out/STUDENT/ with a manifest; see core.Collect.
func (h *Hub) Collect(ctx context.Context, dir, out string, to []string, progress Progress) ([]Collected, error) {
	return h.life.Collect(ctx, dir, out, to, progress)
}
