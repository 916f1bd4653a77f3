package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/classhub/classhub/assets"
)

// TrayActions are what the tray's items do. A nil action leaves its item
// disabled.
type TrayActions struct {
	OpenNotebook, StartMine, StopMine, DeleteMine func()
	CopyClassLink, ClassPage, StartAll, StopAll   func()
	Dashboard, Settings, Retry, Quit              func()
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
	running := s.Hub == HubRunning
	own := s.Own()
	item := func(label string, enabled bool, fn func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, fn)
		it.Disabled = !enabled || fn == nil
		return it
	}

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
		item(classURL, false, nil),
		item(LabelCopyLink, running && s.ClassURL != "", a.CopyClassLink),
		item(LabelClassPage, running && s.ClassURL != "", a.ClassPage),
		fyne.NewMenuItemSeparator(),
		item(LabelStartAll, running, a.StartAll),
		item(LabelStopAll, running, a.StopAll),
	)
	classItem := fyne.NewMenuItem(LabelClass, nil)
	classItem.ChildMenu = class

	items := []*fyne.MenuItem{
		item(trayStatus(s), false, nil),
		item(openLabel, running && !s.Opening && own.Phase != ServerStopping, a.OpenNotebook),
		item(startLabel, running && (own.Phase == ServerStopped || own.Phase == ServerFailed), a.StartMine),
		item(stopLabel, running && (own.Phase == ServerReady || own.Phase == ServerStarting), a.StopMine),
		item(LabelDeleteMine, running && !own.Phase.Busy(), a.DeleteMine),
		fyne.NewMenuItemSeparator(),
		classItem,
		fyne.NewMenuItemSeparator(),
	}
	if s.Hub == HubError {
		items = append(items, item(LabelRetry, true, a.Retry))
	}
	items = append(items,
		item(LabelDashboard, true, a.Dashboard),
		item(LabelSettings, true, a.Settings),
		fyne.NewMenuItemSeparator(),
	)
	// Fyne appends its own Quit to a tray menu unless the last item is
	// one; ours asks about running servers first.
	quit := item(LabelQuit, true, a.Quit)
	quit.IsQuit = true
	items = append(items, quit)
	return fyne.NewMenu("classhub", items...)
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
			fmt.Fprintf(&b, "%d|%s|%t|%t\n", depth, it.Label, it.Disabled, it.IsSeparator)
			if it.ChildMenu != nil {
				walk(it.ChildMenu, depth+1)
			}
		}
	}
	walk(m, 0)
	return b.String()
}
