package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
)

// imageEnv is adminEnv with an engine holding classhub's scipy image as
// the default's tag and the classic one, and a course image classhub did
// not build.
func imageEnv(t *testing.T) (*env, *client) {
	e, root := adminEnv(t)
	e.spawner.Local = []image.Local{
		{Ref: "classhub/notebook:classic", Size: 344_000_000, Profile: "classic"},
		{Ref: config.DefaultImage, Size: 912_000_000, Profile: "scipy"},
		{Ref: "course:2", Size: 1_500_000_000},
	}
	e.spawner.SetImage(config.DefaultImage)
	return e, root
}

func TestAdminImageSection(t *testing.T) {
	_, root := imageEnv(t)
	p := root.get("/hub/admin")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="image"`, `action="/hub/admin/image"`,
		`Servers start from <code id="image-current">classhub/notebook:latest</code>`,
		`value="classhub/notebook:latest" checked>`, `<code>classhub/notebook:latest</code> <span class="badge">in use</span>`,
		"JupyterLab 4 with numpy", "912.0 MB",
		`value="classhub/notebook:classic">`, "the classic Notebook 6", "344.0 MB",
		`value="course:2">`, "not built by classhub, 1.5 GB",
		`name="image_other"`, "pulled when a server first starts")
	// The form carries the page's anti-forgery token like the others.
	form := p.Body[strings.Index(p.Body, `action="/hub/admin/image"`):]
	if !strings.Contains(form[:strings.Index(form, "</form>")], `name="_xsrf" value="`+root.csrf()+`"`) {
		t.Error("the image form has no anti-forgery token")
	}
}

// TestAdminChoosesImage: an instructor chooses one of the engine's images
// or types a registry's; the page says servers move to it at their next
// start and how many running ones still run the old image.
func TestAdminChoosesImage(t *testing.T) {
	e, root := imageEnv(t)
	e.start("alice")
	tok := root.csrf()

	p := root.post("/hub/admin/image", url.Values{"_xsrf": {tok}, "image": {"classhub/notebook:classic"}})
	wantRedirect(t, p, http.StatusSeeOther, "/hub/admin?done=image&stale=1&unsaved=1#image")
	if got := e.spawner.Image(); got != "classhub/notebook:classic" {
		t.Fatalf("servers start from %s", got)
	}
	p = root.get("/hub/admin?done=image&stale=1&unsaved=1")
	wantBody(t, p, "Servers start from classhub/notebook:classic from now on, each at its next start, with its files kept.",
		"1 running server still runs another image until it is stopped and started again.",
		`value="classhub/notebook:classic" checked>`, `<code>classhub/notebook:classic</code> <span class="badge">in use</span>`)
	wantNoBody(t, p, `value="classhub/notebook:latest" checked>`)
	if !strings.Contains(e.logged(), "root chose the notebook image classhub/notebook:classic") {
		t.Errorf("the change is not in the hub's log:\n%s", e.logged())
	}

	// Alice's next start runs the new image.
	if err := e.hub.Stop(context.Background(), "alice", false); err != nil {
		t.Fatal(err)
	}
	e.start("alice")
	p = root.post("/hub/admin/image", url.Values{"_xsrf": {tok}, "image": {"classhub/notebook:classic"}, "image_other": {" course:3 "}})
	wantRedirect(t, p, http.StatusSeeOther, "/hub/admin?done=image&pulled=1&stale=1&unsaved=1#image")
	wantBody(t, root.get("/hub/admin?done=image&pulled=1&stale=1&unsaved=1"),
		"Servers start from course:3 from now on", "It is not in the Docker engine yet: the first start pulls it")
}

// TestAdminImageRefusals: a malformed name, a forged form, a student and
// a missing choice change nothing; what was typed stays in the field.
func TestAdminImageRefusals(t *testing.T) {
	e, root := imageEnv(t)
	tok := root.csrf()
	p := root.post("/hub/admin/image", url.Values{"_xsrf": {tok}, "image_other": {"Course Image:2"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "&#34;Course Image:2&#34; is not an image name: write it as Docker does",
		"Servers still start from classhub/notebook:latest.", `value="Course Image:2"`)
	wantStatus(t, root.post("/hub/admin/image", url.Values{"_xsrf": {tok}}), http.StatusBadRequest)

	wantStatus(t, root.post("/hub/admin/image", url.Values{"image": {"course:2"}}), http.StatusForbidden)
	wantStatus(t, root.post("/hub/admin/image", url.Values{"_xsrf": {"forged"}, "image": {"course:2"}}), http.StatusForbidden)
	alice := e.loggedIn("alice")
	wantStatus(t, alice.post("/hub/admin/image", url.Values{"_xsrf": {alice.csrf()}, "image": {"course:2"}}), http.StatusForbidden)
	wantStatus(t, e.client().post("/hub/admin/image", url.Values{"image": {"course:2"}}), http.StatusForbidden)
	// A cross-site form, even with the token, is refused before it counts.
	wantStatus(t, root.do("POST", "/hub/admin/image", strings.NewReader(url.Values{"_xsrf": {tok}, "image": {"course:2"}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"http://evil.test"}, "Sec-Fetch-Site": {"cross-site"}}),
		http.StatusForbidden)

	if got := e.spawner.Image(); got != config.DefaultImage {
		t.Errorf("a refused choice made servers start from %s", got)
	}
}

// TestAdminImageDoneSentenceIsTheHubs: a crafted link cannot put words
// on the page: the sentence names the image in force and counts only.
func TestAdminImageDoneSentenceIsTheHubs(t *testing.T) {
	_, root := imageEnv(t)
	p := root.get("/hub/admin?done=image&stale=%3Cb%3Eevil&image=evil:1")
	wantBody(t, p, "Servers start from classhub/notebook:latest from now on")
	wantNoBody(t, p, "evil", "still runs another image", "No running server")
}

// TestAdminEventsTellTheImage: a change of image reaches the admin pages
// open elsewhere, so they show the image in force.
func TestAdminEventsTellTheImage(t *testing.T) {
	e, root := imageEnv(t)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	f := root.openFeed(ts)
	if _, err := e.hub.SetImage(context.Background(), "course:2"); err != nil {
		t.Fatal(err)
	}
	if got := f.next(); got.Kind != events.ImageChanged || got.Image != "course:2" {
		t.Errorf("feed sent %+v, want the image change", got)
	}
	wantBody(t, root.get("/hub/admin"), `<code id="image-current">course:2</code>`)
}
