package spawner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"

	classhubimage "github.com/classhub/classhub/hub/image"
)

// Prepull makes sure the configured image is in the engine, pulling it as
// the pull policy says with progress published as ImageProgress events.
// The hub calls it at start so the first user does not wait for a pull.
func (d *Docker) Prepull(ctx context.Context) error {
	_, err := d.ensureImage(ctx, d.config(), nil)
	return err
}

// ensureImage applies cfg's pull policy to its image and returns the
// image's ID. Pulls of the same image by concurrent starts are done once;
// while it waits, rep (if not nil) hears the pull's progress too, whichever
// start began it.
func (d *Docker) ensureImage(ctx context.Context, cfg config.Config, rep report) (string, error) {
	if rep != nil {
		d.imageMu.Lock()
		d.imageWaiters[&rep] = struct{}{}
		d.imageMu.Unlock()
		defer func() {
			d.imageMu.Lock()
			delete(d.imageWaiters, &rep)
			d.imageMu.Unlock()
		}()
	}
	ref, policy := cfg.Image, cfg.PullPolicy
	return d.pulls.do(ctx, ref+"\x00"+policy, func(ctx context.Context) (string, error) {
		return d.imageFor(ctx, ref, policy)
	})
}

func (d *Docker) imageFor(ctx context.Context, ref, policy string) (string, error) {
	ins, err := d.cli.ImageInspect(ctx, ref)
	present := err == nil
	if err != nil && !cerrdefs.IsNotFound(err) {
		return "", engine.Explain(fmt.Errorf("inspect image %s: %w", ref, err))
	}
	switch {
	case policy == config.PullNever && !present:
		return "", &imageError{ref: ref, why: whyNever}
	case policy == config.PullAlways, !present:
		perr := d.pull(ctx, ref)
		if perr != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			if present {
				d.noticeOnce("pull:"+ref, "", fmt.Sprintf("Could not pull %s (%v); using the copy already in the engine.", ref, perr))
				return ins.ID, nil
			}
			var ee *engine.Error
			if errors.As(perr, &ee) {
				return "", perr
			}
			return "", &imageError{ref: ref, why: "it could not be pulled", err: perr}
		}
		ins, err = d.cli.ImageInspect(ctx, ref)
		if err != nil {
			return "", engine.Explain(fmt.Errorf("inspect image %s after pulling it: %w", ref, err))
		}
	}
	return ins.ID, nil
}

// whyNever is why an image is not pulled when pull_policy is never.
const whyNever = "pull_policy is never"

// imageError is the one sentence people see when the image cannot be had.
type imageError struct {
	ref, why string
	err      error
}

func (e *imageError) Error() string {
	s := fmt.Sprintf("the notebook image %s is not in the Docker engine and %s", e.ref, e.why)
	if e.err != nil {
		s += fmt.Sprintf(" (%v)", e.err)
	}
	if strings.HasPrefix(e.ref, "classhub/") {
		return s + ": build it with `" + classhubimage.BuildCommand(e.ref) + "`"
	}
	// Someone else's image: a typo, a registry out of reach, or a laptop
	// offline in class; with pull_policy never, no registry was asked.
	if e.why == whyNever {
		return s + fmt.Sprintf(": check its name, pull it (`docker pull %s`) or set pull_policy to %q, or choose an image in the engine (`classhub image build` makes classhub's own)", e.ref, config.PullIfNotPresent)
	}
	return s + ": check its name and that its registry is reachable, or choose an image in the engine (`classhub image build` makes classhub's own)"
}

func (e *imageError) Unwrap() []error { return []error{ErrImageUnavailable, e.err} }

// pull pulls ref, publishing layer and byte progress.
func (d *Docker) pull(ctx context.Context, ref string) error {
	d.publishImage(events.Event{Kind: events.ImageProgress, Message: "Pulling " + ref, Progress: -1})
	rc, err := d.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		err = engine.Explain(err)
		d.publishImage(events.Event{Kind: events.ImageProgress, Message: "Pulling " + ref + " failed", Failed: true,
			Reason: events.ReasonFailed})
		return err
	}
	defer rc.Close()
	t := newPullTracker(ref, d.publishImage, time.Now)
	if err := t.consume(rc); err != nil {
		d.publishImage(events.Event{Kind: events.ImageProgress, Message: "Pulling " + ref + " failed", Failed: true,
			Reason: events.ReasonFailed})
		return err
	}
	d.publishImage(events.Event{Kind: events.ImageProgress, Message: "Pulled " + ref, Progress: 100, Current: t.current(), Total: t.total()})
	return nil
}

// publishImage publishes a pull's progress on the bus, for the tray's
// image status, and reports it to every start waiting for the image. A
// failed pull is not reported to them: it is no failure of theirs, since
// each goes on with the copy in the engine, pulls again when the start
// that began the pull gave up, or fails with its own error.
func (d *Docker) publishImage(e events.Event) {
	d.publish(e)
	if e.Failed {
		return
	}
	d.imageMu.Lock()
	defer d.imageMu.Unlock()
	for rep := range d.imageWaiters {
		(*rep)(e)
	}
}

// pullTracker sums the engine's per-layer pull messages into one progress
// figure and publishes it, at most every 250 ms unless a layer finishes.
type pullTracker struct {
	ref     string
	publish func(events.Event)
	now     func() time.Time
	last    time.Time
	layers  map[string]*layerProgress
	order   []string
}

type layerProgress struct {
	current, total int64
	done           bool
}

// pullMessage is one line of the engine's pull stream.
type pullMessage struct {
	Status         string `json:"status"`
	ID             string `json:"id"`
	ProgressDetail struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	Error       string `json:"error"`
	ErrorDetail struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

func newPullTracker(ref string, publish func(events.Event), now func() time.Time) *pullTracker {
	return &pullTracker{ref: ref, publish: publish, now: now, layers: map[string]*layerProgress{}}
}

func (t *pullTracker) consume(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m pullMessage
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read pull progress: %w", err)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		t.update(m)
	}
}

func (t *pullTracker) update(m pullMessage) {
	if m.ID == "" {
		return
	}
	l, ok := t.layers[m.ID]
	if !ok {
		// The first lines name the tag, not a layer: "Pulling from x".
		if m.Status != "Pulling fs layer" && m.Status != "Waiting" && m.Status != "Already exists" &&
			m.Status != "Downloading" && m.Status != "Extracting" {
			return
		}
		l = &layerProgress{}
		t.layers[m.ID] = l
		t.order = append(t.order, m.ID)
	}
	finished := false
	switch m.Status {
	case "Downloading":
		l.current, l.total = m.ProgressDetail.Current, m.ProgressDetail.Total
	case "Download complete", "Verifying Checksum":
		if l.total > 0 {
			l.current = l.total
		}
	case "Pull complete", "Already exists":
		if l.total > 0 {
			l.current = l.total
		}
		finished = !l.done
		l.done = true
	}
	if now := t.now(); finished || now.Sub(t.last) >= 250*time.Millisecond {
		t.last = now
		done := 0
		for _, id := range t.order {
			if t.layers[id].done {
				done++
			}
		}
		pct := -1
		if tot := t.total(); tot > 0 {
			pct = int(t.current() * 100 / tot)
		}
		t.publish(events.Event{
			Kind:     events.ImageProgress,
			Message:  fmt.Sprintf("Pulling %s: %d of %d layers done", t.ref, done, len(t.order)),
			Progress: pct, Current: t.current(), Total: t.total(),
		})
	}
}

func (t *pullTracker) current() int64 {
	var n int64
	for _, l := range t.layers {
		n += l.current
	}
	return n
}

func (t *pullTracker) total() int64 {
	var n int64
	for _, l := range t.layers {
		n += l.total
	}
	return n
}
