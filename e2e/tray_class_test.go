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
// Xvfb, its tray read and clicked over D-Bus, with a class on a classhub
// hub (learnerTray.walk: the learner's menu, start, open, stop, culled);
// then a revoked token shows "login expired", and Log in again goes
// through the hub's login and consent pages in Chromium.
func TestTrayFollowsAClasshubHub(t *testing.T) {
	binary(t)
	testenv.Command(t, "Xvfb")
	c := newClassroomOf(t, testenv.RequireLabImage(t, testenv.Docker(t)))
	ann, teacher := c.user("ann"), c.user("teacher")
	setupCode := c.addUsers(ann)[ann]
	c.classhub("users", "add", teacher, "--admin")
	c.serve()
	hubLogOnFailure(t, c)
	adminTok := c.token(teacher)

	l := startLearnerTray(t, c.base, c.token(ann), "maths")
	app, menu := l.app, l.menu
	l.walk(t, c.base+"/user/"+ann+"/", func() {
		if resp, body := c.do("DELETE", "/hub/api/users/"+ann+"/server", adminTok, nil); resp.StatusCode >= 300 {
			t.Fatalf("the instructor stops ann's server: %s %s", resp.Status, body)
		}
	})

	// The app's token revoked on the hub: the tray says so, and logs in
	// again through the browser.
	_, tok, err := classclient.OpenStore(l.laptop + "/classes").Current()
	if err != nil || tok.ID == "" {
		t.Fatalf("the kept token: %v %v", tok, err)
	}
	if resp, body := c.do("DELETE", "/hub/api/users/"+ann+"/tokens/"+tok.ID, adminTok, nil); resp.StatusCode >= 300 {
		t.Fatalf("revoke the app's token: %s %s", resp.Status, body)
	}
	layout := menu.awaitLabel(t, app, "Class: login expired", time.Minute)
	menu.click(t, layout, "Log in again…")
	var authURL string
	for end := time.Now().Add(time.Minute); authURL == "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, u := range l.record.urls() {
			if strings.HasPrefix(u, c.base+"/hub/api/oauth2/authorize?") {
				authURL = u
			}
		}
		app.checkAlive(t)
	}
	if authURL == "" {
		t.Fatalf("Log in again opened no authorization page; the browser got %q", l.record.urls())
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

// TestTrayFollowsJupyterHub3 is the same laptop with a class on Debian's
// JupyterHub 3.0, joined with a token from its token page: the tray's
// client speaks only JupyterHub's API.
func TestTrayFollowsJupyterHub3(t *testing.T) {
	binary(t)
	testenv.Command(t, "Xvfb")
	j, admin := jupyterHub3(t)
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/bea", nil, nil); st != 201 {
		t.Fatalf("create bea = %d", st)
	}
	var made struct {
		Token string `json:"token"`
	}
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/bea/tokens", map[string]any{"note": "pasted"}, &made); st != 201 {
		t.Fatalf("bea's token = %d", st)
	}
	l := startLearnerTray(t, j.Base, made.Token, "jh3")
	l.walk(t, j.Base+"/user/bea/", func() {
		if st := jhAPI(t, j.Base, admin, "DELETE", "/hub/api/users/bea/server", nil, nil); st >= 300 {
			t.Fatalf("the admin stops bea's server = %d", st)
		}
	})
	if strings.Contains(l.app.output(), made.Token) {
		t.Error("the app's output holds its token")
	}
	l.app.stop(t)
}

// learnerTray is the real app on a learner's laptop that joined one class
// with a pasted token (`classhub class join --token-stdin`), so that it
// starts with the class current and never opens a hub of its own.
type learnerTray struct {
	laptop, name string
	app          *appProc
	menu         trayMenu
	notes        *fakeNotifications
	record       *xdgOpen
}

func startLearnerTray(t *testing.T, base, token, name string) *learnerTray {
	t.Helper()
	l := &learnerTray{laptop: t.TempDir(), name: name}
	if o, e, code := learner(t, l.laptop, token+"\n", "class", "join", base, "--token-stdin", "--name", name); code != 0 {
		t.Fatalf("class join --token-stdin: %d %q %q", code, o, e)
	}
	display := startXvfb(t, testenv.Command(t, "Xvfb"))
	busAddr := dbustest.SessionBus(t)
	watcher := newFakeWatcher(t, busAddr)
	l.notes = newFakeNotifications(t, busAddr)
	l.record = fakeXdgOpen(t)
	l.app = startApp(t, binary(t), l.laptop, display, busAddr, l.record.dir)
	l.menu = watcher.await(t, l.app).menu(t)
	return l
}

// walk checks the learner's menu, then starts the server to ready (with
// a notification), opens it (the browser gets server), stops it, starts
// it again and has cull stop it behind the app's back, which is notified
// once.
func (l *learnerTray) walk(t *testing.T, server string, cull func()) {
	t.Helper()
	app, menu := l.app, l.menu
	layout := menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)
	for _, no := range []string{"Class", "Start all", "Stop all", "Dashboard…", "Settings…", "Delete my container…"} {
		if _, ok := layout.find(no); ok {
			t.Errorf("the learner's tray has the instructor's %q:\n%s", no, layout)
		}
	}
	for _, want := range []string{"Open my notebook", "Start my server", "Join a class…", "Hubs", "  This laptop's hub", "  " + l.name} {
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
	l.notes.await(t, app, "Your notebook on "+l.name+" is ready")
	menu.click(t, menu.layout(t), "Open my notebook")
	if got := l.record.await(t, app, time.Minute); got != server {
		t.Errorf("Open my notebook gave the browser %q, want %s", got, server)
	}
	menu.click(t, menu.layout(t), "Stop my server")
	menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)

	start()
	cull()
	menu.awaitLabel(t, app, "Class: stopped", 2*time.Minute)
	l.notes.await(t, app, "Your notebook server on "+l.name+" was stopped")
	if n := l.notes.count("was stopped"); n != 1 {
		t.Errorf("%d culled notifications, want 1 (the stop from the tray is none)", n)
	}
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
