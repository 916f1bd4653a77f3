package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
)

// ImageChange is what choosing another notebook image did.
type ImageChange struct {
	// Image is the image servers start from now; Previous is the one
	// they started from before.
	Image, Previous string
	// Pulled says the engine does not hold Image: the first start pulls it.
	Pulled bool
	// Saved says the choice is in the settings file, so it outlives the
	// hub; without one (SaveImage is nil) it lasts until the hub restarts.
	Saved bool
	// Stale counts the running servers made from another image, which keep
	// it until they are stopped and started again; -1 when the engine
	// could not say.
	Stale int
}

// Sentence says what the change means for the class.
func (c ImageChange) Sentence() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Servers start from %s from now on, each at its next start, with its files kept.", c.Image)
	if c.Pulled {
		b.WriteString(" It is not in the Docker engine yet: the first start pulls it, which may take minutes.")
	}
	switch {
	case c.Stale == 1:
		b.WriteString(" 1 running server still runs another image until it is stopped and started again.")
	case c.Stale > 1:
		fmt.Fprintf(&b, " %d running servers still run another image until they are stopped and started again.", c.Stale)
	case c.Stale == 0:
		b.WriteString(" No running server runs another image.")
	}
	if !c.Saved {
		b.WriteString(" This hub has no settings file, so it starts from its old image again after a restart.")
	}
	return b.String()
}

// ErrImageRefused is matched by the errors of SetImage that are the
// choice's to fix (a malformed name, an image the engine lacks under
// pull_policy never), as opposed to the hub's failures.
var ErrImageRefused = errors.New("image refused")

// refusal is an error of the choice's; its message is the error's own.
type refusal struct{ error }

func (refusal) Is(target error) bool { return target == ErrImageRefused }

// ValidateImage checks that ref is written as a Docker image reference
// (name, optional tag or digest), and says how to write it if not.
func ValidateImage(ref string) error {
	if strings.TrimSpace(ref) == "" {
		return errors.New("name a notebook image, e.g. " + config.DefaultImage)
	}
	_, err := reference.ParseNormalizedNamed(ref)
	switch {
	case err == nil:
		return nil
	case lowercaseParses(ref):
		return fmt.Errorf("the image name %q has capital letters: Docker image names are lowercase, e.g. %s", ref, config.DefaultImage)
	case errors.Is(err, reference.ErrNameTooLong):
		return fmt.Errorf("the image name %q is longer than Docker allows (%d characters): check what was pasted", ref, reference.RepositoryNameTotalLengthMax)
	}
	return fmt.Errorf("%q is not an image name: write it as Docker does, NAME:TAG such as %s, with a registry's host in front for one elsewhere, no spaces", ref, config.DefaultImage)
}

// lowercaseParses reports whether ref would be an image reference in
// lowercase: the parser says so in a message, not an error value.
func lowercaseParses(ref string) bool {
	_, err := reference.ParseNormalizedNamed(strings.ToLower(ref))
	return err == nil
}

// SetImage makes the servers started from now on run ref: each moves to
// it at its next start, when its container is recreated from the new image
// with its work volume kept; a running server keeps its image until then.
// The choice is written to the settings file (Options.SaveImage) before it
// applies, so a hub that restarts keeps it. An image the engine does not
// hold is accepted, to be pulled at the first start, unless the pull
// policy is never.
func (h *Lifecycle) SetImage(ctx context.Context, ref string) (ImageChange, error) {
	ref = strings.TrimSpace(ref)
	if err := ValidateImage(ref); err != nil {
		return ImageChange{}, refusal{err}
	}
	h.imageMu.Lock()
	defer h.imageMu.Unlock()
	present, err := h.spawner.HasImage(ctx, ref)
	if err != nil {
		return ImageChange{}, fmt.Errorf("could not check that the Docker engine holds %s: %w", ref, err)
	}
	cfg := h.Config()
	if !present && cfg.PullPolicy == config.PullNever {
		return ImageChange{}, refusal{fmt.Errorf("the notebook image %s is not in the Docker engine, and pull_policy is never, so no server could start from it: "+
			"build or load it first (`classhub image build` makes classhub's own), or choose an image the engine holds", ref)}
	}
	c := ImageChange{Image: ref, Previous: cfg.Image, Pulled: !present}
	if h.saveImage != nil {
		if err := h.saveImage(ref); err != nil {
			return ImageChange{}, fmt.Errorf("could not save %s as the notebook image, so nothing changed: %w", ref, err)
		}
		c.Saved = true
	}
	h.spawner.SetImage(ref)
	h.mu.Lock()
	h.cfg.Image = ref
	h.mu.Unlock()
	h.forgetImages()
	c.Stale = h.staleServers(ctx, ref)
	h.bus.Publish(events.Event{Kind: events.ImageChanged, Image: ref, Message: c.Sentence()})
	return c, nil
}

// staleServers counts this hub's running servers made from another image
// than ref, -1 when the engine cannot list them. The engine may hold other
// hubs' servers too, which are not this class's.
func (h *Lifecycle) staleServers(ctx context.Context, ref string) int {
	servers, err := h.spawner.List(ctx)
	if err != nil {
		return -1
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, sv := range servers {
		if st, ok := h.servers[sv.User]; ok && st.ready && sv.State == spawner.StateRunning && sv.Image != ref {
			n++
		}
	}
	return n
}

// imagesFresh is how long LocalImages answers from what it last found: the
// admin page is drawn again on every burst of server events, and listing
// asks the engine about each image it holds.
const imagesFresh = 10 * time.Second

// LocalImages lists the engine's images that carry a notebook server, for
// choosing one; what it found is reused for a few seconds.
func (h *Lifecycle) LocalImages(ctx context.Context) ([]image.Local, error) {
	h.imageMu.Lock()
	defer h.imageMu.Unlock()
	if h.images != nil && time.Since(h.imagesAt) < imagesFresh {
		return h.images, nil
	}
	list, err := h.spawner.LocalImages(ctx)
	if err != nil {
		return nil, err
	}
	h.images, h.imagesAt = list, time.Now()
	return list, nil
}

// forgetImages makes the next LocalImages ask the engine; call it with
// imageMu held.
func (h *Lifecycle) forgetImages() { h.images = nil }
