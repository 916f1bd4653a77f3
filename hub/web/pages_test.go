package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
)

func TestHome(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	wantRedirect(t, e.client().get("/hub/home"), http.StatusFound, "/hub/login?next=%2Fhub%2Fhome")
	c := e.loggedIn("alice")

	p := c.get("/hub/home")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Hello, alice", "Stopped", `action="/hub/spawn/alice"`, "Start my server", `aria-current="page"`)
	wantNoBody(t, p, "Open my notebook", `href="/hub/admin"`)

	e.start("alice")
	p = c.get("/hub/home")
	wantBody(t, p, "Running", `href="/user/alice/"`, "Open my notebook", `name="action" value="stop"`)

	// Stopping is a form with the session's token.
	wantStatus(t, c.post("/hub/home", url.Values{"action": {"stop"}}), http.StatusForbidden)
	wantStatus(t, c.post("/hub/home", url.Values{"action": {"stop"}, "_xsrf": {"forged"}}), http.StatusForbidden)
	if s, _ := e.hub.Status(context.Background(), "alice"); !s.Ready {
		t.Fatal("a forged form stopped the server")
	}
	wantRedirect(t, c.post("/hub/home", url.Values{"action": {"stop"}, "_xsrf": {p.xsrf(t)}}), http.StatusSeeOther, "/hub/home?stopped=1")
	if s, _ := e.hub.Status(context.Background(), "alice"); s.Ready {
		t.Fatal("the server still runs")
	}
	wantBody(t, c.get("/hub/home?stopped=1"), "Your server is stopped", "Start my server")
	wantStatus(t, c.post("/hub/home", url.Values{"action": {"explode"}, "_xsrf": {p.xsrf(t)}}), http.StatusBadRequest)

	// A failed start says why.
	e.spawner.FailWith("alice", errBoom)
	e.hub.Start(context.Background(), "alice")
	e.waitReady("alice")
	wantBody(t, c.get("/hub/home"), "Start failed", "The last start failed: the image classhub/notebook:latest is not in the Docker engine")

	e.addUser("root", "root-password", true)
	wantBody(t, e.loggedIn("root").get("/hub/home"), `href="/hub/admin"`)
}

func TestSpawn(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	wantRedirect(t, e.client().get("/hub/spawn/alice"), http.StatusFound, "/hub/login?next=%2Fhub%2Fspawn%2Falice")

	// A quick start goes straight to the server, or to next.
	wantRedirect(t, c.get("/hub/spawn"), http.StatusFound, "/user/alice/")
	if n := e.spawner.Starts("alice"); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
	wantRedirect(t, c.get("/hub/spawn/alice?next=%2Fuser%2Falice%2Flab"), http.StatusFound, "/user/alice/lab")
	wantRedirect(t, c.get("/hub/spawn/alice?next=https%3A%2F%2Fevil.example%2F"), http.StatusFound, "/user/alice/")
	if n := e.spawner.Starts("alice"); n != 1 {
		t.Fatalf("a running server was started again: %d starts", n)
	}
}

func TestSpawnSlowGoesToProgress(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	release := e.spawner.Hold("alice")
	defer release()
	e.web.spawnWait = 0
	wantRedirect(t, c.get("/hub/spawn/alice?next=%2Fuser%2Falice%2Flab"), http.StatusFound,
		"/hub/spawn-pending/alice?next=%2Fuser%2Falice%2Flab")
	e.waitPending("alice")
	// Asking again while it starts does not start it twice.
	wantRedirect(t, c.get("/hub/spawn/alice"), http.StatusFound, "/hub/spawn-pending/alice")
	release()
	e.waitReady("alice")
	if n := e.spawner.Starts("alice"); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
	wantRedirect(t, c.get("/hub/spawn-pending/alice?next=%2Fuser%2Falice%2Flab"), http.StatusFound, "/user/alice/lab")
	wantRedirect(t, c.get("/hub/spawn-pending/alice"), http.StatusFound, "/user/alice/")
}

func TestSpawnFailure(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	e.spawner.FailWith("alice", errBoom)
	p := c.get("/hub/spawn/alice")
	wantStatus(t, p, http.StatusInternalServerError)
	wantBody(t, p, "The last start failed: The image classhub/notebook:latest is not in the Docker engine", "Try again",
		`action="/hub/spawn/alice"`)
	p = c.get("/hub/spawn-pending/alice")
	wantStatus(t, p, http.StatusInternalServerError)
	wantBody(t, p, "classhub image build")
	// Fixed, the button works.
	e.spawner.FailWith("alice", nil)
	wantRedirect(t, c.get("/hub/spawn/alice"), http.StatusFound, "/user/alice/")
}

func TestSpawnPermissions(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	e.addUser("root", "root-password", true)
	bob := e.loggedIn("bob")
	for _, path := range []string{"/hub/spawn/alice", "/hub/spawn-pending/alice"} {
		wantStatus(t, bob.get(path), http.StatusForbidden)
	}
	if e.spawner.Starts("alice") != 0 {
		t.Fatal("bob started alice's server")
	}
	root := e.loggedIn("root")
	// An admin starts alice's server from the hub's own pages.
	wantRedirect(t, root.do("GET", "/hub/spawn/alice", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}}), http.StatusFound, "/user/alice/")
	wantStatus(t, root.get("/hub/spawn/nobody"), http.StatusNotFound)
	wantStatus(t, root.get("/hub/spawn-pending/nobody"), http.StatusNotFound)
}

func TestSpawnWhileStopping(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	e.start("alice")
	releaseStop := e.spawner.HoldStop("alice")
	defer releaseStop()
	stopped := make(chan error, 1)
	go func() { stopped <- e.hub.Stop(context.Background(), "alice", false) }()
	e.waitStatus("alice", func(s core.ServerStatus) bool { return s.Pending == core.PendingStop })

	// A stop that does not end in time: say so, start nothing.
	e.web.stopWait = 0
	p := c.get("/hub/spawn/alice")
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "still stopping")
	if n := e.spawner.Starts("alice"); n != 1 {
		t.Fatalf("%d starts during the stop", n)
	}
	wantBody(t, c.get("/hub/spawn-pending/alice"), "The server is stopping.")

	// One that ends while the page waits: then it starts.
	e.web.stopWait = time.Minute
	got := make(chan page, 1)
	go func() { got <- c.get("/hub/spawn/alice") }()
	releaseStop()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, <-got, http.StatusFound, "/user/alice/")
	if n := e.spawner.Starts("alice"); n != 2 {
		t.Fatalf("%d starts, want 2", n)
	}
}

func TestSpawnPendingPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")

	// Not started: a start button, no implicit start.
	p := c.get("/hub/spawn-pending/alice")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Your server is not running", "Start my server")
	if e.spawner.Starts("alice") != 0 {
		t.Fatal("the progress page started the server")
	}

	release := e.spawner.Hold("alice")
	defer release()
	e.web.spawnWait = 0
	c.get("/hub/spawn/alice")
	e.waitPending("alice")
	e.spawner.Progress("alice", events.Event{Kind: events.ImageProgress, Progress: 40,
		Message: "Pulling classhub/notebook:latest: 1 of 3 layers done", Current: 123_400_000, Total: 456_000_000})
	waitProgress(t, e, "alice", 2)

	p = c.get("/hub/spawn-pending/alice?next=%2Fuser%2Falice%2Flab%3Freset")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p,
		// The script adds the token: it is in no rendered address.
		`data-progress-url="/hub/api/users/alice/server/progress" data-xsrf="`+c.csrf()+`"`,
		`data-next="/user/alice/lab?reset"`,
		`<progress id="progress-bar" max="100" value="40">`,
		"Server requested",
		"1 of 3 layers done (123.4 MB of 456.0 MB)",
		`<script src="/hub/static/spawn.js?v=`,
		`<noscript><meta http-equiv="refresh" content="5"></noscript>`)
	release()
	e.waitReady("alice")
	wantRedirect(t, c.get("/hub/spawn-pending/alice?next=%2Fuser%2Falice%2Flab%3Freset"), http.StatusFound, "/user/alice/lab?reset")
}

// waitProgress waits until user's spawn has recorded n steps; the
// spawner reports them from the start's goroutine.
func waitProgress(t *testing.T, e *env, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, more, _ := e.hub.Progress(user, 0)
		if len(evs) >= n {
			return
		}
		select {
		case <-more:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("%s's spawn recorded %d steps, want %d", user, len(evs), n)
		}
	}
}

func TestUserURL(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	e.addUser("root", "root-password", true)
	c := e.loggedIn("alice")

	// Not logged in: browsers log in first, API calls get JSON.
	wantRedirect(t, e.client().get("/hub/user/alice/lab"), http.StatusFound, "/hub/login?next=%2Fuser%2Falice%2Flab")
	p := e.client().do("GET", "/hub/user/alice/api/contents", nil, nil)
	wantStatus(t, p, http.StatusForbidden)
	wantJSON(t, p)

	wantRedirect(t, c.get("/hub/user/alice"), http.StatusFound, "/hub/user/alice/")

	// Not running: 424 and a start button that comes back here.
	p = c.get("/hub/user/alice/lab/tree/x.ipynb?kernel=1")
	wantStatus(t, p, http.StatusFailedDependency)
	wantBody(t, p, "Your server is not running", `action="/hub/spawn/alice"`,
		`name="next" value="/user/alice/lab/tree/x.ipynb?kernel=1"`)
	if e.spawner.Starts("alice") != 0 {
		t.Fatal("visiting the server's URL started it")
	}
	// API calls and other methods get JupyterHub's JSON 424.
	for _, tc := range []struct {
		method, path string
		header       http.Header
	}{
		{"GET", "/hub/user/alice/api/kernels", nil},
		{"GET", "/hub/user/alice/lab/workspaces/x", http.Header{"Accept": {"application/json"}}},
		{"POST", "/hub/user/alice/lab", nil},
		{"PUT", "/hub/user/alice/files/x", nil},
	} {
		p := c.do(tc.method, tc.path, nil, tc.header)
		wantStatus(t, p, http.StatusFailedDependency)
		m := wantJSON(t, p)
		if msg, _ := m["message"].(string); !strings.Contains(msg, "no longer running") || !strings.Contains(msg, "/hub/spawn/alice") {
			t.Errorf("%s %s: message %q", tc.method, tc.path, msg)
		}
	}
	// A browser that prefers HTML is not an API call.
	wantStatus(t, c.do("GET", "/hub/user/alice/lab", nil, http.Header{"Accept": {"text/html,application/json;q=0.9"}}), http.StatusFailedDependency)
	wantBody(t, c.do("GET", "/hub/user/alice/lab", nil, http.Header{"Accept": {"text/html,application/json;q=0.9"}}), "Start my server")

	// Someone else's server: refused, with the way to one's own.
	p = e.loggedIn("bob").get("/hub/user/alice/lab")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "/user/bob/")
	// Admins may look; a missing user is a 404.
	wantStatus(t, e.loggedIn("root").get("/hub/user/alice/lab"), http.StatusFailedDependency)
	wantStatus(t, e.loggedIn("root").get("/hub/user/nobody/lab"), http.StatusNotFound)

	// Starting: to the progress page, which then comes back here.
	release := e.spawner.Hold("alice")
	defer release()
	e.web.spawnWait = 0
	c.get("/hub/spawn/alice")
	e.waitPending("alice")
	wantRedirect(t, c.get("/hub/user/alice/lab?x=1"), http.StatusSeeOther, "/hub/spawn-pending/alice?next=%2Fuser%2Falice%2Flab%3Fx%3D1")
	release()
	e.waitReady("alice")

	// Ready but sent here anyway (the route was missing for a moment):
	// back to the server, counting, until it is a loop.
	var slept []time.Duration
	e.web.sleep = func(_ context.Context, d time.Duration) { slept = append(slept, d) }
	target := "/hub/user/alice/lab?x=1"
	for i := 1; i <= maxRedirects; i++ {
		p := c.get(target)
		wantStatus(t, p, http.StatusFound)
		loc, _ := url.Parse(p.Header.Get("Location"))
		if loc.Path != "/user/alice/lab" || loc.Query().Get("x") != "1" || loc.Query().Get("redirects") != strconv.Itoa(i) {
			t.Fatalf("redirect %d to %s", i, loc)
		}
		target = "/hub" + loc.RequestURI()
	}
	p = c.get(target)
	wantStatus(t, p, http.StatusInternalServerError)
	wantBody(t, p, "Redirect loop detected")
	if want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}; len(slept) != len(want) ||
		slept[0] != want[0] || slept[1] != want[1] || slept[2] != want[2] {
		t.Errorf("slept %v before redirecting, want %v", slept, want)
	}
}

func wantJSON(t *testing.T, p page) map[string]any {
	t.Helper()
	if ct := p.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, p.Body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.Body), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, p.Body)
	}
	return m
}

func TestUserRedirect(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	wantRedirect(t, e.client().get("/hub/user-redirect/lab/tree/x.ipynb"), http.StatusFound,
		"/hub/login?next=%2Fhub%2Fuser-redirect%2Flab%2Ftree%2Fx.ipynb")
	wantRedirect(t, e.loggedIn("alice").get("/hub/user-redirect/lab/tree/x.ipynb?a=b"), http.StatusFound,
		"/hub/spawn/alice?next=%2Fuser%2Falice%2Flab%2Ftree%2Fx.ipynb%3Fa%3Db")
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                  false,
		"application/json":                  true,
		"text/html":                         false,
		"*/*":                               false,
		"application/json, text/plain, */*": true,
		"text/html,application/json;q=0.9":  false,
		"text/html;q=0.5,application/json":  true,
		"application/json;q=0":              false,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsJSON(r); got != want {
			t.Errorf("wantsJSON(%q) = %v", accept, got)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 123_400_000: "123.4 MB", 2_500_000_000: "2.5 GB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCancelAPendingStartFromTheProgressPage(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("root", "root-password", true)
	c := e.loggedIn("alice")
	release := e.spawner.Hold("alice")
	defer release()
	e.web.spawnWait = 0
	c.get("/hub/spawn/alice")
	e.waitPending("alice")

	p := c.get("/hub/spawn-pending/alice")
	wantBody(t, p, `id="spawn-cancel"`, "Cancel the start")
	wantBody(t, c.get("/hub/home"), "See the start's progress", "Cancel the start")
	// An admin watching alice's start cancels it from the admin page, not here.
	wantNoBody(t, e.loggedIn("root").get("/hub/spawn-pending/alice"), `id="spawn-cancel"`)

	wantRedirect(t, c.post("/hub/home", url.Values{"action": {"stop"}, "_xsrf": {p.xsrf(t)}}), http.StatusSeeOther, "/hub/home?cancelled=1")
	if s, _ := e.hub.Status(context.Background(), "alice"); s.Active() {
		t.Fatalf("after cancel: %+v", s)
	}
	wantBody(t, c.get("/hub/home?cancelled=1"), "The start was cancelled", "Start my server")
	evs, _, finished := e.hub.Progress("alice", 0)
	if last := evs[len(evs)-1]; !finished || last.Reason != events.ReasonCancelled {
		t.Errorf("progress ends with %+v (finished %v)", last, finished)
	}
}
