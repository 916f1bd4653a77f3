package spawner

import (
	"context"
	"fmt"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image"
)

// Machine is the memory, in bytes, and the CPUs the engine gives
// containers: the host's on Linux, the engine's virtual machine's on
// macOS and Windows.
func (d *Docker) Machine(ctx context.Context) (memory uint64, cpus int, err error) {
	info, err := d.cli.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("engine info: %w", engine.Explain(err))
	}
	return uint64(max(info.MemTotal, 0)), info.NCPU, nil
}

// ImageFacts are the ID of the image ref names and the profile classhub
// built it with, "" for an image it did not build.
func (d *Docker) ImageFacts(ctx context.Context, ref string) (id, profile string, err error) {
	info, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", "", fmt.Errorf("inspect the image %s: %w", ref, engine.Explain(err))
	}
	if info.Config != nil {
		profile = info.Config.Labels[image.LabelProfile]
	}
	return info.ID, profile, nil
}
