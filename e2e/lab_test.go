package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// labNotebook is what the student runs: a matplotlib plot, who she is, and
// where her kernel's Python lives.
const labNotebook = `{"cells": [{"cell_type": "code", "execution_count": null, "id": "plot", "metadata": {}, "outputs": [],
  "source": "import sys\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\nprint(sys.prefix)\n!whoami"},
 {"cell_type": "code", "execution_count": null, "id": "pip", "metadata": {}, "outputs": [],
  "source": "%pip install --index-url http://127.0.0.1:9/simple --retries 0 --timeout 2 classhub-offline-check"}],
 "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}`

// TestJupyterLab walks a student through JupyterLab 4 served by the real
// jupyterhub-singleuser 5.2 behind classhub: her first login, the start,
// Lab's launcher, a notebook that plots with matplotlib and prints whoami,
// %pip going to a virtual environment in her work volume (and failing
// offline with pip's own message), saving, and Lab's way back to the hub's
// control panel.
func TestJupyterLab(t *testing.T) {
	c := newClassroom(t)
	// The default image (`classhub image build`): JupyterLab 4 and the
	// scientific stack with jupyterhub-singleuser 5.2.
	c.useImage(testenv.RequireLabImage(t, testenv.Docker(t)))
	student := c.user("labstudent")
	code := c.addUsers(student)[student]
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t)
	st := b.tab(t, student)
	lab := "/user/" + student + "/lab"

	if !t.Run("student logs in and her server starts in JupyterLab", func(t *testing.T) {
		st.t = t
		st.run("open the hub", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login"))
		setupLogin(st, student, code, "correct horse battery", "lab-00-setup")
		// Logging in with no page to go back to starts her server, as
		// JupyterHub's does; a start button is clicked if the hub shows one.
		st.waitJS("the hub starts her server or offers to", 5*time.Minute, fmt.Sprintf(
			`location.pathname.startsWith(%q) || location.pathname.startsWith("/hub/spawn-pending/") || document.querySelector('form[action^="/hub/spawn/"] button')`, lab))
		if eval[bool](st, `!!document.querySelector('form[action^="/hub/spawn/"] button')`) {
			st.click("Start", `form[action^="/hub/spawn/"] button`)
		}
		st.waitJS("the start ends in JupyterLab", 5*time.Minute, fmt.Sprintf(`location.pathname.startsWith(%q)`, lab))
		st.waitJS("Lab's launcher shows a Python 3 notebook", 3*time.Minute,
			`[...document.querySelectorAll(".jp-LauncherCard")].some(e => (e.getAttribute("title") || e.textContent).includes("Python 3"))`)
		st.shot("lab-01-launcher")
		// jupyterhub-singleuser 5.2 checked the hub's version against its
		// own when it started; the hub answered with its image's.
		logs := containerLog(t, testenv.Docker(t), spawner.ContainerName(student))
		if !strings.Contains(logs, "jupyterhub single-user server extension version 5.") {
			t.Errorf("her server is not jupyterhub-singleuser 5; its log:\n%s", logs)
		}
		if strings.Contains(logs, "could cause failure to authenticate") {
			t.Errorf("jupyterhub-singleuser warns that the hub's version differs from its own; its log:\n%s", logs)
		}
	}) {
		return
	}

	if !t.Run("a notebook plots, says who runs it, and pip goes to her volume", func(t *testing.T) {
		st.t = t
		labPutNotebook(st, student, "work/plot.ipynb", labNotebook)
		labOpenNotebook(st, c.base, lab, student, "work/plot.ipynb")
		st.click("the first cell", ".jp-Notebook .jp-Cell .cm-content")
		st.run("run both cells", time.Minute, press("Enter", 13, chromedp.ModifierShift))
		st.waitJS("the plot renders", 3*time.Minute, `document.querySelector(".jp-Cell .jp-OutputArea-output img[src^='data:image/png']")`)
		st.waitJS("the cell prints jovyan and the venv", 2*time.Minute,
			`(document.querySelector(".jp-Cell .jp-OutputArea") || {innerText: ""}).innerText.includes("jovyan")`)
		out := eval[string](st, `document.querySelector(".jp-Cell .jp-OutputArea").innerText`)
		if !strings.Contains(out, "/home/jovyan/work/.venv") {
			st.fatalf("the kernel's Python is not the venv in her work volume; the cell printed %q", out)
		}
		st.run("run the pip cell", time.Minute, press("Enter", 13, chromedp.ModifierShift))
		st.waitJS("pip says it found nothing to install", 2*time.Minute,
			`[...document.querySelectorAll(".jp-Cell")][1] && [...document.querySelectorAll(".jp-Cell")][1].innerText.includes("No matching distribution found for classhub-offline-check")`)
		st.shot("lab-02-notebook-ran")
		st.run("save with Ctrl+S", time.Minute, press("s", 83, chromedp.ModifierCtrl))
		labWaitSaved(st, student, "work/plot.ipynb", "image/png")
	}) {
		return
	}

	t.Run("Lab's Hub Control Panel opens the hub", func(t *testing.T) {
		st.t = t
		st.click("the File menu", `.lm-MenuBar-item[role="menuitem"]`)
		st.waitJS("File lists Hub Control Panel", time.Minute,
			`document.querySelector('.lm-Menu-item[data-command="hub:control-panel"]')`)
		st.shot("lab-03-file-menu")
		// The item runs window.open(hubHost + hubPrefix + "home"); Lab's
		// page config says where that is, and from her server's origin the
		// address must lead to the hub's control panel. (A window that
		// Lab opens from headless Chromium's menu was not observable here,
		// so the test follows the same address in her tab.)
		cfg := eval[string](st, `document.getElementById("jupyter-config-data").textContent`)
		if !strings.Contains(cfg, `"hubPrefix": "/hub/"`) && !strings.Contains(cfg, `"hubPrefix":"/hub/"`) {
			st.fatalf("Lab's page config has no hubPrefix /hub/: %.300s", cfg)
		}
		st.run("press Escape to close the menu", time.Minute, press("Escape", 27))
		st.run("follow the control panel's address from her server's origin", time.Minute,
			chromedp.Evaluate[chromedp.Void](`location.assign("/hub/home")`))
		st.waitJS("the hub's control panel shows, on the hub's origin", time.Minute, fmt.Sprintf(
			`location.origin === %q && location.pathname === "/hub/home" && document.readyState === "complete"`, c.base))
		st.shot("lab-04-control-panel")
	})
}
