package web

import (
	"net/http"
	"strings"
	"testing"
)

// alicesLog is what a student's server can print: markup meant to run on
// the instructor's page, and an attempt to close the <pre> it is shown in.
const alicesLog = `[I 10:00:00 ServerApp] Jupyter Server is running
</pre><script>fetch("/hub/api/users/alice",{method:"PATCH",body:'{"admin":true}'})</script>
<img src=x onerror="alert(document.cookie)"><a href="javascript:alert(1)">click</a>
`

func TestAdminReadsAStudentsServerLogAsText(t *testing.T) {
	e, root := adminEnv(t)
	e.spawner.SetLogs("alice", alicesLog)
	e.start("alice")
	p := root.get("/hub/admin/logs/alice")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "alice&#39;s server log", "Jupyter Server is running",
		`&lt;/pre&gt;&lt;script&gt;fetch(&#34;/hub/api/users/alice&#34;`, `&lt;img src=x onerror=&#34;alert(document.cookie)&#34;&gt;`)
	wantNoBody(t, p, "<script>fetch", "<img src=x", `<a href="javascript:`, "</pre><script>")
	// Only the page's own script may run, whatever got through.
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the log page's headers: CSP %q, X-Frame-Options %q", csp, p.Header.Get("X-Frame-Options"))
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.Header.Get("Cache-Control"))
	}
	// The admin page itself shows no log.
	wantNoBody(t, root.get("/hub/admin"), "Jupyter Server is running")

	// A server that printed nothing, and a user that does not exist.
	wantBody(t, root.get("/hub/admin/logs/bob"), "The server has written nothing yet.")
	wantStatus(t, root.get("/hub/admin/logs/nobody"), http.StatusNotFound)
}

func TestAdminReadsTheHubsLogAsText(t *testing.T) {
	e, root := adminEnv(t)
	e.web.hubLog = func(tail int) (string, error) {
		if tail != logTail {
			t.Errorf("the hub log page asked for %d lines", tail)
		}
		return `time=10:00 level=INFO msg="the hub is open" user="<b>mallory</b>"` + "\n", nil
	}
	p := root.get("/hub/admin/hub-log")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "The hub&#39;s log", "the hub is open", "&lt;b&gt;mallory&lt;/b&gt;")
	wantNoBody(t, p, "<b>mallory")
	e.web.hubLog = nil
	wantBody(t, root.get("/hub/admin/hub-log"), "This hub keeps no log file")
}

func TestStudentsReadNoServerLogNorTheHubs(t *testing.T) {
	e, _ := adminEnv(t)
	e.spawner.SetLogs("alice", alicesLog)
	e.spawner.SetLogs("bob", "bob's secret output\n")
	e.web.hubLog = func(int) (string, error) { return "the hub's own line\n", nil }
	e.start("alice")
	e.start("bob")
	alice := e.loggedIn("alice")
	for _, target := range []string{"/hub/admin/logs/bob", "/hub/admin/logs/alice", "/hub/admin/hub-log"} {
		p := alice.get(target)
		wantStatus(t, p, http.StatusForbidden)
		wantNoBody(t, p, "bob's secret output", "Jupyter Server is running", "the hub's own line")
	}
	// Logged out: the login page, and nothing of the logs.
	for _, target := range []string{"/hub/admin/logs/bob", "/hub/admin/hub-log"} {
		p := e.client().get(target)
		wantStatus(t, p, http.StatusFound)
		wantNoBody(t, p, "bob's secret output", "the hub's own line")
	}
}
