package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/classhub/classhub/assets"
)

// TrayActions are what the tray's items do. A nil action leaves its item
// disabled. While a class hub is current, OpenNotebook, StartMine,
// StopMine and Retry act on the learner's server there.
type TrayActions struct {
	OpenNotebook, StartMine, StopMine, DeleteMine func()
	CopyClassLink, ClassPage, StartAll, StopAll   func()
	Dashboard, Settings, Retry, Quit              func()
	JoinClass, ForgetClass                        func()
	// UseHub makes the hub at a URL current, "" being this laptop's.
	UseHub func(url string)
}

// Tray menu labels; the smoke test reads them over D-Bus.
const (
	LabelOpenNotebook = "Open my notebook"
	LabelStartMine    = "Start my server"
	LabelStopMine     = "Stop my server"
	// LabelCancelStartMine replaces LabelStopMine while the owner's server
	// is starting: stopping then cancels the start, wherever it waits.
	LabelCancelStartMine = "Cancel starting my server"
	LabelDeleteMine      = "Delete my container…"
	LabelClass           = "Class"
	LabelCopyLink        = "Copy class link"
	LabelClassPage       = "Show class page"
	LabelStartAll        = "Start all"
	LabelStopAll         = "Stop all"
	LabelDashboard       = "Dashboard…"
	LabelSettings        = "Settings…"
	LabelRetry           = "Try again"
	LabelQuit            = "Quit"
)

// TrayMenu builds the tray menu for s. It is rebuilt whole on every
// change, as Tailscale's systray does: item-by-item updates are fiddly and
// the menu is small.
func TrayMenu(s *State, a TrayActions) *fyne.Menu {
	if s.Class != nil {
		return classTrayMenu(s, a)
	}
	running := s.Hub == HubRunning
	own := s.Own()

	openLabel := LabelOpenNotebook
	if s.Opening {
		openLabel = "Opening my notebook…"
	}
	startLabel := LabelStartMine
	if own.Phase == ServerStarting {
		startLabel = "Starting my server…"
	}
	stopLabel := LabelStopMine
	switch own.Phase {
	case ServerStopping:
		stopLabel = "Stopping my server…"
	case ServerStarting:
		stopLabel = LabelCancelStartMine
	}

	classURL := s.ClassURL
	if !running || classURL == "" {
		classURL = "No class link yet"
	}
	class := fyne.NewMenu(LabelClass,
		menuItem(classURL, false, nil),
		menuItem(LabelCopyLink, running && s.ClassURL != "", a.CopyClassLink),
		menuItem(LabelClassPage, running && s.ClassURL != "", a.ClassPage),
		fyne.NewMenuItemSeparator(),
		menuItem(LabelStartAll, running, a.StartAll),
		menuItem(LabelStopAll, running, a.StopAll),
	)
	classItem := fyne.NewMenuItem(LabelClass, nil)
	classItem.ChildMenu = class

	items := []*fyne.MenuItem{
		menuItem(trayStatus(s), false, nil),
		menuItem(openLabel, running && !s.Opening && own.Phase != ServerStopping, a.OpenNotebook),
		menuItem(startLabel, running && (own.Phase == ServerStopped || own.Phase == ServerFailed), a.StartMine),
		menuItem(stopLabel, running && (own.Phase == ServerReady || own.Phase == ServerStarting), a.StopMine),
		menuItem(LabelDeleteMine, running && !own.Phase.Busy(), a.DeleteMine),
		fyne.NewMenuItemSeparator(),
		classItem,
		fyne.NewMenuItemSeparator(),
	}
	if s.Hub == HubError {
		items = append(items, menuItem(LabelRetry, true, a.Retry))
	}
	items = append(items, menuItem(LabelJoinClass, true, a.JoinClass))
	if len(s.Classes) > 0 {
		items = append(items, hubsItem(s, a))
	}
	items = append(items,
		menuItem(LabelDashboard, true, a.Dashboard),
		menuItem(LabelSettings, true, a.Settings),
		fyne.NewMenuItemSeparator(),
		quitItem(a),
	)
	return fyne.NewMenu("classhub", items...)
}

// classTrayMenu is the tray while a class hub is current: the learner's
// own server there and the hubs, nothing of the instructor's.
func classTrayMenu(s *State, a TrayActions) *fyne.Menu {
	c := s.Class
	k := classControlsFor(c)
	items := []*fyne.MenuItem{
		menuItem(classStatus(c), false, nil),
		menuItem(k.open, k.canOpen, a.OpenNotebook),
		menuItem(k.start, k.canStart, a.StartMine),
		menuItem(k.stop, k.canStop, a.StopMine),
	}
	switch {
	case c.Phase == ClassExpired:
		items = append(items, menuItem(LabelLoginAgain, true, a.Retry))
	case c.Phase.Trouble():
		items = append(items, menuItem(LabelRetry, true, a.Retry))
	}
	items = append(items,
		fyne.NewMenuItemSeparator(),
		menuItem(LabelJoinClass, true, a.JoinClass),
		hubsItem(s, a),
		fyne.NewMenuItemSeparator(),
		quitItem(a),
	)
	return fyne.NewMenu("classhub", items...)
}

// classControls are the labels of Open, Start and Stop for a class's
// server and whether each may be used, alike in the tray and the panel.
type classControls struct {
	open, start, stop          string
	canOpen, canStart, canStop bool
}

func classControlsFor(c *Class) classControls {
	k := classControls{open: LabelOpenNotebook, start: LabelStartMine, stop: LabelStopMine}
	if c.Opening {
		k.open = "Opening my notebook…"
	}
	switch c.Phase {
	case ClassStarting:
		k.start, k.stop = "Starting my server…", LabelCancelStartMine
	case ClassStopping:
		k.stop = "Stopping my server…"
	}
	answers := c.Phase != ClassChecking && c.Phase != ClassUnreachable && c.Phase != ClassExpired
	k.canOpen = answers && !c.Opening && c.Phase != ClassStopping
	k.canStart = c.Phase == ClassStopped || c.Phase == ClassFailed
	k.canStop = c.Phase == ClassReady || c.Phase == ClassStarting
	return k
}

// hubsItem is the submenu that switches between this laptop's hub and
// the class hubs joined, the current one checked, and forgets the current
// class.
func hubsItem(s *State, a TrayActions) *fyne.MenuItem {
	use := func(url string) func() {
		if a.UseHub == nil {
			return nil
		}
		return func() { a.UseHub(url) }
	}
	local := menuItem(LabelLocalHub, true, use(""))
	local.Checked = s.Class == nil
	items := []*fyne.MenuItem{local}
	for _, c := range s.Classes {
		it := menuItem(c.Name, true, use(c.URL))
		it.Checked = s.Class != nil && s.Class.URL == c.URL
		items = append(items, it)
	}
	if s.Class != nil {
		items = append(items, fyne.NewMenuItemSeparator(), menuItem(LabelForget, true, a.ForgetClass))
	}
	hubs := fyne.NewMenuItem(LabelHubs, nil)
	hubs.ChildMenu = fyne.NewMenu(LabelHubs, items...)
	return hubs
}

// menuItem is a menu item, disabled unless enabled and it has an action.
func menuItem(label string, enabled bool, fn func()) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, fn)
	it.Disabled = !enabled || fn == nil
	return it
}

// quitItem is the last item. Fyne appends its own Quit to a tray menu
// unless the last item is one; ours asks about running servers first.
func quitItem(a TrayActions) *fyne.MenuItem {
	quit := menuItem(LabelQuit, true, a.Quit)
	quit.IsQuit = true
	return quit
}

// trayStatus is the menu's first, disabled line: what the person at the
// laptop would ask first.
func trayStatus(s *State) string {
	switch s.Hub {
	case HubStopped:
		return "classhub is stopped"
	case HubStarting:
		return "classhub is starting…"
	case HubError:
		return "classhub could not start: see the dashboard"
	}
	own := s.Own()
	switch own.Phase {
	case ServerStarting:
		if own.Progress > 0 {
			return fmt.Sprintf("My server: starting… %d%%", own.Progress)
		}
		return "My server: starting…"
	case ServerFailed:
		return "My server: failed to start"
	}
	return "My server: " + own.Phase.String()
}

// TrayIcon returns the PNG for the hub's phase. Linux trays take the bytes
// as they are, so they must be PNG.
func TrayIcon(p HubPhase) fyne.Resource {
	switch p {
	case HubStarting:
		return fyne.NewStaticResource("tray-starting.png", assets.TrayStarting)
	case HubRunning:
		return fyne.NewStaticResource("tray-running.png", assets.TrayRunning)
	case HubError:
		return fyne.NewStaticResource("tray-error.png", assets.TrayError)
	}
	return fyne.NewStaticResource("tray-stopped.png", assets.TrayStopped)
}

// menuKey describes what a menu shows, so the tray is only replaced when
// something visible changed: every replacement renumbers the items over
// D-Bus, and a tray host clicking an old number would miss.
func menuKey(m *fyne.Menu) string {
	var b strings.Builder
	var walk func(m *fyne.Menu, depth int)
	walk = func(m *fyne.Menu, depth int) {
		for _, it := range m.Items {
			fmt.Fprintf(&b, "%d|%s|%t|%t|%t\n", depth, it.Label, it.Disabled, it.IsSeparator, it.Checked)
			if it.ChildMenu != nil {
				walk(it.ChildMenu, depth+1)
			}
		}
	}
	walk(m, 0)
	return b.String()
}
