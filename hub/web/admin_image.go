package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/scopes"
)

// imageScope is what choosing the notebook image needs: it is every
// server's.
const imageScope = "admin:servers"

// imageSection is the admin page's choice of the notebook image.
type imageSection struct {
	// Show is false for admins who may not choose (imageScope).
	Show bool
	// Current is the image servers start from.
	Current string
	// Choices are the engine's notebook images; ListError says why there
	// are none when the engine could not be asked.
	Choices   []imageChoice
	ListError string
	// Other is the registry image typed, kept when it is refused.
	Other string
	// PullNever says only images in the engine can be chosen.
	PullNever bool
}

// imageChoice is one of the engine's notebook images.
type imageChoice struct {
	Ref     string
	Current bool
	// What says what it holds: the profile's summary for an image
	// classhub built.
	What string
	Size string
}

// imageView is the admin page's image section for p.
func (wb *Web) imageView(ctx context.Context, p auth.Principal) imageSection {
	if !scopes.Holds(p.Scopes, imageScope) {
		return imageSection{}
	}
	cfg := wb.hub.Config()
	s := imageSection{Show: true, Current: cfg.Image, PullNever: cfg.PullPolicy == config.PullNever}
	list, err := wb.hub.LocalImages(ctx)
	if err != nil {
		s.ListError = "The Docker engine's images could not be listed: " + sentence(err.Error())
	}
	for _, img := range list {
		c := imageChoice{Ref: img.Ref, Current: img.Ref == s.Current, Size: humanBytes(img.Size),
			What: "an image with a Jupyter server, not built by classhub"}
		if prof, err := image.LookupProfile(img.Profile); err == nil {
			c.What = prof.Summary
		}
		s.Choices = append(s.Choices, c)
	}
	return s
}

// adminImage changes the notebook image: the engine's image chosen, or
// the registry image typed, which wins when both are given.
func (wb *Web) adminImage(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	if !scopes.Holds(p.Scopes, imageScope) {
		wb.fail(w, r, http.StatusForbidden, "Choosing the notebook image needs the "+imageScope+" permission.")
		return
	}
	other := strings.TrimSpace(r.PostFormValue("image_other"))
	ref := other
	if ref == "" {
		ref = r.PostFormValue("image")
	}
	keep := func(d *adminData) { d.Image.Other = other }
	c, err := wb.hub.SetImage(r.Context(), ref)
	switch {
	case errors.Is(err, core.ErrImageRefused):
		wb.adminAgain(w, r, p, http.StatusBadRequest, sentence(err.Error())+" Servers still start from "+wb.hub.Config().Image+".", keep)
		return
	case err != nil:
		wb.log.Printf("web: %s chose the notebook image %q: %v", p.User.Name, ref, err)
		wb.adminAgain(w, r, p, http.StatusInternalServerError, sentence(err.Error()), keep)
		return
	}
	wb.log.Printf("web: %s chose the notebook image %s", p.User.Name, c.Image)
	v := url.Values{"done": {"image"}, "stale": {strconv.Itoa(c.Stale)}}
	if c.Pulled {
		v.Set("pulled", "1")
	}
	if !c.Saved {
		v.Set("unsaved", "1")
	}
	http.Redirect(w, r, "/hub/admin?"+v.Encode()+"#image", http.StatusSeeOther)
}

// imageDone is the sentence after a change of image: what core said of
// it, rebuilt from the redirect's counts and the image in force, so that a
// crafted link puts no words of its own on the page.
func imageDone(q url.Values, current string) string {
	stale, err := strconv.Atoi(q.Get("stale"))
	if err != nil || stale < 0 {
		stale = -1
	}
	return core.ImageChange{Image: current, Pulled: q.Get("pulled") == "1", Saved: q.Get("unsaved") != "1", Stale: stale}.Sentence()
}
