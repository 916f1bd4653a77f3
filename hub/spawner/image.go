package spawner

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image"
)

// SetImage makes the starts from now on run ref. A start under way keeps
// the image it began with; a server made from another image is recreated at
// its next start (its fingerprint holds the image's ID), keeping its
// volume.
func (d *Docker) SetImage(ref string) {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	d.cfg.Image = ref
}

// HasImage reports whether the engine holds ref.
func (d *Docker) HasImage(ctx context.Context, ref string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	}
	return false, engine.Explain(fmt.Errorf("inspect image %s: %w", ref, err))
}

// LocalImages lists the engine's images that carry a notebook server.
func (d *Docker) LocalImages(ctx context.Context) ([]image.Local, error) {
	return image.List(ctx, d.cli)
}
