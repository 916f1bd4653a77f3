package hub

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// What the front ends ask of this machine beside the hub: whether it can
// run classhub, and the notebook image built from Debian packages.

type (
	// DoctorReport is what Doctor found, one Check a line.
	DoctorReport = doctor.Report
	// DoctorCheck is one line of a DoctorReport.
	DoctorCheck = doctor.Check
	// ImageOptions configure BuildImage.
	ImageOptions = image.Options
	// ImageProgress is one step of an image build, for people watching.
	ImageProgress = image.Progress
	// AptSource is one Debian archive entry an image is built from.
	AptSource = image.AptSource
	// ImageProfile is one kind of notebook image BuildImage makes.
	ImageProfile = image.Profile
	// LocalImage is a notebook image in the engine.
	LocalImage = image.Local
)

// DefaultImageProfile is the profile built when none is named.
const DefaultImageProfile = image.DefaultProfile

// HubImage is the default tag of the hub's own image (classhub image build-hub).
const HubImage = image.HubImage

// HubServiceName is the name of the service `classhub swarm deploy` runs
// the hub as.
const HubServiceName = spawner.HubServiceName

// DefaultSeats is how many servers a hub service runs at once when its
// deploy asks for no number (see spawner.Seat).
const DefaultSeats = spawner.DefaultSeats

// ImageBuildCommand is the command that builds the image ref from Debian
// packages, with the profile and tag it names.
func ImageBuildCommand(ref string) string { return image.BuildCommand(ref) }

// ImageProfiles are the notebook images BuildImage can make.
func ImageProfiles() []ImageProfile { return image.Profiles }

// LookupImageProfile returns the profile called name, or an error that
// names the choices.
func LookupImageProfile(name string) (ImageProfile, error) { return image.LookupProfile(name) }

// Doctor checks that this machine can run a hub with cfg and says what to
// fix: the CLI prints the report and the dashboard shows it.
func Doctor(ctx context.Context, cfg config.Config) DoctorReport { return doctor.Run(ctx, cfg) }

// BuildImage builds the notebook image from Debian packages into the
// local Docker engine, with no registry, and returns its ID.
func BuildImage(ctx context.Context, opts ImageOptions) (string, error) {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer docker.Close()
	return image.Build(ctx, docker, opts)
}

// BuildHubImage makes the hub's own image from the classhub binary exe
// (see image.BuildHub) and returns its ID.
func BuildHubImage(ctx context.Context, exe, tag, version string) (string, error) {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer docker.Close()
	return image.BuildHub(ctx, docker, exe, tag, version)
}

// DeployHub runs the hub as a Swarm service from the image ref (see
// spawner.DeployHub) with at least seats seats (0: those it has, or
// spawner.DefaultSeats), with dataDir, this machine's, as its data dir,
// and returns the service's ID and how many seats it has.
func DeployHub(ctx context.Context, cfg config.Config, dataDir, ref string, seats int) (string, int, error) {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return "", 0, err
	}
	defer docker.Close()
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", 0, err
	}
	id, have, err := spawner.New(docker, spawner.Options{Config: cfg}).DeployHub(ctx, spawner.HubService{Image: ref, DataDir: abs, DataMount: image.HubDataDir, Seats: seats})
	return id, len(have), err
}

// LocalImages lists the engine's images that carry a notebook server, for
// choosing one in the Settings window.
func LocalImages(ctx context.Context) ([]LocalImage, error) {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer docker.Close()
	return image.List(ctx, docker)
}

// MirrorSources are the Debian archive entries of release (a profile's
// Suite) on a mirror given by URL, for ImageOptions.Sources on machines
// whose own apt sources are not Debian.
func MirrorSources(uri, release string) []AptSource { return image.MirrorSources(uri, release) }

// MachineCapacity says how many students' servers this laptop holds with
// cfg, with the hub running or not, as `classhub doctor` says it: from the
// engine's memory, the running servers' use, the idle cost recorded in
// dataDir's state, memory_limit, and an allowance for the hub.
func MachineCapacity(ctx context.Context, cfg config.Config, dataDir string) (Capacity, error) {
	docker, err := engine.Connect(ctx)
	if err != nil {
		return Capacity{}, err
	}
	defer docker.Close()
	sp := spawner.New(docker, spawner.Options{Config: cfg})
	memory, cpus, err := sp.Machine(ctx)
	if err != nil {
		return Capacity{}, err
	}
	servers, err := sp.List(ctx)
	if err != nil {
		return Capacity{}, err
	}
	var running []string
	for _, s := range servers {
		if s.State == spawner.StateRunning {
			running = append(running, s.User)
		}
	}
	id, profile, err := sp.ImageFacts(ctx, cfg.Image)
	if err != nil {
		id, profile = "", ""
	}
	var mu sync.Mutex
	var class []spawner.Stats
	Each(ctx, running, 4, func(ctx context.Context, user string) error {
		s, err := sp.Stats(ctx, user)
		if err == nil && id != "" && s.ImageID == id {
			mu.Lock()
			class = append(class, s)
			mu.Unlock()
		}
		return err
	})
	var recorded *store.ImageCost
	if path := filepath.Join(dataDir, StateFile); id != "" {
		// Only read what a hub recorded: doctor makes no state of its own.
		if _, err := os.Stat(path); err == nil {
			st, err := store.Open(path)
			if err != nil {
				return Capacity{}, err
			}
			defer st.Close()
			if c, err := st.ImageCost(ctx, id); err == nil {
				recorded = &c
			}
		}
	}
	m := core.Machine{Memory: memory, CPUs: cpus, Hub: core.HubAllowance}
	return core.PlanFor(ctx, cfg, sp, m, core.EstimateCost(class, recorded, profile), len(running))
}
