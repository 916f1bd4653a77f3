package app

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/classclient/classclienttest"
)

// classPollTest is how often the tests' tray asks a class hub.
const classPollTest = 20 * time.Millisecond

// wantOpened is the next page the app opened in the browser.
func (h *harness) wantOpened(t *testing.T, what string) string {
	t.Helper()
	var got string
	h.q.until(t, what, func() bool {
		select {
		case got = <-h.opened:
			return true
		default:
			return false
		}
	})
	return got
}

// newClassHub is a class hub for user: classhub with app, which logs the
// app in through the browser; without, a stock JupyterHub 5, whose tokens
// come from its token page. Both tell a token its id.
func newClassHub(t *testing.T, user string, app bool) *classclienttest.Hub {
	f := classclienttest.New(t, user)
	f.TellTokenIDs(true)
	f.OfferApp(app)
	return f
}

// browse is the learner's browser: it follows the hub's login to the
// app's loopback address.
func browse(t *testing.T, u string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("browser: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("browser: %s answered %s", u, resp.Status)
	}
}

// join joins f through the tray's Join a class…, the test being the
// learner's browser, and waits until its server's state shows.
func (h *harness) join(t *testing.T, f *classclienttest.Hub) {
	t.Helper()
	h.u.joinClass(f.URL + "/hub/login?next=%2Fhub%2F")
	login := h.wantOpened(t, "the browser login")
	if !strings.HasPrefix(login, f.URL+"/hub/api/oauth2/authorize?") {
		t.Fatalf("opened %s, want the hub's authorization page", login)
	}
	go browse(t, login)
	h.q.until(t, "the class to be current", func() bool {
		c := h.u.st.Class
		return c != nil && c.URL == f.URL && c.Phase == ClassStopped
	})
}

// awaitState runs UI work until f's server is in state.
func awaitState(t *testing.T, q *uiQueue, f *classclienttest.Hub, state classclienttest.State) {
	t.Helper()
	q.until(t, "the hub's server to be "+string(state), func() bool { return f.State() == state })
}

// menuLabels lists the tray's items, submenus indented, disabled ones
// marked.
func menuLabels(u *ui) []string { return describeMenu(u.trayMenu()) }

func TestJoinAClassThroughTheBrowserShowsOnlyTheLearnersMenu(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)

	name := strings.TrimPrefix(f.URL, "http://")
	want := []string{"Class: stopped (off)", "Open my notebook", "Start my server", "Stop my server (off)", "---",
		"Join a class…", "Hubs", "  This laptop's hub", "  " + name + " (on)", "  ---", "  Forget this class…", "---", "Quit"}
	if got := menuLabels(h.u); !slices.Equal(got, want) {
		t.Errorf("menu:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	h.q.until(t, "this laptop's hub to close", func() bool {
		h.f.mu.Lock()
		defer h.f.mu.Unlock()
		return h.f.closed
	})
	if h.u.st.Hub == HubRunning {
		t.Error("this laptop's hub still shows as running")
	}
	// The token is in the keyring, not in a file.
	if _, err := os.Stat(filepath.Join(h.u.d.classes.Dir, "tokens.json")); err == nil {
		t.Error("the token was written to tokens.json although the keyring works")
	}
	if !containsText(h.u.win.Content(), "Class: stopped") {
		t.Errorf("the window shows %q, not the class", texts(h.u.win.Content()))
	}
}

func TestClassStartShowsProgressNotifiesAndOpens(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)

	tapItem(t, h.u.trayMenu(), LabelStartMine)
	awaitState(t, h.q, f, classclienttest.Starting)
	f.Step(40, "Pulling the image")
	h.q.until(t, "40%", func() bool { return menuLabels(h.u)[0] == "Class: starting… 40% (off)" })
	if item(t, h.u.trayMenu(), LabelCancelStartMine).Disabled {
		t.Error("while starting, the tray offers no cancel")
	}
	test.AssertNotificationSent(t, fyne.NewNotification("Your notebook on "+h.u.st.Class.Name+" is ready", "Choose Open my notebook in the classhub menu."), func() {
		f.Ready()
		h.q.until(t, "ready", func() bool { return h.u.st.Class.Phase == ClassReady })
	})
	if got := menuLabels(h.u)[0]; got != "Class: ready (off)" {
		t.Errorf("status %q", got)
	}
	tapItem(t, h.u.trayMenu(), LabelOpenNotebook)
	if got := h.wantOpened(t, "the notebook"); got != f.URL+"/user/ada/" {
		t.Errorf("opened %s, want the server", got)
	}
}

func TestOpenMyNotebookOnAClassStartsWaitsAndOpens(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)

	tapItem(t, h.u.trayMenu(), LabelOpenNotebook)
	awaitState(t, h.q, f, classclienttest.Starting)
	if it := item(t, h.u.trayMenu(), "Opening my notebook…"); !it.Disabled {
		t.Error("Open my notebook stays enabled while it waits")
	}
	f.Ready()
	if got := h.wantOpened(t, "the notebook"); got != f.URL+"/user/ada/" {
		t.Errorf("opened %s", got)
	}
}

func TestAServerStoppedByTheHubIsCulledOneStoppedHereIsNot(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)
	name := h.u.st.Class.Name
	start := func() {
		tapItem(t, h.u.trayMenu(), LabelStartMine)
		awaitState(t, h.q, f, classclienttest.Starting)
		f.Ready()
		h.q.until(t, "ready", func() bool { return h.u.st.Class.Phase == ClassReady })
	}

	start()
	test.AssertNotificationSent(t, fyne.NewNotification("Your notebook server on "+name+" was stopped",
		"The class hub stopped it, perhaps after it sat idle. Choose Start my server in the classhub menu to start it again."), func() {
		f.SetState(classclienttest.Stopped) // as the hub's idle culler does
		h.q.until(t, "the cull", func() bool { return h.u.st.Class.Phase == ClassStopped })
	})

	start()
	tapItem(t, h.u.trayMenu(), LabelStopMine)
	h.q.until(t, "the stop", func() bool { return h.u.st.Class.Phase == ClassStopped && !h.u.st.Class.Stopping })
	test.AssertNotificationSent(t, nil, func() {
		// Polls after the stop find it stopped: nothing to say.
		time.Sleep(3 * classPollTest)
		h.q.drain()
	})
	if n := f.Stops(); n != 1 {
		t.Errorf("%d stops reached the hub, want 1", n)
	}
}

func TestAHubInTroubleShowsWhyAndRetries(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)

	f.Fail(503)
	h.q.until(t, "the trouble", func() bool { return h.u.st.Class.Phase == ClassUnreachable })
	if got := menuLabels(h.u)[0]; got != "Class: hub unreachable (off)" {
		t.Errorf("status %q", got)
	}
	if !strings.Contains(h.u.st.Class.Detail, "failed with status 503") {
		t.Errorf("detail %q", h.u.st.Class.Detail)
	}
	for _, l := range []string{LabelOpenNotebook, LabelStartMine, LabelStopMine} {
		if !item(t, h.u.trayMenu(), l).Disabled {
			t.Errorf("%s is enabled while the hub is in trouble", l)
		}
	}
	f.Fail(0)
	tapItem(t, h.u.trayMenu(), LabelRetry)
	h.q.until(t, "the hub's answer", func() bool { return h.u.st.Class.Phase == ClassStopped })

	f.Close()
	h.q.until(t, "unreachable", func() bool { return h.u.st.Class.Phase == ClassUnreachable })
	if !strings.Contains(h.u.st.Class.Detail, "does not answer") {
		t.Errorf("detail %q", h.u.st.Class.Detail)
	}
}

func TestARevokedLoginSaysSoAndLogsInAgain(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", true)
	h.join(t, f)

	f.DropTokens()
	h.q.until(t, "the refusal", func() bool { return h.u.st.Class.Phase == ClassExpired })
	if got := menuLabels(h.u)[0]; got != "Class: login expired (off)" {
		t.Errorf("status %q", got)
	}
	tapItem(t, h.u.trayMenu(), LabelLoginAgain)
	go browse(t, h.wantOpened(t, "the browser login"))
	h.q.until(t, "the new login", func() bool { return h.u.st.Class.Phase == ClassStopped })
	if n := len(h.u.st.Classes); n != 1 {
		t.Errorf("%d classes after logging in again, want 1", n)
	}
}

func TestAStockJupyterHubIsJoinedWithAPastedToken(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	f := newClassHub(t, "ada", false)

	h.u.joinClass(f.URL)
	h.q.until(t, "the question for a token", func() bool {
		top := h.u.win.Canvas().Overlays().Top()
		return top != nil && containsText(top, "cannot log this app in through the browser")
	})
	d := topDialog(t, h.u.win)
	test.Tap(button(t, d, LabelTokenPage))
	if got := h.wantOpened(t, "the token page"); got != f.URL+"/hub/token" {
		t.Errorf("opened %s", got)
	}
	for _, o := range visible(d) {
		if e, ok := o.(*widget.Entry); ok && e.Password {
			e.SetText(f.TokenPage())
		}
	}
	test.Tap(button(t, d, "Join"))
	h.q.until(t, "the class to be current", func() bool {
		return h.u.st.Class != nil && h.u.st.Class.Phase == ClassStopped
	})
}

func TestABadLinkChangesNothing(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	notHub := newClassHub(t, "ada", true)
	notHub.Config.Handler = http404{}
	for _, link := range []string{"", "ftp://host/", notHub.URL, "http://127.0.0.1:1/"} {
		h.u.st.Notice = ""
		h.u.joinClass(link)
		h.q.until(t, "the failure for "+link, func() bool {
			return h.u.st.NoticeFailed && strings.HasPrefix(h.u.st.Notice, "Could not join the class")
		})
		if h.u.st.Class != nil || len(h.u.st.Classes) != 0 || h.u.st.Hub != HubRunning {
			t.Errorf("%q changed the hubs: class %+v, classes %v, laptop's hub %s", link, h.u.st.Class, h.u.st.Classes, h.u.st.Hub)
		}
	}
}

func TestForgetRevokesAndSwitchingGoesBetweenHubs(t *testing.T) {
	h := newHarness(t, newFakeHub("ada"))
	a := newClassHub(t, "ada", true)
	b := newClassHub(t, "ada", true)
	h.join(t, a)
	h.join(t, b)
	nameA := strings.TrimPrefix(a.URL, "http://")

	tapItem(t, h.u.trayMenu(), nameA)
	h.q.until(t, "class a", func() bool { return h.u.st.Class.URL == a.URL && h.u.st.Class.Phase == ClassStopped })
	tapItem(t, h.u.trayMenu(), LabelLocalHub)
	h.q.until(t, "this laptop's hub", func() bool { return h.u.st.Class == nil && h.u.st.Hub == HubRunning })
	if it := item(t, h.u.trayMenu(), LabelClass); it == nil {
		t.Error("the instructor's menu is missing on this laptop's hub")
	}
	if hs, err := h.u.d.classes.Hubs(); err != nil || hs.Current != "" {
		t.Errorf("the store's current class is %q (%v): the next start would open it, not this laptop's hub", hs.Current, err)
	}
	tapItem(t, h.u.trayMenu(), nameA)
	h.q.until(t, "class a again", func() bool { return h.u.st.Class != nil && h.u.st.Class.Phase == ClassStopped })

	tapItem(t, h.u.trayMenu(), LabelForget)
	test.Tap(button(t, topDialog(t, h.u.win), "Yes"))
	h.q.until(t, "this laptop's hub", func() bool { return h.u.st.Class == nil && h.u.st.Hub == HubRunning })
	if r := a.Revoked(); len(r) != 1 {
		t.Errorf("revoked on the hub: %v, want the app's token", r)
	}
	if len(h.u.st.Classes) != 1 || h.u.st.Classes[0].URL != b.URL {
		t.Errorf("classes after forgetting a: %v", h.u.st.Classes)
	}
}

type http404 struct{}

func (http404) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(404)
	w.Write([]byte("<h1>Not Found</h1>"))
}
