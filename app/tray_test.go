package app

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/assets"
)

func TestTrayMenuForEachState(t *testing.T) {
	classMenu := func(running bool) []string {
		if !running {
			return []string{"Class", "  No class link yet (off)", "  Copy class link (off)", "  Show class page (off)", "  ---", "  Start all (off)", "  Stop all (off)"}
		}
		return []string{"Class", "  http://192.0.2.10:8000/ (off)", "  Copy class link", "  Show class page", "  ---", "  Start all", "  Stop all"}
	}
	tail := []string{"Join a class…", "Dashboard…", "Settings…", "---", "Quit"}
	menu := func(head []string, running bool, extra ...string) []string {
		m := append([]string{}, head...)
		m = append(m, "---")
		m = append(m, classMenu(running)...)
		m = append(m, "---")
		m = append(m, extra...)
		return append(m, tail...)
	}
	tests := []struct {
		name    string
		hub     HubPhase
		own     ServerPhase
		pct     int
		opening bool
		want    []string
	}{
		{"hub stopped", HubStopped, ServerStopped, 0, false, menu([]string{
			"classhub is stopped (off)", "Open my notebook (off)", "Start my server (off)", "Stop my server (off)", "Delete my container… (off)"}, false)},
		{"hub starting", HubStarting, ServerStopped, 0, false, menu([]string{
			"classhub is starting… (off)", "Open my notebook (off)", "Start my server (off)", "Stop my server (off)", "Delete my container… (off)"}, false)},
		{"hub error", HubError, ServerStopped, 0, false, menu([]string{
			"classhub could not start: see the dashboard (off)", "Open my notebook (off)", "Start my server (off)", "Stop my server (off)", "Delete my container… (off)"}, false,
			"Try again")},
		{"server stopped", HubRunning, ServerStopped, 0, false, menu([]string{
			"My server: stopped (off)", "Open my notebook", "Start my server", "Stop my server (off)", "Delete my container…"}, true)},
		{"server starting", HubRunning, ServerStarting, 40, false, menu([]string{
			"My server: starting… 40% (off)", "Open my notebook", "Starting my server… (off)", "Cancel starting my server", "Delete my container… (off)"}, true)},
		{"opening", HubRunning, ServerStarting, 0, true, menu([]string{
			"My server: starting… (off)", "Opening my notebook… (off)", "Starting my server… (off)", "Cancel starting my server", "Delete my container… (off)"}, true)},
		{"server ready", HubRunning, ServerReady, 0, false, menu([]string{
			"My server: ready (off)", "Open my notebook", "Start my server (off)", "Stop my server", "Delete my container…"}, true)},
		{"server stopping", HubRunning, ServerStopping, 0, false, menu([]string{
			"My server: stopping… (off)", "Open my notebook (off)", "Start my server (off)", "Stopping my server… (off)", "Delete my container… (off)"}, true)},
		{"server failed", HubRunning, ServerFailed, 0, false, menu([]string{
			"My server: failed to start (off)", "Open my notebook", "Start my server", "Stop my server (off)", "Delete my container…"}, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &State{Hub: tt.hub, Owner: "teacher", ClassURL: "http://192.0.2.10:8000/", Opening: tt.opening,
				Users: []UserRow{{Name: "alice", Phase: ServerReady}, {Name: "teacher", Phase: tt.own, Progress: tt.pct}}}
			got := describeMenu(TrayMenu(s, allActions(nil)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("menu:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// allActions returns actions that record their name in *log.
func allActions(log *[]string) TrayActions {
	rec := func(name string) func() {
		return func() {
			if log != nil {
				*log = append(*log, name)
			}
		}
	}
	return TrayActions{
		OpenNotebook: rec("open"), StartMine: rec("start"), StopMine: rec("stop"), DeleteMine: rec("delete"),
		CopyClassLink: rec("copy"), ClassPage: rec("class page"), StartAll: rec("start all"), StopAll: rec("stop all"),
		Dashboard: rec("dashboard"), Settings: rec("settings"), Retry: rec("retry"), Quit: rec("quit"),
		JoinClass: rec("join"), ForgetClass: rec("forget"), UseHub: func(url string) { rec("use " + url)() },
	}
}

func TestTrayItemsRunTheirActions(t *testing.T) {
	for _, tt := range []struct {
		label, want string
		own         ServerPhase
		hub         HubPhase
	}{
		{LabelOpenNotebook, "open", ServerStopped, HubRunning},
		{LabelStartMine, "start", ServerStopped, HubRunning},
		{LabelStopMine, "stop", ServerReady, HubRunning},
		{LabelCancelStartMine, "stop", ServerStarting, HubRunning},
		{LabelDeleteMine, "delete", ServerReady, HubRunning},
		{LabelCopyLink, "copy", ServerReady, HubRunning},
		{LabelClassPage, "class page", ServerReady, HubRunning},
		{LabelStartAll, "start all", ServerReady, HubRunning},
		{LabelStopAll, "stop all", ServerReady, HubRunning},
		{LabelDashboard, "dashboard", ServerReady, HubRunning},
		{LabelSettings, "settings", ServerReady, HubRunning},
		{LabelRetry, "retry", ServerStopped, HubError},
		{LabelQuit, "quit", ServerReady, HubRunning},
	} {
		var log []string
		s := &State{Hub: tt.hub, Owner: "teacher", ClassURL: "http://192.0.2.10:8000/", Users: []UserRow{{Name: "teacher", Phase: tt.own}}}
		tapItem(t, TrayMenu(s, allActions(&log)), tt.label)
		if !slices.Equal(log, []string{tt.want}) {
			t.Errorf("tapping %q ran %q, want %q", tt.label, log, tt.want)
		}
	}
}

func TestTrayMenuEndsWithOurQuit(t *testing.T) {
	// Fyne appends a second Quit (that quits without asking) unless the
	// last item is one.
	m := TrayMenu(&State{}, allActions(nil))
	last := m.Items[len(m.Items)-1]
	if last.Label != LabelQuit || !last.IsQuit || last.Action == nil {
		t.Errorf("last item %+v, want our Quit with IsQuit", last)
	}
}

func TestTrayMenuWithoutActionsIsDisabled(t *testing.T) {
	s := &State{Hub: HubRunning, Owner: "teacher", Users: []UserRow{{Name: "teacher"}}}
	if it := item(t, TrayMenu(s, TrayActions{}), LabelOpenNotebook); !it.Disabled {
		t.Error("an item without an action is enabled")
	}
}

func TestTrayIconPerPhase(t *testing.T) {
	for p, want := range map[HubPhase][]byte{
		HubStopped: assets.TrayStopped, HubStarting: assets.TrayStarting,
		HubRunning: assets.TrayRunning, HubError: assets.TrayError,
	} {
		r := TrayIcon(p)
		if !bytes.Equal(r.Content(), want) {
			t.Errorf("icon for %s is not its asset", p)
		}
		if !bytes.HasPrefix(r.Content(), []byte("\x89PNG")) {
			t.Errorf("icon for %s is not a PNG", p)
		}
	}
}

func TestMenuKeyChangesOnlyWithWhatIsShown(t *testing.T) {
	s := &State{Hub: HubRunning, Owner: "teacher", ClassURL: "http://192.0.2.10:8000/", Users: []UserRow{{Name: "teacher"}}}
	k1 := menuKey(TrayMenu(s, allActions(nil)))
	if k2 := menuKey(TrayMenu(s, allActions(nil))); k1 != k2 {
		t.Error("the same state gives different keys")
	}
	s.Users[0].LastActivity = testNow // not shown in the tray
	if k2 := menuKey(TrayMenu(s, allActions(nil))); k1 != k2 {
		t.Error("a change the tray does not show changes the key")
	}
	s.Users[0].Phase = ServerStarting
	if k2 := menuKey(TrayMenu(s, allActions(nil))); k1 == k2 {
		t.Error("a relabelled menu keeps its key")
	}
}

// trayApp is a fyne.App with a system tray that records the menus it is
// given.
type trayApp struct {
	fyne.App
	menus []*fyne.Menu
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)  { a.menus = append(a.menus, m) }
func (a *trayApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *trayApp) SetSystemTrayWindow(fyne.Window) {}

// TestTrayIsGivenOneMenu: fyne's tray shows, once its host takes it up,
// the first menu it was given, so each change must reach that menu.
func TestTrayIsGivenOneMenu(t *testing.T) {
	a := &trayApp{App: test.NewTempApp(t)}
	u := newUI(a, deps{})
	u.st = State{Class: &Class{Name: "maths", Phase: ClassChecking}}
	u.updateTray()
	u.st.Class.Phase = ClassStopped
	u.updateTray()
	if len(a.menus) != 2 {
		t.Fatalf("the tray was given %d menus, want 2 (one per change)", len(a.menus))
	}
	first := a.menus[0]
	if a.menus[1] != first {
		t.Error("the change gave the tray another menu, not the first one")
	}
	if first.Items[0].Label != "Class: stopped" {
		t.Errorf("the first menu given shows %q, want the latest state", first.Items[0].Label)
	}
}
