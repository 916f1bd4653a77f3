package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestHandoutAndCollectCLI hands a folder out with the real binary to
// students whose servers never started, keeps a file a student changed
// on the second handout, and collects the folder back with its manifest;
// bad input is refused with nothing done.
func TestHandoutAndCollectCLI(t *testing.T) {
	c := newClassroom(t)
	t.Cleanup(func() { removeKeptHandouts(t, "classhub-e2e-"+c.suffix) })
	amy, bob, teacher := c.user("amy"), c.user("bob"), c.user("teacher")
	c.addUsers(amy, bob)
	c.classhub("users", "add", teacher, "--admin")

	src := filepath.Join(t.TempDir(), "week1")
	os.MkdirAll(filepath.Join(src, "data"), 0o755)
	os.WriteFile(filepath.Join(src, "intro.ipynb"), []byte(`{"cells": []}`), 0o644)
	os.WriteFile(filepath.Join(src, "data", "t.csv"), []byte("a,b\n1,2\n"), 0o644)

	out := c.classhubFails("", "handout", src, "--to", amy+",nobody"+c.suffix)
	if !strings.Contains(out, "no user nobody"+c.suffix) || !strings.Contains(out, "nothing was done") {
		t.Errorf("handout to an unknown name:\n%s", out)
	}
	out = c.classhubFails("", "handout", filepath.Join(t.TempDir(), "gone"))
	if !strings.Contains(out, "no folder") {
		t.Errorf("handout of a missing folder:\n%s", out)
	}

	out = c.classhub("handout", src)
	for _, want := range []string{"2/2 handed out to", amy + ": 2 copied", bob + ": 2 copied"} {
		if !strings.Contains(out, want) {
			t.Errorf("handout: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, teacher) {
		t.Errorf("handed out to the admin:\n%s", out)
	}

	// The instructor changes a notebook; amy had not touched hers, so it
	// is updated. Collect shows what each has.
	os.WriteFile(filepath.Join(src, "intro.ipynb"), []byte(`{"cells": [1]}`), 0o644)
	out = c.classhub("handout", src, "--to", amy)
	if !strings.Contains(out, amy+": 1 updated, 1 already there") {
		t.Errorf("second handout:\n%s", out)
	}

	dest := filepath.Join(t.TempDir(), "collected")
	out = c.classhub("collect", "week1", "--out", dest)
	if !strings.Contains(out, "collected week1 from 2 of 2 students") {
		t.Errorf("collect:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dest, amy, "intro.ipynb")); err != nil || string(b) != `{"cells": [1]}` {
		t.Errorf("amy's collected notebook: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, bob, "data", "t.csv")); err != nil || string(b) != "a,b\n1,2\n" {
		t.Errorf("bob's collected data: %q, %v", b, err)
	}
	f, err := os.Open(filepath.Join(dest, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || rows[1][0] != amy || rows[1][1] != "2" || rows[1][4] != "false" {
		t.Errorf("manifest: %v %v", rows, err)
	}

	out = c.classhub("collect", "week2", "--out", filepath.Join(t.TempDir(), "c2"))
	if !strings.Contains(out, amy+": has no folder week2") || !strings.Contains(out, "from 0 of 2") {
		t.Errorf("collect of a folder nobody has:\n%s", out)
	}
	out = c.classhubFails("", "collect", "week1", "--out", dest)
	if !strings.Contains(out, "not empty") {
		t.Errorf("collect into a full folder:\n%s", out)
	}
}

// removeKeptHandouts removes the folders a handout to everyone kept for
// the students of the hub on network.
func removeKeptHandouts(t *testing.T, network string) {
	docker := testenv.Docker(t)
	ctx := context.Background()
	vs, err := docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", spawner.LabelHandoutNetwork+"="+network))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, v := range vs.Volumes {
		if err := docker.VolumeRemove(ctx, v.Name, true); err != nil {
			t.Errorf("cleanup %s: %v", v.Name, err)
		}
	}
}

// TestAdminPageHandsOutAZipAndCollectsOne drives the admin page of a
// running hub: a zip is handed out to a student whose server never
// started, and collecting answers with a zip of their folder and the
// manifest.
func TestAdminPageHandsOutAZipAndCollectsOne(t *testing.T) {
	c := newClassroom(t)
	t.Cleanup(func() { removeKeptHandouts(t, "classhub-e2e-"+c.suffix) })
	amy, teacher := c.user("amy"), c.user("teacher")
	c.addUsers(amy)
	c.classhub("users", "add", teacher, "--admin")
	password := "teacher password 123"
	c.classhubInput(password+"\n", "users", "passwd", teacher)
	c.serve()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Minute, Transport: c.transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, ck := range loginCookies(t, c.base, teacher, password) {
		u, _ := url.Parse(c.base + "/hub/")
		jar.SetCookies(u, []*http.Cookie{ck})
	}
	get := func(path string) string {
		resp, err := client.Get(c.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
		}
		return string(b)
	}
	xsrf := hiddenValue(t, get("/hub/admin/handout"), "_xsrf")

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("week1/intro.ipynb")
	w.Write([]byte(`{"cells": []}`))
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("_xsrf", xsrf)
	fw, _ := mw.CreateFormFile("zip", "week1.zip")
	fw.Write(zbuf.Bytes())
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/hub/admin/handout", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.base)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "1 copied<") || !strings.Contains(string(page), `id="live"`) || !strings.Contains(string(page), `data-user="`+amy+`"`) {
		t.Fatalf("hand out: %s\n%s", resp.Status, page)
	}

	req, _ = http.NewRequest("POST", c.base+"/hub/admin/collect", strings.NewReader(url.Values{"_xsrf": {xsrf}, "dir": {"week1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("collect: %s %v\n%.500s", resp.Status, resp.Header, data)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range zr.File {
		got[f.Name] = true
	}
	if !got["week1/"+amy+"/intro.ipynb"] || !got["week1/manifest.csv"] {
		t.Errorf("the collected zip holds %v", got)
	}
}

// TestAdminPageLiveRowsInChromium hands a zip out to two students from
// the admin page in Chromium, then collects it: each student's row shows
// on the page from the hub's event feed as they are done (recorded as
// they arrive), the hand-out's final page replaces them with every row,
// and the collect's rows show while its zip downloads.
func TestAdminPageLiveRowsInChromium(t *testing.T) {
	c := newClassroom(t)
	t.Cleanup(func() { removeKeptHandouts(t, "classhub-e2e-"+c.suffix) })
	amy, ben, teacher := c.user("amy"), c.user("ben"), c.user("teacher")
	c.addUsers(amy, ben)
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	c.serve()
	hubLogOnFailure(t, c)

	zipPath := filepath.Join(t.TempDir(), "week1.zip")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("week1/intro.ipynb")
	w.Write([]byte(`{"cells": []}`))
	zw.Close()
	if err := os.WriteFile(zipPath, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, c.browserTrust()...)
	tb := b.tab(t, teacher)
	tb.run("open the hand-out page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin/handout"))
	tb.waitPath("the login page comes first", time.Minute, "/hub/login")
	formLogin(tb, teacher, teacherPW, "handout-00-login")
	tb.waitPath("the login leads back to the hand-out page", time.Minute, "/hub/admin/handout")
	// Rows added to the live table are recorded as they come, since the
	// final page replaces the table.
	record := `window.liveRows = []; new MutationObserver(ms => ms.forEach(m => m.addedNodes.forEach(n => {
		if (n.nodeName === "TR" && n.closest("#live-rows")) window.liveRows.push(n.getAttribute("data-user") + ": " + n.textContent.trim());
	}))).observe(document.body, {childList: true, subtree: true}); true`
	eval[bool](tb, record)
	tb.run("choose the zip", time.Minute, chromedp.SetUploadFiles(chromedp.CSS("#zip"), []string{zipPath}))
	tb.click("Hand out", `#handout-form button[type="submit"]`)
	tb.waitJS("the final page shows both rows", 3*time.Minute, fmt.Sprintf(
		`document.querySelector('#handout-results tr[data-user=%q]') !== null && document.querySelector('#handout-results tr[data-user=%q]') !== null`, amy, ben))
	tb.shot("handout-01-done")
	if rows := eval[[]string](tb, `window.liveRows`); len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), amy+": "+amy+"1 copied") || !strings.Contains(strings.Join(rows, "\n"), ben+": "+ben+"1 copied") {
		t.Errorf("live rows while handing out: %q", rows)
	}
	if loc := tb.location(); !strings.HasSuffix(loc, "/hub/admin/handout") {
		t.Errorf("the hand-out left the page for %s", loc)
	}

	// The collect's answer is a download: the page stays and its rows
	// come from the feed.
	eval[bool](tb, record)
	tb.typeInto("#dir", "week1")
	tb.click("Collect and download", `#collect-form button[type="submit"]`)
	tb.waitJS("the collect's rows show", 3*time.Minute, `document.querySelectorAll("#live-rows tbody tr").length === 2 && !document.querySelector("#live").hidden`)
	tb.shot("handout-02-collect")
	if text := eval[string](tb, `document.querySelector("#live-rows").textContent`); !strings.Contains(text, "1 file, 13 B") {
		t.Errorf("the collect's rows: %q", text)
	}
}
