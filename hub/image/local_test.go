package image

import (
	"context"
	"reflect"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	ocispec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/classhub/classhub/hub/engine"
)

// fakeImages is an engine holding images, with what ImageInspect needs.
type fakeImages struct {
	sums []dockerimage.Summary
	cmds map[string][]string
}

func (f fakeImages) ImageList(context.Context, dockerimage.ListOptions) ([]dockerimage.Summary, error) {
	return f.sums, nil
}

func (f fakeImages) ImageInspect(_ context.Context, id string, _ ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	cfg := &ocispec.DockerOCIImageConfig{}
	cfg.Cmd = f.cmds[id]
	return dockerimage.InspectResponse{Config: cfg}, nil
}

func TestListFindsTheImagesThatCarryANotebookServer(t *testing.T) {
	ours := map[string]string{engine.LabelRole: "notebook-image", LabelProfile: "scipy"}
	f := fakeImages{
		sums: []dockerimage.Summary{
			{ID: "a", RepoTags: []string{"classhub/notebook:scipy"}, Size: 912, Labels: ours},
			{ID: "b", RepoTags: []string{"quay.io/jupyter/scipy-notebook:2025-01-01", "course:latest"}, Size: 4000},
			{ID: "c", RepoTags: []string{"nginx:latest"}, Size: 190},
			{ID: "d", RepoTags: []string{"<none>:<none>"}, Size: 433, Labels: ours},
			{ID: "e", RepoTags: []string{"plain-lab:4"}, Size: 500},
		},
		cmds: map[string][]string{"b": {"start-notebook.py"}, "c": {"nginx", "-g", "daemon off;"}, "e": {"jupyter", "lab"}},
	}
	got, err := List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Local{
		{Ref: "classhub/notebook:scipy", ID: "a", Size: 912, Profile: "scipy"},
		{Ref: "course:latest", ID: "b", Size: 4000},
		{Ref: "plain-lab:4", ID: "e", Size: 500},
		{Ref: "quay.io/jupyter/scipy-notebook:2025-01-01", ID: "b", Size: 4000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", got, want)
	}
}
