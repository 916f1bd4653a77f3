package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/godbus/dbus/v5"

	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/internal/dbustest"
	"github.com/classhub/classhub/internal/testenv"
)

// TestTrayFollowsAClasshubHub is a learner's laptop: the real binary under
// Xvfb, its tray read and clicked over D-Bus, with a class joined on a
// classhub hub (pasted through `classhub class join`, so that the app
// starts with it current and never opens a hub of its own). The tray
// shows the learner's server and nothing of the instructor's; Start shows
// it ready with a notification, Open gives the browser the server, Stop
// stops it; a stop the app did not ask for (the instructor's) is
// notified as culled; a revoked token shows "login expired", and Log in
// again goes through the hub's login and consent pages in Chromium.
func TestTrayFollowsAClasshubHub(t *testing.T) {
	bin := binary(t)
	xvfb := testenv.Command(t, "Xvfb")
	c := newClassroomOf(t, testenv.RequireLabImage(t, testenv.Docker(t)))
	ann, teacher := c.user("ann"), c.user("teacher")
	setupCode := c.addUsers(ann)[ann]
	c.classhub("users", "add", teacher, "--admin")
	c.serve()
	hubLogOnFailure(t, c)
	adminTok := c.token(teacher)

	laptop := t.TempDir()
	if o, e, code := learner(t, laptop, c.token(ann)+"\n", "class", "join", c.base, "--token-stdin", "--name", "maths"); code != 0 {
		t.Fatalf("class join --token-stdin: %d %q %q", code, o, e)
	}

	display := startXvfb(t, xvfb)
	busAddr := dbustest.SessionBus(t)
	watcher := newFakeWatcher(t, busAddr)
	notes := newFakeNotifications(t, busAddr)
	record := fakeXdgOpen(t)
	app := startApp(t, bin, laptop, display, busAddr, record.dir)
	menu := watcher.await(t, app).menu(t)

	layout := menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)
	for _, no := range []string{"Class", "Start all", "Stop all", "Dashboard…", "Settings…", "Delete my container…"} {
		if _, ok := layout.find(no); ok {
			t.Errorf("the learner's tray has the instructor's %q:\n%s", no, layout)
		}
	}
	for _, want := range []string{"Open my notebook", "Start my server", "Join a class…", "Hubs", "  This laptop's hub", "  maths"} {
		if !layout.has(want) && !layout.has(want+" (off)") {
			t.Errorf("the learner's tray lacks %q:\n%s", want, layout)
		}
	}

	start := func() {
		t.Helper()
		menu.click(t, menu.layout(t), "Start my server")
		menu.awaitLabel(t, app, "Class: ready", 5*time.Minute)
	}
	start()
	notes.await(t, app, "Your notebook on maths is ready")
	menu.click(t, menu.layout(t), "Open my notebook")
	if got := record.await(t, app, time.Minute); got != c.base+"/user/"+ann+"/" {
		t.Errorf("Open my notebook gave the browser %q, want %s/user/%s/", got, c.base, ann)
	}
	menu.click(t, menu.layout(t), "Stop my server")
	menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)

	start()
	if resp, body := c.do("DELETE", "/hub/api/users/"+ann+"/server", adminTok, nil); resp.StatusCode >= 300 {
		t.Fatalf("the instructor stops ann's server: %s %s", resp.Status, body)
	}
	menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)
	notes.await(t, app, "Your notebook server on maths was stopped")
	if n := notes.count("was stopped"); n != 1 {
		t.Errorf("%d culled notifications, want 1 (the stop from the tray is none)", n)
	}

	// The app's token revoked on the hub: the tray says so, and logs in
	// again through the browser.
	_, tok, err := classclient.OpenStore(laptop + "/classes").Current()
	if err != nil || tok.ID == "" {
		t.Fatalf("the kept token: %v %v", tok, err)
	}
	if resp, body := c.do("DELETE", "/hub/api/users/"+ann+"/tokens/"+tok.ID, adminTok, nil); resp.StatusCode >= 300 {
		t.Fatalf("revoke the app's token: %s %s", resp.Status, body)
	}
	layout = menu.awaitLabel(t, app, "Class: login expired", time.Minute)
	menu.click(t, layout, "Log in again…")
	var authURL string
	for end := time.Now().Add(time.Minute); authURL == "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, u := range record.urls() {
			if strings.HasPrefix(u, c.base+"/hub/api/oauth2/authorize?") {
				authURL = u
			}
		}
		app.checkAlive(t)
	}
	if authURL == "" {
		t.Fatalf("Log in again opened no authorization page; the browser got %q", record.urls())
	}
	b := newBrowser(t)
	st := b.tab(t, ann)
	st.run("open the app's login page", 2*time.Minute, chromedp.Navigate(authURL))
	st.waitPath("the hub asks ann to log in", time.Minute, "/hub/login")
	setupLogin(st, ann, setupCode, "correct horse battery", "tray-class-01-setup")
	st.waitJS("the hub asks ann about the app", time.Minute, `document.querySelector("#consent-app")`)
	st.click("Allow", `form[action="/hub/api/oauth2/authorize"] button.primary`)
	st.waitJS("the app's page says it is logged in", time.Minute,
		`location.hostname === "127.0.0.1" && location.pathname === "/callback"`)
	menu.awaitLabel(t, app, "Class: stopped", time.Minute)
	if strings.Contains(app.output(), tok.Secret) {
		t.Error("the app's output holds its token")
	}
	app.stop(t)
}

// fakeNotifications is the desktop's notification server on the test's
// session bus: it records what the app notifies.
type fakeNotifications struct {
	mu     sync.Mutex
	titles []string
}

// Notify is org.freedesktop.Notifications.Notify, as Fyne calls it.
func (n *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.titles = append(n.titles, summary)
	return uint32(len(n.titles)), nil
}

func newFakeNotifications(t *testing.T, addr string) *fakeNotifications {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &fakeNotifications{}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the notifications name: %v (reply %d)", err, reply)
	}
	return n
}

func (n *fakeNotifications) count(sub string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for _, s := range n.titles {
		if strings.Contains(s, sub) {
			k++
		}
	}
	return k
}

func (n *fakeNotifications) await(t *testing.T, app *appProc, sub string) {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if n.count(sub) > 0 {
			return
		}
		app.checkAlive(t)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t.Fatalf("no notification says %q; the app sent %s", sub, fmt.Sprintf("%q", n.titles))
}
