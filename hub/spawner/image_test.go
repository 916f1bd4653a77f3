package spawner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	classhubimage "github.com/classhub/classhub/hub/image"
)

// switchingEngine is an engine in which the image is changed (SetImage)
// while each start checks it, as an instructor choosing another image
// while a class starts would. It records what each start creates and
// creates nothing.
type switchingEngine struct {
	client.APIClient
	d      *Docker
	images []string

	mu      sync.Mutex
	checks  int
	created []createdSpec
}

type createdSpec struct {
	cfg  *container.Config
	host *container.HostConfig
}

var errCreated = errors.New("recorded, not created")

func imageID(ref string) string { return "sha256:id-of-" + ref }

func (s *switchingEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	s.mu.Lock()
	s.checks++
	next := s.images[s.checks%len(s.images)]
	s.mu.Unlock()
	s.d.SetImage(next)
	// Labelled as classhub's own images are, so a start neither probes
	// what runs in it nor gives its volume to its user: every container
	// created is a server's.
	return image.InspectResponse{ID: imageID(ref), Config: &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
		Labels: map[string]string{engine.LabelJupyterHub: "5.2.1", classhubimage.LabelProfile: "scipy"}}}}, nil
}

func (s *switchingEngine) VolumeInspect(_ context.Context, name string) (volume.Volume, error) {
	return volume.Volume{}, fmt.Errorf("no such volume %s: %w", name, cerrdefs.ErrNotFound)
}

// VolumeList finds no folder kept for new students' first start.
func (s *switchingEngine) VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error) {
	return volume.ListResponse{}, nil
}

func (s *switchingEngine) VolumeCreate(_ context.Context, opts volume.CreateOptions) (volume.Volume, error) {
	return volume.Volume{Name: opts.Name, Labels: opts.Labels}, nil
}

func (s *switchingEngine) ContainerInspect(_ context.Context, name string) (container.InspectResponse, error) {
	return container.InspectResponse{}, fmt.Errorf("no such container %s: %w", name, cerrdefs.ErrNotFound)
}

func (s *switchingEngine) ContainerCreate(_ context.Context, cfg *container.Config, host *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, _ string) (container.CreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, createdSpec{cfg, host})
	return container.CreateResponse{}, errCreated
}

// TestSetImageWhileServersStart: each start makes its container from the
// image it checked, never from one chosen meanwhile, so the fingerprint
// (which holds the checked image's ID) describes the container; and
// SetImage is safe while starts read the settings (go test -race).
func TestSetImageWhileServersStart(t *testing.T) {
	cfg := config.Default()
	cfg.Image = "classhub/notebook:classic"
	eng := &switchingEngine{images: []string{"classhub/notebook:classic", "classhub/notebook:latest", "course:2"}}
	d := New(eng, Options{Config: cfg})
	eng.d = d
	d.net = &Network{Name: cfg.Network, HubHost: "192.0.2.1", BindAddr: "192.0.2.1", ContainerIPsRoutable: true}

	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			_, err := d.Start(context.Background(), StartRequest{User: fmt.Sprintf("student%d", i), APIToken: "tok", HubPort: 8081})
			if !errors.Is(err, errCreated) {
				t.Errorf("start: %v", err)
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			d.SetImage("classhub/notebook:latest")
			_ = d.config().Image
		}
	})
	wg.Wait()

	if len(eng.created) != 12 {
		t.Fatalf("%d containers created, want 12", len(eng.created))
	}
	for _, c := range eng.created {
		if want := fingerprint(c.cfg, c.host, imageID(c.cfg.Image)); c.cfg.Labels[engine.LabelFingerprint] != want {
			t.Errorf("%s's container runs %s but its fingerprint is another image's", c.cfg.Labels[engine.LabelUser], c.cfg.Image)
		}
		if env, _ := envValue(c.cfg.Env, "JUPYTER_IMAGE_SPEC"); env != c.cfg.Image {
			t.Errorf("%s's container runs %s but tells its server it runs %s", c.cfg.Labels[engine.LabelUser], c.cfg.Image, env)
		}
	}
}

// TestSetImageIsWhatTheNextStartRuns: after SetImage the next start
// checks and runs the new image.
func TestSetImageIsWhatTheNextStartRuns(t *testing.T) {
	eng := &switchingEngine{images: []string{"course:2"}}
	d := New(eng, Options{Config: config.Default()})
	eng.d = d
	d.net = &Network{Name: "classhub", HubHost: "192.0.2.1", BindAddr: "192.0.2.1", ContainerIPsRoutable: true}
	d.SetImage("course:2")
	if _, err := d.Start(context.Background(), StartRequest{User: "amy", APIToken: "tok", HubPort: 8081}); !errors.Is(err, errCreated) {
		t.Fatal(err)
	}
	if got := eng.created[0].cfg.Image; got != "course:2" {
		t.Errorf("the start after SetImage runs %s", got)
	}
}
