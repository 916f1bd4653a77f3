package spawner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

const pullStream = `{"status":"Pulling from classhub/notebook","id":"latest"}
{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}
{"status":"Downloading","progressDetail":{"current":50,"total":100},"id":"aaa"}
{"status":"Downloading","progressDetail":{"current":100,"total":300},"id":"bbb"}
{"status":"Download complete","progressDetail":{},"id":"aaa"}
{"status":"Pull complete","progressDetail":{},"id":"aaa"}
{"status":"Downloading","progressDetail":{"current":300,"total":300},"id":"bbb"}
{"status":"Pull complete","progressDetail":{},"id":"bbb"}
{"status":"Digest: sha256:abc"}
{"status":"Status: Downloaded newer image for classhub/notebook:latest"}
`

func TestPullTracker(t *testing.T) {
	var got []events.Event
	clock := time.Unix(0, 0)
	tr := newPullTracker("img", func(e events.Event) { got = append(got, e) }, func() time.Time { return clock })
	if err := tr.consume(strings.NewReader(pullStream)); err != nil {
		t.Fatal(err)
	}
	if tr.current() != 400 || tr.total() != 400 {
		t.Errorf("bytes %d of %d, want 400 of 400", tr.current(), tr.total())
	}
	if len(got) == 0 {
		t.Fatal("no progress published")
	}
	last := got[len(got)-1]
	if last.Kind != events.ImageProgress || last.Progress != 100 || last.Message != "Pulling img: 2 of 2 layers done" {
		t.Errorf("last event = %+v", last)
	}
	for _, e := range got {
		if e.Progress > 100 || e.Current > e.Total {
			t.Errorf("impossible progress %+v", e)
		}
	}
	err := newPullTracker("img", func(events.Event) {}, time.Now).consume(strings.NewReader(`{"status":"x"}
{"error":"manifest unknown","errorDetail":{"message":"manifest unknown"}}`))
	if err == nil || err.Error() != "manifest unknown" {
		t.Errorf("error line = %v", err)
	}
}

func TestImageError(t *testing.T) {
	err := error(&imageError{ref: "x:1", why: "it could not be pulled", err: errors.New("no route")})
	if !errors.Is(err, ErrImageUnavailable) {
		t.Error("not ErrImageUnavailable")
	}
	want := "the notebook image x:1 is not in the Docker engine and it could not be pulled (no route): check its name and that its registry is reachable, or choose an image in the engine (`classhub image build` makes classhub's own)"
	if err.Error() != want {
		t.Errorf("message = %q", err.Error())
	}
	ours := error(&imageError{ref: "classhub/notebook:scipy", why: "pull_policy is never"})
	if want := "the notebook image classhub/notebook:scipy is not in the Docker engine and pull_policy is never: build it with `classhub image build --profile scipy --tag classhub/notebook:scipy`"; ours.Error() != want {
		t.Errorf("message = %q", ours.Error())
	}
	never := error(&imageError{ref: "quay.io/jupyter/scipy-notebook:2026-01-05", why: whyNever})
	if want := "the notebook image quay.io/jupyter/scipy-notebook:2026-01-05 is not in the Docker engine and pull_policy is never: " +
		"check its name, pull it (`docker pull quay.io/jupyter/scipy-notebook:2026-01-05`) or set pull_policy to \"if-not-present\", " +
		"or choose an image in the engine (`classhub image build` makes classhub's own)"; never.Error() != want {
		t.Errorf("message = %q", never.Error())
	}
	for _, e := range []error{err, ours, never} {
		if strings.Count(e.Error(), ". ") != 0 {
			t.Errorf("more than one sentence: %q", e.Error())
		}
	}
}

// TestEnsureImagePolicies runs the pull policies against the real engine.
// Pulls go to a registry on loopback that is not there, so they fail at
// once without leaving the machine.
func TestEnsureImagePolicies(t *testing.T) {
	e := newTestEnv(t)
	missing := "127.0.0.1:1/classhub-test-" + e.id + "/missing:1"
	got := collect(t, e.bus, nil)
	for _, policy := range []string{config.PullNever, config.PullIfNotPresent} {
		cfg := e.cfg
		cfg.Image, cfg.PullPolicy = missing, policy
		e.d = e.spawner(cfg)
		err := e.d.Prepull(e.ctx)
		if !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), "classhub image build") {
			t.Errorf("%s: Prepull = %v", policy, err)
		}
		_, err = e.d.Start(e.ctx, e.req(e.user("ivy"), "tok"))
		if !errors.Is(err, ErrImageUnavailable) {
			t.Errorf("%s: Start = %v", policy, err)
		}
	}
	if _, ok := got.find(events.ImageProgress, "failed"); !ok {
		t.Error("no ImageProgress event reported the failed pull")
	}

	// always: the pull fails, the local copy is used, and a notice says so.
	local := "127.0.0.1:1/classhub-test-" + e.id + "/notebook:latest"
	if err := e.cli.ImageTag(e.ctx, testImage, local); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cli.ImageRemove(context.Background(), local, image.RemoveOptions{}) })
	cfg := e.cfg
	cfg.Image, cfg.PullPolicy = local, config.PullAlways
	e.d = e.spawner(cfg)
	id, err := e.d.ensureImage(e.ctx, cfg, nil)
	want, _ := e.cli.ImageInspect(e.ctx, testImage)
	if err != nil || id != want.ID {
		t.Errorf("always with a local copy = %q, %v", id, err)
	}
	if _, ok := got.find(events.Notice, "using the copy already in the engine"); !ok {
		t.Error("no notice about using the local copy")
	}
}

// slowPull is an engine whose registry is slow (there is no registry here
// at all): its pull takes longer than start_timeout, then tags the test
// image and reports layer progress.
type slowPull struct {
	*client.Client
	delay time.Duration
}

func (s slowPull) ImagePull(ctx context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := s.Client.ImageTag(ctx, testImage, ref); err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader(pullStream)), nil
}

// TestPullDoesNotCountAgainstStartTimeout: a pull longer than
// start_timeout still ends in a running server, with progress published,
// and reported to the start waiting for it.
func TestPullDoesNotCountAgainstStartTimeout(t *testing.T) {
	e := newTestEnv(t)
	ref := "classhub-test-" + e.id + "/pulled:latest"
	t.Cleanup(func() { e.cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	cfg := e.cfg
	cfg.Image = ref
	cfg.StartTimeout = config.Duration(5 * time.Second)
	d := New(slowPull{e.cli, 7 * time.Second}, Options{Config: cfg, Bus: e.bus})
	got := collect(t, e.bus, func(ev events.Event) bool { return ev.Kind == events.ImageProgress })
	var mu sync.Mutex
	var mine []string
	req := e.req(e.user("jay"), "tok")
	req.Progress = func(ev events.Event) {
		if ev.Kind == events.ImageProgress {
			mu.Lock()
			mine = append(mine, ev.Message)
			mu.Unlock()
		}
	}
	s, err := d.Start(e.ctx, req)
	if err != nil {
		t.Fatalf("Start with a slow pull: %v", err)
	}
	if s.Image != ref {
		t.Errorf("image = %s", s.Image)
	}
	if _, ok := got.find(events.ImageProgress, "2 of 2 layers done"); !ok {
		t.Errorf("pull progress not published: %+v", got.all())
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(mine, "\n"), "2 of 2 layers done") {
		t.Errorf("the start waiting for the pull heard %q", mine)
	}
}

// givenUpPull is an engine without the image whose first pull hangs until
// the start that asked for it gives up; the next pull succeeds.
type givenUpPull struct {
	client.APIClient
	mu      sync.Mutex
	pulls   int
	pulled  bool
	started chan struct{} // closed when the first pull begins
}

func (g *givenUpPull) ImageInspect(context.Context, string, ...client.ImageInspectOption) (image.InspectResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.pulled {
		return image.InspectResponse{}, fmt.Errorf("no such image: %w", cerrdefs.ErrNotFound)
	}
	return image.InspectResponse{ID: "sha256:pulled"}, nil
}

func (g *givenUpPull) ImagePull(ctx context.Context, _ string, _ image.PullOptions) (io.ReadCloser, error) {
	g.mu.Lock()
	g.pulls++
	first := g.pulls == 1
	g.mu.Unlock()
	if first {
		close(g.started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	g.mu.Lock()
	g.pulled = true
	g.mu.Unlock()
	return io.NopCloser(strings.NewReader(pullStream)), nil
}

// TestAnotherStartsFailedPullIsNoFailureOfThisOne: a pull serves every
// start waiting for the image, and one student's start that gives up (a
// stop cancels it) ends that pull. The other starts pull again: the
// failed pull must not reach their progress as a failure, which would end
// their progress pages while their servers start.
func TestAnotherStartsFailedPullIsNoFailureOfThisOne(t *testing.T) {
	eng := &givenUpPull{started: make(chan struct{})}
	d := New(eng, Options{Config: config.Default(), Bus: events.NewBus(64)})
	bobs, cancelBob := context.WithCancel(context.Background())
	defer cancelBob()
	bobDone := make(chan error, 1)
	go func() {
		_, err := d.ensureImage(bobs, d.config(), func(events.Event) {})
		bobDone <- err
	}()
	<-eng.started
	var mu sync.Mutex
	var alices []events.Event
	aliceDone := make(chan error, 1)
	go func() {
		_, err := d.ensureImage(context.Background(), d.config(), func(e events.Event) {
			mu.Lock()
			alices = append(alices, e)
			mu.Unlock()
		})
		aliceDone <- err
	}()
	waitFor(t, "alice's start to wait for bob's pull", func() bool {
		d.pulls.mu.Lock()
		defer d.pulls.mu.Unlock()
		for _, c := range d.pulls.calls {
			if c.waiters > 0 {
				return true
			}
		}
		return false
	})
	cancelBob()
	if err := <-bobDone; !errors.Is(err, context.Canceled) {
		t.Errorf("bob's start that gave up: %v", err)
	}
	if err := <-aliceDone; err != nil {
		t.Fatalf("alice's start: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	done := false
	for _, e := range alices {
		if e.Failed {
			t.Errorf("alice's start heard %+v", e)
		}
		done = done || strings.Contains(e.Message, "2 of 2 layers done")
	}
	if !done {
		t.Errorf("alice's start did not hear its own pull: %+v", alices)
	}
}
