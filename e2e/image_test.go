package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestAdminSwitchesTheImage: on a running hub's admin page an instructor
// switches the notebook image from the classic one to the default Lab
// one, with no restart. The page says servers move at their next start and
// that one running server still runs the old image; that student's server
// keeps it until it is stopped and started, when her container runs the
// new image and the file in her work volume is still there. The choice is
// in the settings file, for the next hub.
func TestAdminSwitchesTheImage(t *testing.T) {
	c := newClassroom(t)
	cli := testenv.Docker(t)
	lab := testenv.RequireLabImage(t, cli)
	student, teacher := c.user("imgstudent"), c.user("imgteacher")
	c.addUsers(student)
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	adminTok := c.token(teacher)
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLogOnFailure(t, c)

	box := spawner.ContainerName(student)
	c.startAndWait(adminTok, student)
	first, err := cli.ContainerInspect(t.Context(), box)
	if err != nil {
		t.Fatal(err)
	}
	if first.Config.Image != testenv.NotebookImage {
		t.Fatalf("her server runs %s before the switch, want %s", first.Config.Image, testenv.NotebookImage)
	}
	if out, code := dockerExec(t, cli, box, "sh", "-c", "echo kept > "+hub.WorkDir+"/proof.txt"); code != 0 {
		t.Fatalf("write the proof file: %d %s", code, out)
	}

	b := newBrowser(t)
	tt := b.tab(t, teacher)
	tt.run("open the admin page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin"))
	tt.waitPath("the browser is sent to the login page", time.Minute, "/hub/login")
	formLogin(tt, teacher, teacherPW, "image-00-teacher-login")
	tt.waitPath("the login leads back to the admin page", time.Minute, "/hub/admin")
	radio := func(ref string) string { return fmt.Sprintf(`#image input[name="image"][value=%q]`, ref) }
	tt.waitJS("the admin page says servers start from the classic image and offers the Lab one", time.Minute, fmt.Sprintf(
		`document.querySelector("#image-current").textContent === %q && document.querySelector(%q).checked && !!document.querySelector(%q)`,
		testenv.NotebookImage, radio(testenv.NotebookImage), radio(lab)))
	tt.run("scroll to the image section", time.Minute, chromedp.ScrollIntoView("#image"))
	tt.shot("image-01-admin")

	// A second admin page, open elsewhere, follows the change by itself.
	other := b.tab(t, teacher+"-elsewhere")
	other.run("open the admin page elsewhere", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin"))
	other.waitPath("the login page", time.Minute, "/hub/login")
	formLogin(other, teacher, teacherPW, "image-01-elsewhere-login")
	other.waitJS("the other page shows the classic image and listens", time.Minute,
		`document.querySelector("#image-current").textContent === "`+testenv.NotebookImage+`" && (window.notReloaded = true)`)

	tt.click("the Lab image", radio(lab))
	tt.click("Use this image", "#image-use")
	tt.waitJS("the page says what the change means", time.Minute, fmt.Sprintf(
		`location.search.includes("done=image") && (document.querySelector(".alert.notice") || {textContent: ""}).textContent.includes(%q)`,
		"Servers start from "+lab+" from now on, each at its next start"))
	notice := eval[string](tt, `document.querySelector(".alert.notice").textContent`)
	if !strings.Contains(notice, "1 running server still runs another image until it is stopped and started again") {
		tt.fatalf("the page does not count her server, which runs the old image: %q", notice)
	}
	tt.waitJS("the section marks the Lab image as in use", time.Minute, fmt.Sprintf(
		`document.querySelector("#image-current").textContent === %q && document.querySelector(%q).checked`, lab, radio(lab)))
	tt.shot("image-02-switched")
	other.waitJS("the admin page open elsewhere shows the Lab image without a reload", time.Minute, fmt.Sprintf(
		`window.notReloaded === true && document.querySelector("#image-current").textContent === %q && document.querySelector(%q).checked`, lab, radio(lab)))

	cfg, err := config.Load(filepath.Join(c.dataDir, config.FileName))
	if err != nil || cfg.Image != lab || cfg.MemoryLimit != "1G" {
		raw, _ := os.ReadFile(filepath.Join(c.dataDir, config.FileName))
		t.Errorf("the settings file holds image %q (%v), want %s and its other settings:\n%s", cfg.Image, err, lab, raw)
	}
	if now, _ := cli.ContainerInspect(t.Context(), box); now.ID != first.ID || now.Config.Image != testenv.NotebookImage {
		t.Errorf("her running server changed at the switch: %s from %s", now.ID, now.Config.Image)
	}

	c.stopAndWait(adminTok, student)
	c.startAndWait(adminTok, student)
	next, err := cli.ContainerInspect(t.Context(), box)
	if err != nil {
		t.Fatal(err)
	}
	if next.Config.Image != lab || next.ID == first.ID {
		t.Errorf("after a stop and a start her server runs %s in container %.12s (was %.12s), want %s in a new one", next.Config.Image, next.ID, first.ID, lab)
	}
	if out, code := dockerExec(t, cli, box, "cat", hub.WorkDir+"/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("the file in her work volume did not survive the new image: %d %q", code, out)
	}
	tt.waitJS("the admin page shows her server running again", 3*time.Minute, fmt.Sprintf(
		`!!document.querySelector('#users tr[data-user=%q][data-state="running"]')`, student))
	tt.shot("image-03-restarted")
}

// stopAndWait stops name's server through the REST API and waits until
// the user model says it is gone.
func (c *classroom) stopAndWait(admin, name string) {
	c.t.Helper()
	resp, body := c.do("DELETE", "/hub/api/users/"+name+"/server", admin, nil)
	if resp.StatusCode != 202 && resp.StatusCode != 204 {
		c.t.Fatalf("stop %s: %s %s", name, resp.Status, body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		_, body := c.do("GET", "/hub/api/users/"+name, admin, nil)
		var u struct {
			Servers map[string]json.RawMessage `json:"servers"`
		}
		json.Unmarshal(body, &u)
		if _, ok := u.Servers[""]; !ok {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.t.Fatalf("%s's server never stopped", name)
}
