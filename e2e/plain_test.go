package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/image/imagetest"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// noJupyterHub takes jupyterhub out of an image of classhub's: the
// command and the Python package, so only JupyterLab is left.
const noJupyterHub = `set -e
rm -f /usr/bin/jupyterhub*
rm -rf /usr/lib/python3/dist-packages/jupyterhub /usr/lib/python3/dist-packages/jupyterhub-*
! command -v jupyterhub-singleuser`

// plainNotebook is the student's notebook: who runs her kernel.
const plainNotebook = `{"cells": [{"cell_type": "code", "execution_count": null, "id": "uid", "metadata": {}, "outputs": [],
  "source": "import os; os.getuid()"}],
 "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}`

// TestPlainJupyterLab walks a student through a Debian image that has
// JupyterLab and no JupyterHub, which classhub runs as a plain Jupyter
// server behind its own login: she logs in, her server starts, she lands
// in Lab, runs a cell and saves into her work volume. The server's token
// is never in an address she visits, in Lab's page, in her server's log or
// in the hub's; and a classmate, logged in to the hub, cannot reach her
// server.
func TestPlainJupyterLab(t *testing.T) {
	c := newClassroom(t)
	cli := testenv.Docker(t)
	img := imagetest.Derive(t, cli, imagetest.Spec{Base: testenv.RequireLabImage(t, cli), Cmd: []string{"jupyter-lab"}, Script: noJupyterHub})
	c.useImage(img)
	student, other := c.user("plainstudent"), c.user("plainother")
	codes := c.addUsers(student, other)
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t)
	st := b.tab(t, student)
	var urlsMu sync.Mutex
	var urls []string
	if err := chromedp.Listen(st.ctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok {
			urlsMu.Lock()
			urls = append(urls, ev.Request.URL)
			urlsMu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	lab := "/user/" + student + "/lab"

	if !t.Run("student logs in and lands in JupyterLab on a plain server", func(t *testing.T) {
		st.t = t
		st.run("open the hub", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login"))
		setupLogin(st, student, codes[student], "correct horse battery", "plain-00-setup")
		st.waitJS("the hub starts her server or offers to", 5*time.Minute, fmt.Sprintf(
			`location.pathname.startsWith(%q) || location.pathname.startsWith("/hub/spawn-pending/") || document.querySelector('form[action^="/hub/spawn/"] button')`, lab))
		if eval[bool](st, `!!document.querySelector('form[action^="/hub/spawn/"] button')`) {
			st.click("Start", `form[action^="/hub/spawn/"] button`)
		}
		st.waitJS("the start ends in JupyterLab", 5*time.Minute, fmt.Sprintf(`location.pathname.startsWith(%q)`, lab))
		st.waitJS("Lab's launcher shows a Python 3 notebook", 3*time.Minute,
			`[...document.querySelectorAll(".jp-LauncherCard")].some(e => (e.getAttribute("title") || e.textContent).includes("Python 3"))`)
		st.shot("plain-01-launcher")
		info, err := cli.ContainerInspect(context.Background(), spawner.ContainerName(student))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Config.Cmd) == 0 || info.Config.Cmd[0] != "jupyter-lab" {
			t.Errorf("her server is not a plain jupyter-lab: Cmd %q", info.Config.Cmd)
		}
	}) {
		return
	}

	if !t.Run("a cell runs as jovyan and the notebook saves into work", func(t *testing.T) {
		st.t = t
		// Written through the server's contents API as Lab's scripts
		// write: her login for the server is a cookie the page cannot
		// read, which the proxy trades for the server's token.
		labPutNotebook(st, student, "work/uid.ipynb", plainNotebook)
		labOpenNotebook(st, c.base, lab, student, "work/uid.ipynb")
		st.click("the cell", ".jp-Notebook .jp-Cell .cm-content")
		st.run("run the cell", time.Minute, press("Enter", 13, chromedp.ModifierShift))
		st.waitJS("the cell says 1000, jovyan's uid", 2*time.Minute,
			`[...document.querySelectorAll(".jp-Cell .jp-OutputArea-output")].some(e => e.innerText.trim() === "1000")`)
		st.shot("plain-02-cell-ran")
		st.run("save with Ctrl+S", time.Minute, press("s", 83, chromedp.ModifierCtrl))
		labWaitSaved(st, student, "work/uid.ipynb", "1000")
		// In the volume, as the container sees it.
		out, code := dockerExec(t, cli, spawner.ContainerName(student), "cat", "/home/jovyan/work/uid.ipynb")
		if code != 0 || !strings.Contains(out, "1000") {
			t.Errorf("work/uid.ipynb in the volume: %d %.300s", code, out)
		}
	}) {
		return
	}

	t.Run("attack: the server's token shows nowhere, and a classmate cannot reach the server", func(t *testing.T) {
		st.t = t
		info, err := cli.ContainerInspect(context.Background(), spawner.ContainerName(student))
		if err != nil {
			t.Fatal(err)
		}
		var token string
		for _, kv := range info.Config.Env {
			if v, ok := strings.CutPrefix(kv, "JUPYTER_TOKEN="); ok {
				token = v
			}
			if strings.HasPrefix(kv, "JUPYTERHUB_API_TOKEN=") {
				t.Error("the plain server holds a hub API token")
			}
		}
		if len(token) < 32 {
			t.Fatalf("the container's JUPYTER_TOKEN is %q", token)
		}
		urlsMu.Lock()
		visited := append([]string(nil), urls...)
		urlsMu.Unlock()
		if len(visited) < 10 {
			t.Fatalf("only %d requests were seen, so this shows nothing", len(visited))
		}
		for _, u := range visited {
			if strings.Contains(u, token) || strings.Contains(u, "token=") {
				t.Errorf("the browser asked for an address with a token: %s", u)
			}
		}
		st.run("open Lab again", 2*time.Minute, chromedp.Navigate(c.base+lab))
		st.waitJS("Lab loads", 3*time.Minute, `!!document.getElementById("jupyter-config-data")`)
		page := eval[string](st, `document.documentElement.outerHTML`)
		if strings.Contains(page, token) {
			t.Error("Lab's page holds the server's token")
		}
		if cookies := eval[string](st, `document.cookie`); strings.Contains(cookies, "classhub-server-login") {
			t.Errorf("the page's scripts read the login cookie: %q", cookies)
		}
		logs := containerLog(t, cli, spawner.ContainerName(student))
		if !strings.Contains(logs, "Jupyter Server") {
			t.Fatalf("the server's log shows no Jupyter Server, so this shows nothing:\n%s", logs)
		}
		if strings.Contains(logs, token) {
			t.Error("the server's log shows its token")
		}

		// The classmate logs in to the hub and opens her server's address.
		c.classhubInput("another password 123\n", "users", "passwd", other)
		ot := b.tab(t, other)
		ot.run("open the hub's login", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login?next="+url.QueryEscape("/hub/home")))
		formLogin(ot, other, "another password 123", "plain-03-other-login")
		ot.run("open her server's address", 2*time.Minute, chromedp.Navigate(c.base+lab))
		ot.waitJS("the hub says no", 2*time.Minute, `document.readyState === "complete" && document.body.innerText.includes("may not use")`)
		ot.shot("plain-04-other-refused")
		if eval[bool](ot, `!!document.getElementById("jupyter-config-data")`) {
			t.Error("the classmate sees JupyterLab")
		}
		// Nor does her origin answer his scripts' requests.
		origin := c.origin(student)
		status := eval[int](ot, fmt.Sprintf(`fetch(%q, {credentials: "include"}).then(r => r.status, () => 0)`, origin+"/user/"+student+"/api/contents/work"),
			chromedp.EvalAwaitPromise)
		if status == 200 {
			t.Error("the classmate's page read her files")
		}

		proc := c.proc
		c.stop(syscall.SIGTERM)
		hubLog, _ := proc.Stdout.(*bytes.Buffer)
		if hubLog == nil || !strings.Contains(hubLog.String(), "serving") {
			t.Fatal("no hub log to read")
		}
		if strings.Contains(hubLog.String(), token) {
			t.Error("the hub's log shows the server's token")
		}
	})
}
