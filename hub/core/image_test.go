package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

const (
	classicImage = "classhub/notebook:classic"
	labImage     = "classhub/notebook:latest"
)

// imageFixture is a hub whose engine holds the classic and the Lab image,
// running the classic one, whose settings file is saved calls; save, if not
// nil, answers them.
type imageFixture struct {
	*fixture
	mu    sync.Mutex
	saved []string
}

func newImageFixture(t *testing.T, policy string, save func(ref string) error, users ...string) *imageFixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp := spawnertest.New()
	sp.Local = []image.Local{{Ref: classicImage, Profile: "classic"}, {Ref: labImage, Profile: "scipy"}}
	cfg := config.Default()
	cfg.Image, cfg.PullPolicy = classicImage, policy
	sp.SetImage(cfg.Image)
	f := &imageFixture{fixture: &fixture{sp: sp, router: spawnertest.NewRouter(), store: st}}
	f.hub = New(Options{Config: cfg, Store: st, Spawner: sp, Router: f.router, Bus: events.NewBus(64), HubPort: 8081,
		SlowSpawn: 200 * time.Millisecond, SaveImage: func(ref string) error {
			f.mu.Lock()
			f.saved = append(f.saved, ref)
			f.mu.Unlock()
			if save != nil {
				return save(ref)
			}
			return nil
		}})
	t.Cleanup(f.hub.Close)
	if _, err := f.hub.AddUsers(context.Background(), users, false); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *imageFixture) savedRefs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.saved...)
}

// wantUnchanged checks that a refused choice touched nothing: not the
// settings file, the spawner, the settings in force, nor the event stream.
func (f *imageFixture) wantUnchanged(t *testing.T, sub *events.Subscription, saves int) {
	t.Helper()
	if got := f.savedRefs(); len(got) != saves {
		t.Errorf("the settings file was written: %v", got)
	}
	if f.sp.Image() != classicImage || f.hub.Config().Image != classicImage {
		t.Errorf("servers would start from %s (in force %s), want %s still", f.sp.Image(), f.hub.Config().Image, classicImage)
	}
	select {
	case e := <-sub.C:
		t.Errorf("a refused choice published %+v", e)
	default:
	}
}

func TestValidateImage(t *testing.T) {
	for _, ref := range []string{"classhub/notebook:latest", "course:2", "python", "registry.example:5000/class/lab:4.1",
		"course@sha256:" + strings.Repeat("ab", 32)} {
		if err := ValidateImage(ref); err != nil {
			t.Errorf("ValidateImage(%q) = %v", ref, err)
		}
	}
	for ref, want := range map[string]string{
		"":                        "name a notebook image",
		"Classhub/Notebook":       "has capital letters",
		"classhub notebook":       "is not an image name: write it as Docker does",
		"classhub/notebook:":      "is not an image name",
		"classhub/notebook:a:b":   "is not an image name",
		"http://registry/lab:1":   "is not an image name",
		strings.Repeat("a", 300):  "longer than Docker allows",
		"classhub/notebook;rm -f": "is not an image name",
	} {
		if err := ValidateImage(ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateImage(%q) = %v, want it to say %q", ref, err, want)
		}
	}
}

// TestSetImage: choosing an image saves it, applies it to the starts to
// come, counts the running servers on the old one and tells every view;
// the next start of a running server's user runs the new image.
func TestSetImage(t *testing.T) {
	f := newImageFixture(t, config.PullIfNotPresent, nil, "alice", "bob")
	f.mustStart(t, "alice")
	// Another hub's server on the same engine is not this class's.
	if _, err := f.sp.Start(context.Background(), spawner.StartRequest{User: "carol", APIToken: "t", HubPort: 8081}); err != nil {
		t.Fatal(err)
	}
	sub := f.hub.Bus().Subscribe(16, false, func(e events.Event) bool { return e.Kind == events.ImageChanged })
	defer sub.Close()

	c, err := f.hub.SetImage(context.Background(), " "+labImage+" ")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImageChange{Image: labImage, Previous: classicImage, Saved: true, Stale: 1}); c != want {
		t.Errorf("SetImage = %+v, want %+v", c, want)
	}
	if got := f.savedRefs(); len(got) != 1 || got[0] != labImage {
		t.Errorf("saved %v", got)
	}
	if f.sp.Image() != labImage || f.hub.Config().Image != labImage {
		t.Errorf("servers start from %s, settings in force say %s", f.sp.Image(), f.hub.Config().Image)
	}
	select {
	case e := <-sub.C:
		if e.Image != labImage || !strings.Contains(e.Message, "Servers start from "+labImage+" from now on, each at its next start") ||
			!strings.Contains(e.Message, "1 running server still runs another image") {
			t.Errorf("event %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event told the views")
	}

	// Bob's first start and alice's next one run the new image.
	f.mustStart(t, "bob")
	if err := f.hub.Stop(context.Background(), "alice", false); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	servers, _ := f.sp.List(context.Background())
	for _, sv := range servers {
		if sv.User != "carol" && sv.State == spawner.StateRunning && sv.Image != labImage {
			t.Errorf("%s's server runs %s after the change", sv.User, sv.Image)
		}
	}
	if c, err := f.hub.SetImage(context.Background(), labImage); err != nil || c.Stale != 0 ||
		!strings.Contains(c.Sentence(), "No running server runs another image") {
		t.Errorf("choosing the image in force again = %+v, %v", c, err)
	}
}

// TestSetImageNotInTheEngine: an image the engine lacks is pulled at the
// first start, and the sentence says so; with pull_policy never it is
// refused, naming the image, and nothing changes.
func TestSetImageNotInTheEngine(t *testing.T) {
	f := newImageFixture(t, config.PullIfNotPresent, nil)
	c, err := f.hub.SetImage(context.Background(), "course:2")
	if err != nil || !c.Pulled || !strings.Contains(c.Sentence(), "the first start pulls it") {
		t.Errorf("SetImage(course:2) = %+v (%q), %v", c, c.Sentence(), err)
	}

	f = newImageFixture(t, config.PullNever, nil)
	sub := f.hub.Bus().Subscribe(16, false, nil)
	defer sub.Close()
	_, err = f.hub.SetImage(context.Background(), "course:2")
	if !errors.Is(err, ErrImageRefused) || !strings.Contains(err.Error(), "course:2 is not in the Docker engine, and pull_policy is never") {
		t.Errorf("SetImage with pull_policy never = %v", err)
	}
	f.wantUnchanged(t, sub, 0)
	// An image in the engine is fine with never.
	if _, err := f.hub.SetImage(context.Background(), labImage); err != nil {
		t.Error(err)
	}
}

// TestSetImageRefusesBadNamesAndUnsavedChoices: a malformed name changes
// nothing; a choice the settings file cannot keep does not apply either,
// so the hub never runs an image its next start would forget.
func TestSetImageRefusesBadNamesAndUnsavedChoices(t *testing.T) {
	f := newImageFixture(t, config.PullIfNotPresent, func(string) error { return errors.New("disk full") })
	sub := f.hub.Bus().Subscribe(16, false, nil)
	defer sub.Close()
	if _, err := f.hub.SetImage(context.Background(), "Course Image"); !errors.Is(err, ErrImageRefused) || !strings.Contains(err.Error(), `"Course Image"`) {
		t.Errorf("SetImage(a bad name) = %v", err)
	}
	f.wantUnchanged(t, sub, 0)
	_, err := f.hub.SetImage(context.Background(), labImage)
	if err == nil || errors.Is(err, ErrImageRefused) || !strings.Contains(err.Error(), "could not save "+labImage+" as the notebook image, so nothing changed: disk full") {
		t.Errorf("SetImage whose save fails = %v", err)
	}
	f.wantUnchanged(t, sub, 1)
}

// TestSetImageWithoutASettingsFile: a hub with no file to save to applies
// the choice for this run and says it will not outlive a restart.
func TestSetImageWithoutASettingsFile(t *testing.T) {
	f := newFixture(t)
	c, err := f.hub.SetImage(context.Background(), "course:2")
	if err != nil || c.Saved || !strings.Contains(c.Sentence(), "no settings file") {
		t.Errorf("SetImage = %+v, %v", c, err)
	}
}

// TestLocalImagesAreReusedUntilAChoice: the list is asked of the engine
// once for a burst of admin pages, and again after a choice.
func TestLocalImagesAreReusedUntilAChoice(t *testing.T) {
	f := newImageFixture(t, config.PullIfNotPresent, nil)
	first, err := f.hub.LocalImages(context.Background())
	if err != nil || len(first) != 2 {
		t.Fatalf("LocalImages = %v, %v", first, err)
	}
	f.sp.Local = append(f.sp.Local, image.Local{Ref: "course:2"})
	if again, _ := f.hub.LocalImages(context.Background()); len(again) != 2 {
		t.Errorf("the engine was asked again at once: %v", again)
	}
	if _, err := f.hub.SetImage(context.Background(), "course:2"); err != nil {
		t.Fatal(err)
	}
	if after, _ := f.hub.LocalImages(context.Background()); len(after) != 3 {
		t.Errorf("after a choice the list is still the old one: %v", after)
	}
}

// TestSetImageWhileServersStart: choices and starts at once (go test
// -race).
func TestSetImageWhileServersStart(t *testing.T) {
	users := []string{"u1", "u2", "u3", "u4", "u5", "u6"}
	f := newImageFixture(t, config.PullIfNotPresent, nil, users...)
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() { f.startWait(t, u) })
	}
	for _, ref := range []string{labImage, classicImage, labImage} {
		wg.Go(func() {
			if _, err := f.hub.SetImage(context.Background(), ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.savedRefs(); len(got) != 3 {
		t.Errorf("saved %v", got)
	}
	if f.hub.Config().Image != f.sp.Image() || f.savedRefs()[2] != f.sp.Image() {
		t.Errorf("the last choice saved (%v) is not the one in force (%s, spawner %s)", f.savedRefs(), f.hub.Config().Image, f.sp.Image())
	}
}
