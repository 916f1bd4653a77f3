package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/tlscert"
)

// progressRecorder runs in every page of the student's tab. On the spawn
// progress page it writes each state of the progress bar and message to
// the tab's window.name, which outlives the page's own move to the
// notebook (on its own origin, where the hub origin's sessionStorage is not
// readable; browsers keep window.name across same-site navigations), so
// the test can see afterwards how the bar moved however fast it went.
const progressRecorder = `(function () {
  if (!location.pathname.startsWith("/hub/spawn-pending/")) return;
  function record() {
    var bar = document.getElementById("progress-bar");
    var msg = document.getElementById("progress-message");
    if (!bar) return;
    var seen = JSON.parse(window.name || "[]");
    var now = {value: bar.value, message: msg ? msg.textContent : ""};
    var last = seen[seen.length - 1];
    if (!last || last.value !== now.value || last.message !== now.message) {
      seen.push(now);
      window.name = JSON.stringify(seen);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    record();
    var root = document.getElementById("spawn");
    if (root) new MutationObserver(record).observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
  });
})();`

// progressState is one recorded state of the progress page.
type progressState struct {
	Value   float64 `json:"value"`
	Message string  `json:"message"`
}

// TestBrowser walks the classroom in Chromium: a pre-created student logs
// in for the first time, watches her server start, runs `!hostname` and
// `!whoami` in a new notebook, stops and starts her server and finds the
// notebook again; an instructor imports a roster and starts everyone from
// the admin page. Each step leaves a screenshot in the artifacts folder.
func TestBrowser(t *testing.T) { walkClassroom(t, newClassroom(t)) }

// walkClassroom is TestBrowser's walk through c, whatever runs its servers.
func walkClassroom(t *testing.T, c *classroom) {
	c.useHTTPS()
	student, teacher := c.user("student"), c.user("teacher")
	code := c.addUsers(student)[student]
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	adminTok := c.token(teacher)
	// The machine is shared and two cores: a server that takes minutes to
	// answer is slow, not broken, and this test is about the pages.
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t, c.browserTrust()...)
	const password = "correct horse battery"

	var notebook string // work/Untitled.ipynb, as the notebook UI named it
	st := b.tab(t, student)
	st.onEveryPage(progressRecorder)

	if !t.Run("student logs in for the first time", func(t *testing.T) {
		st.t = t
		st.run("open the page that says how to check the certificate", 2*time.Minute, chromedp.Navigate(c.base+"/hub/certificate"))
		st.waitJS("it shows the authority's fingerprint and offers it for download", time.Minute, fmt.Sprintf(
			`document.querySelector("#fingerprint").textContent.replace(/\s/g, "").includes(%q) && document.querySelector('a[href="/hub/ca.crt"]')`,
			tlscert.Fingerprint(c.ca.Raw)))
		st.shot("00-certificate")
		st.run("open her notebook's address", 2*time.Minute, chromedp.Navigate(c.base+"/user/"+student+"/tree"))
		st.waitPath("the browser is sent to the login page", time.Minute, "/hub/login")
		st.shot("01-student-login")
		st.waitJS("the login page is HTTPS and shows the authority's fingerprint", time.Minute, fmt.Sprintf(
			`location.protocol === "https:" && document.querySelector("#fingerprint").textContent.includes(%q)`, tlscert.Fingerprint(c.ca.Raw)))
		setupLogin(st, student, code, password, "02-student-first-login")
		cookies, err := chromedp.Call(st.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base + "/hub/"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, ck := range cookies.Cookies {
			if !ck.Secure {
				t.Errorf("the browser keeps cookie %s without Secure", ck.Name)
			}
		}
		if len(cookies.Cookies) == 0 {
			t.Error("the browser keeps no cookie for the hub after logging in")
		}
	}) {
		return
	}

	if !t.Run("student starts her server and watches the progress", func(t *testing.T) {
		st.t = t
		st.waitJS("the hub offers to start her server", time.Minute, `document.querySelector('form[action^="/hub/spawn/"] button')`)
		st.shot("03-student-server-not-running")
		startAndFollow(st, student, `form[action^="/hub/spawn/"] button`, "04-student-spawn-pending")
		seen := recordedProgress(st)
		t.Logf("the progress page showed: %+v", seen)
		if len(seen) == 0 {
			t.Fatalf("the browser went to the notebook without ever showing the progress page")
		}
		if len(seen) < 2 {
			t.Errorf("the progress bar and message never changed on the page: %+v", seen)
		}
		last := seen[len(seen)-1]
		if last.Value != 100 {
			t.Errorf("the progress bar ended at %v, want 100 before the page moved on: %+v", last.Value, seen)
		}
		// seen[0] is the state the hub rendered; the stream then replays
		// the start from its first step, so only from there on must the
		// bar only grow.
		if len(seen) > 1 && seen[1].Value < seen[0].Value {
			t.Logf("note: the bar jumped back from %v (rendered) to %v when the stream replayed the start", seen[0].Value, seen[1].Value)
		}
		for i := 2; i < len(seen); i++ {
			if seen[i].Value < seen[i-1].Value {
				t.Errorf("the progress bar went back from %v to %v: %+v", seen[i-1].Value, seen[i].Value, seen)
			}
		}
		st.waitJS("the classic notebook tree lists her work folder", time.Minute,
			`[...document.querySelectorAll("#notebook_list .item_name")].some(e => e.textContent.trim() === "work")`)
		st.shot("05-student-tree")
		// Over HTTPS the proxy says X-Forwarded-Proto: https, so the
		// singleuser server's login cookie is Secure too.
		cookies, err := chromedp.Call(st.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base + "/user/" + student + "/"}})
		if err != nil {
			t.Fatal(err)
		}
		var serverCookie bool
		for _, ck := range cookies.Cookies {
			if strings.HasPrefix(ck.Name, "jupyterhub-user-") {
				serverCookie = true
				if !ck.Secure {
					t.Errorf("the notebook server's cookie %s is not Secure", ck.Name)
				}
			}
		}
		if !serverCookie {
			t.Errorf("no jupyterhub-user- cookie for her server among %d", len(cookies.Cookies))
		}
	}) {
		return
	}

	if !t.Run("student runs hostname and whoami in a new notebook", func(t *testing.T) {
		st.t = t
		st.run("open the work folder", 2*time.Minute, chromedp.Navigate(c.base+"/user/"+student+"/tree/work"))
		st.waitJS("the tree's New menu lists Python 3", time.Minute, `document.querySelector("#kernel-python3 a")`)
		st.click("New", "#new-dropdown-button")
		opened := chromedp.WaitNewTarget(st.ctx, func(info *target.Info) bool {
			return strings.Contains(info.URL, "/user/"+student+"/notebooks/")
		})
		st.click("New → Python 3", "#kernel-python3 a")
		var id target.ID
		select {
		case id = <-opened:
		case <-time.After(2 * time.Minute):
			st.fatalf("New → Python 3 opened no window with a notebook")
		}
		nctx, closeNotebook := chromedp.NewContext(st.ctx, chromedp.WithTargetID(id))
		defer closeNotebook()
		nb := st.child(t, nctx)
		nb.waitPath("the new window shows a notebook", time.Minute, "/user/"+student+"/notebooks/work/")
		loc, _ := url.Parse(nb.location())
		notebook = strings.TrimPrefix(loc.Path, "/user/"+student+"/notebooks/")
		t.Logf("the notebook UI created %s", notebook)
		nb.waitJS("the kernel connects", 2*time.Minute,
			`window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()`)

		nb.click("the first cell", ".cell.code_cell .CodeMirror-code")
		nb.run("type the cell", time.Minute,
			chromedp.KeyEvent("!hostname"), press("Enter", 13), chromedp.KeyEvent("!whoami"))
		if got := eval[string](nb, `Jupyter.notebook.get_cell(0).get_text()`); got != "!hostname\n!whoami" {
			nb.fatalf("the cell holds %q after typing, want %q", got, "!hostname\n!whoami")
		}
		nb.run("run the cell with Shift+Enter", time.Minute, press("Enter", 13, chromedp.ModifierShift))
		nb.waitJS("the cell prints jovyan", 2*time.Minute,
			`(document.querySelector(".code_cell .output_area") || {innerText: ""}).innerText.includes("jovyan")`)
		out := strings.Fields(eval[string](nb, `document.querySelector(".code_cell .output_area").innerText`))
		if want := []string{spawner.ContainerName(student), "jovyan"}; strings.Join(out, " ") != strings.Join(want, " ") {
			nb.fatalf("the cell printed %q, want %q (her container's hostname, then jovyan)", out, want)
		}

		// The run is over when the prompt has its number and the kernel
		// is idle; a save before that is made dirty again by the reply.
		nb.waitJS("the run finishes", 2*time.Minute,
			`Jupyter.notebook.get_cell(0).input_prompt_number === 1 && document.querySelector("#kernel_indicator_icon.kernel_idle_icon")`)
		nb.click("Save", `button[data-jupyter-action="jupyter-notebook:save-notebook"]`)
		nb.waitJS("the notebook is saved", time.Minute, `Jupyter.notebook.dirty === false && Jupyter.notebook.last_modified`)
		// What the server wrote, read back with her cookie as the page's
		// own scripts do.
		saved := eval[string](nb, fmt.Sprintf(`(async () => { const r = await fetch(%q); return r.ok ? JSON.stringify((await r.json()).content.cells) : r.status + " " + r.statusText; })()`,
			"/user/"+student+"/api/contents/"+notebook), chromedp.EvalAwaitPromise)
		if !strings.Contains(saved, "jovyan") {
			nb.fatalf("after saving, the server's copy of %s has no output with jovyan: %.500s", notebook, saved)
		}
		nb.shot("06-student-notebook-ran")
	}) {
		return
	}

	if !t.Run("student stops and starts her server and finds the notebook", func(t *testing.T) {
		st.t = t
		st.run("open the hub's home page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/home"))
		st.waitJS("home offers to stop her running server", time.Minute, `document.querySelector('button[name="action"][value="stop"]')`)
		st.shot("07-student-home-running")
		st.click("Stop my server", `button[name="action"][value="stop"]`)
		st.waitJS("home says the server stopped", 2*time.Minute,
			`location.pathname === "/hub/home" && location.search.includes("stopped") && document.querySelector('form[action^="/hub/spawn/"] button')`)
		st.shot("08-student-home-stopped")
		if serverReady(t, c, adminTok, student) {
			st.fatalf("the REST API says her server is still ready after Stop")
		}

		startAndFollow(st, student, `form[action^="/hub/spawn/"] button`, "09-student-spawn-pending-again")
		t.Logf("the progress page of the second start showed: %+v", recordedProgress(st))

		st.run("open the work folder", 2*time.Minute, chromedp.Navigate(c.base+"/user/"+student+"/tree/work"))
		name := filepath.Base(notebook)
		st.waitJS("the work folder lists "+name, time.Minute, fmt.Sprintf(
			`[...document.querySelectorAll("#notebook_list .item_name")].some(e => e.textContent.trim() === %q)`, name))
		st.shot("10-student-tree-after-restart")

		st.run("open the notebook", 2*time.Minute, chromedp.Navigate(c.base+"/user/"+student+"/notebooks/"+notebook))
		st.waitJS("the notebook shows the saved output", 2*time.Minute,
			`window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded && `+
				`(document.querySelector(".code_cell .output_area") || {innerText: ""}).innerText.includes("jovyan")`)
		st.shot("11-student-notebook-after-restart")
	}) {
		return
	}

	if !t.Run("student logs in again while her server runs", func(t *testing.T) {
		st.t = t
		st.run("log out", 2*time.Minute, chromedp.Navigate(c.base+"/hub/logout"))
		st.waitPath("logging out leads to the login page", time.Minute, "/hub/login")
		// The login form's redirects end on her server's own origin.
		st.run("open the login page for her notebook", 2*time.Minute,
			chromedp.Navigate(c.base+"/hub/login?next="+url.QueryEscape("/user/"+student+"/tree")))
		st.typeInto("#username", student)
		st.typeInto("#password", password)
		st.click("Log in", `form[action^="/hub/login"] button[type="submit"]`)
		st.formLeadsTo("the login takes her to her running notebook", 2*time.Minute, "/user/"+student+"/tree")
		st.shot("11b-student-login-to-running-server")

		// A page on her server's origin, which shares the hub's host, can
		// neither replace the hub's login cookie nor shadow it for a path.
		eval[string](st, `document.cookie = "__Host-jupyterhub-hub-login=planted; Secure; Path=/";
			document.cookie = "jupyterhub-hub-login=planted; Secure; Path=/hub/home"; document.cookie`)
		st.run("open the hub's home page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/home"))
		st.waitJS("the home page greets her, logged in as herself", time.Minute, fmt.Sprintf(
			`location.pathname === "/hub/home" && (document.querySelector(".who") || {}).textContent === %q`, student))
		cookies, err := chromedp.Call(st.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base + "/hub/home"}})
		if err != nil {
			t.Fatal(err)
		}
		var login bool
		for _, ck := range cookies.Cookies {
			if ck.Name == "__Host-jupyterhub-hub-login" {
				login = ck.Value != "planted"
			}
			if ck.Name == "__Host-jupyterhub-hub-login" && (ck.Path != "/" || !ck.Secure || !ck.HTTPOnly || ck.Domain != strings.Split(c.listen, ":")[0]) {
				t.Errorf("the login cookie over HTTPS is at path %s, domain %s, Secure %v, HttpOnly %v; want /, host-only, Secure, HttpOnly",
					ck.Path, ck.Domain, ck.Secure, ck.HTTPOnly)
			}
		}
		if !login {
			t.Errorf("the browser holds no __Host-jupyterhub-hub-login of the hub's after her page tried to plant one: %+v", cookies.Cookies)
		}
	}) {
		return
	}

	t.Run("instructor imports a roster and starts everyone", func(t *testing.T) {
		tt := b.tab(t, teacher)
		tt.run("open the admin page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin"))
		tt.waitPath("the browser is sent to the login page", time.Minute, "/hub/login")
		formLogin(tt, teacher, teacherPW, "12-teacher-login")
		tt.waitPath("the login leads back to the admin page", time.Minute, "/hub/admin")
		tt.waitJS("the admin page lists users", time.Minute, `document.querySelector("#users")`)
		tt.shot("13-teacher-admin")

		names := []string{c.user("roster1"), c.user("roster2"), c.user("roster3")}
		csv := filepath.Join(t.TempDir(), "roster.csv")
		if err := os.WriteFile(csv, []byte("username,password\n"+strings.Join(names, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tt.run("choose the roster file", time.Minute, chromedp.SetUploadFiles(chromedp.CSS("#roster"), []string{csv}))
		tt.click("Generate passwords", `input[name="generate"]`)
		tt.click("Import", `form[action="/hub/admin/import"] button[type="submit"]`)
		tt.waitJS("the import result lists the users", time.Minute, `document.querySelector("#imported")`)
		var rows []struct{ Name, Password string }
		raw := eval[string](tt, `JSON.stringify([...document.querySelectorAll("#imported tbody tr")].map(tr => ({
			name: tr.querySelector("th").textContent.trim(),
			password: (tr.querySelector("code.password") || {textContent: ""}).textContent.trim()})))`)
		if err := json.Unmarshal([]byte(raw), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(names) {
			tt.fatalf("the import lists %d users, want %d: %+v", len(rows), len(names), rows)
		}
		for i, r := range rows {
			if r.Name != names[i] || len(r.Password) < 8 {
				tt.fatalf("import row %d is %+v, want %s with a generated password", i, r, names[i])
			}
		}
		tt.waitJS("the page offers the passwords as a download", time.Second*10, `document.querySelector('a[download][href^="data:text/csv"]')`)
		tt.shot("14-teacher-roster-imported")

		tt.click("Back to the admin page", `a.button[href="/hub/admin"]`)
		tt.waitPath("back on the admin page", time.Minute, "/hub/admin")
		tt.typeInto("#q", "roster")
		tt.click("Find", `form[role="search"] button[type="submit"]`)
		tt.waitJS("the admin page lists the roster, stopped", time.Minute, fmt.Sprintf(
			`location.search.includes("q=roster") && document.querySelectorAll('#users tr[data-user][data-state="stopped"]').length === %d`, len(names)))
		tt.shot("15-teacher-admin-roster")

		tt.click("Start all", `button[value="start-all"]`)
		tt.waitJS("the status line says the servers are asked to start", 3*time.Minute,
			`document.querySelector("#admin-status").textContent.includes("start")`)
		tt.shot("16-teacher-start-all")
		tt.waitJS("every listed server is running (or one failed)", 5*time.Minute, fmt.Sprintf(
			`document.querySelectorAll('#users tr[data-user][data-state="running"]').length === %d || document.querySelector('#users tr[data-state="failed"]')`, len(names)))
		if why := eval[string](tt, `[...document.querySelectorAll('#users tr[data-state="failed"]')].map(tr => tr.dataset.user + ": " + (tr.querySelector("details") || {textContent: "(no reason shown)"}).textContent.trim()).join("\n")`); why != "" {
			tt.fatalf("Start all failed to start servers; the admin page says why:\n%s", why)
		}
		if status := eval[string](tt, `document.querySelector("#admin-status").textContent`); strings.Contains(status, "failed") {
			tt.fatalf("Start all reports failures: %s", status)
		}
		tt.shot("17-teacher-all-running")
		for _, n := range names {
			if !serverReady(t, c, adminTok, n) {
				tt.fatalf("the admin page shows %s running, but the REST API says the server is not ready", n)
			}
		}

		// Opening a student's server asks for consent, and Allow ends in
		// the server, on its own origin.
		tt.click("Open next to "+names[0], fmt.Sprintf(`a[data-key="open:%s"]`, names[0]))
		openThroughConsent(tt, names[0], "18-teacher-consent")
		tt.shot("19-teacher-in-students-server")

		// The passwords the page showed are the ones that work.
		landed := passwordLogin(t, c, rows[0].Name, rows[0].Password)
		if want := "/user/" + rows[0].Name + "/tree"; !strings.HasPrefix(landed, want) {
			t.Errorf("%s logging in with the generated password ends at %s, want their notebook at %s", rows[0].Name, landed, want)
		}
	})
}

// setupLogin is the first login of a student an instructor created: from
// the login page to the setup page, where the setup code the instructor
// handed out lets them choose their password.
func setupLogin(tb *tab, name, code, password, shot string) {
	tb.t.Helper()
	tb.click("Set up your account", "#setup-link")
	tb.waitPath("the setup page opens", time.Minute, "/hub/setup")
	tb.typeInto("#username", name)
	tb.typeInto("#code", code)
	tb.typeInto("#password", password)
	tb.typeInto("#confirm", password)
	tb.shot(shot)
	tb.click("Set my password", `form[action^="/hub/setup"] button[type="submit"]`)
	tb.waitJS("the setup is done", time.Minute, `!location.pathname.startsWith("/hub/setup")`)
}

// formLogin logs in with the login form.
func formLogin(tb *tab, name, password, shot string) {
	tb.t.Helper()
	tb.typeInto("#username", name)
	tb.typeInto("#password", password)
	tb.shot(shot)
	tb.click("Log in", `form[action^="/hub/login"] button[type="submit"]`)
	tb.waitJS("the login is done", time.Minute, `!location.pathname.startsWith("/hub/login")`)
}

// startAndFollow clicks a start button and follows the browser to the
// notebook tree, taking a screenshot of the progress page if it shows.
func startAndFollow(tb *tab, name, button, shot string) {
	tb.t.Helper()
	tb.run("forget the last start's progress", time.Minute, chromedp.Evaluate[chromedp.Void](`window.name = ""`))
	tb.click("Start", button)
	tree := "/user/" + name + "/tree"
	tb.waitJS("the start leads to the progress page or the notebook", 3*time.Minute, fmt.Sprintf(
		`document.readyState !== "loading" && (location.pathname.startsWith("/hub/spawn-pending/") || location.pathname.startsWith(%q))`, tree))
	if loc := tb.location(); strings.Contains(loc, "/hub/spawn-pending/") {
		// Show the steps as they come in, as a curious student would, and
		// give the stream a moment to list a few. The page moves on by
		// itself, perhaps while the screenshot is taken; the log says so
		// when the screenshot shows the next page.
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#spawn details summary")))
		cancel()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`location.pathname.startsWith("/hub/spawn-pending/") ? document.querySelectorAll("#progress-log li").length : -1`))
			cancel()
			if err != nil || n < 0 || n >= 4 {
				break
			}
		}
		file := filepath.Join(tb.b.artifacts, shot+".png")
		if err := tb.screenshot(file); err != nil {
			tb.t.Logf("%s: no screenshot of the progress page: %v", tb.who, err)
		} else if after := tb.location(); after != loc {
			tb.t.Logf("%s: screenshot %s was taken while the page moved on to %s", tb.who, file, after)
		} else {
			tb.t.Logf("%s: screenshot %s of %s", tb.who, file, loc)
		}
	}
	tb.waitJS("the progress page moves on to the notebook by itself", 5*time.Minute, fmt.Sprintf(
		`document.readyState !== "loading" && location.pathname.startsWith(%q) || document.querySelector("#spawn-failed:not([hidden])")`, tree))
	if failed := eval[string](tb, `(document.querySelector("#spawn-failed:not([hidden])") || {textContent: ""}).textContent`); failed != "" {
		tb.fatalf("the progress page says the start failed: %s", failed)
	}
}

// recordedProgress is what progressRecorder saw on the last progress page.
func recordedProgress(tb *tab) []progressState {
	tb.t.Helper()
	raw := eval[string](tb, `window.name || "[]"`)
	var seen []progressState
	if err := json.Unmarshal([]byte(raw), &seen); err != nil {
		tb.fatalf("progress record %q: %v", raw, err)
	}
	return seen
}

// serverReady asks the REST API whether name's server is ready.
func serverReady(t *testing.T, c *classroom, token, name string) bool {
	t.Helper()
	resp, body := c.do("GET", "/hub/api/users/"+url.PathEscape(name), token, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET user %s: %s %s", name, resp.Status, body)
	}
	var u struct {
		Servers map[string]struct {
			Ready bool `json:"ready"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatalf("user model of %s: %v", name, err)
	}
	return u.Servers[""].Ready
}

// passwordLogin logs name in with a plain HTTP client and a cookie jar,
// and returns the path the browser would end at.
func passwordLogin(t *testing.T, c *classroom, name, password string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute, Transport: c.transport()}
	resp, err := client.Get(c.base + "/hub/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	form := url.Values{"username": {name}, "password": {password}, "_xsrf": {hiddenValue(t, string(page), "_xsrf")}}
	req, _ := http.NewRequestWithContext(ctx, "POST", c.base+"/hub/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("log in as %s: %v", name, err)
	}
	defer resp.Body.Close()
	return resp.Request.URL.Path
}
