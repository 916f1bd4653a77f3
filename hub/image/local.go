package image

import (
	"context"
	"fmt"
	"slices"
	"strings"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// Local is a notebook image in the engine, as the Settings window lists it.
type Local struct {
	// Ref is one of the image's tags, e.g. classhub/notebook:scipy: an
	// image with several is listed once under each, since a setting names
	// it by one.
	Ref string
	// ID is the image's ID, which its tags share.
	ID string
	// Size is what the image takes in the engine, in bytes.
	Size int64
	// Profile is the profile classhub built it with; "" for an image
	// classhub did not build.
	Profile string
}

// Lister is the part of the Docker client List needs.
type Lister interface {
	ImageList(ctx context.Context, options dockerimage.ListOptions) ([]dockerimage.Summary, error)
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (dockerimage.InspectResponse, error)
}

// List returns the tagged images in the engine that carry a notebook
// server, sorted by reference: those classhub built, and those whose
// command starts Jupyter (the Jupyter Docker Stacks' start-notebook and
// start-singleuser scripts, jupyterhub-singleuser, jupyter lab).
func List(ctx context.Context, docker Lister) ([]Local, error) {
	sums, err := docker.ImageList(ctx, dockerimage.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the engine's images: %w", engine.Explain(err))
	}
	var out []Local
	for _, s := range sums {
		tags := slices.DeleteFunc(slices.Clone(s.RepoTags), func(t string) bool { return t == "<none>:<none>" })
		if len(tags) == 0 {
			continue
		}
		if s.Labels[engine.LabelRole] != "notebook-image" {
			info, err := docker.ImageInspect(ctx, s.ID)
			if err != nil || info.Config == nil || !startsJupyter(append(info.Config.Entrypoint, info.Config.Cmd...)) {
				continue
			}
		}
		for _, tag := range tags {
			out = append(out, Local{Ref: tag, ID: s.ID, Size: s.Size, Profile: s.Labels[LabelProfile]})
		}
	}
	slices.SortFunc(out, func(a, b Local) int { return strings.Compare(a.Ref, b.Ref) })
	return out, nil
}

// startsJupyter reports whether an image's entrypoint and command start a
// Jupyter server.
func startsJupyter(argv []string) bool {
	for _, a := range argv {
		for _, s := range []string{"jupyter", "start-notebook", "start-singleuser"} {
			if strings.Contains(a, s) {
				return true
			}
		}
	}
	return false
}
