package app

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

// deps are the UI's dependencies, injected so tests can swap each.
type deps struct {
	open OpenFunc
	// configPath is the data dir's classhub.toml.
	configPath string
	doctor     func(ctx context.Context, cfg config.Config) hub.DoctorReport
	// localImages lists the engine's notebook images for the Settings
	// window; nil offers none.
	localImages func(ctx context.Context) ([]hub.LocalImage, error)
	// openURL opens the browser; github.com/pkg/browser in the app.
	openURL func(url string) error
	// do runs fn on the UI goroutine: fyne.Do in the app.
	do  func(fn func())
	now func() time.Time
	// statsEvery is how often CPU and memory are sampled while the
	// dashboard is visible.
	statsEvery time.Duration
	// spawnWait bounds "Open my notebook": long enough for a first pull.
	spawnWait time.Duration
	// quit ends the app: fyne.App.Quit.
	quit func()
	// trayHost reports whether a tray shows the app's icon; nil means
	// yes.
	trayHost func() bool
	// classes keeps the class hubs joined and their tokens:
	// classclient's store in the data dir, which `classhub class` shares.
	classes *classclient.Store
	// classPoll is how often the current class hub is asked where the
	// learner's server is.
	classPoll time.Duration
	// hubLog reads the last lines of the hub's log from the data dir
	// (all of it for 0), whether the hub opened or not: hub.ReadLog.
	hubLog func(tail int) (string, error)
}

// ui is the app: one State, the views rendering it, and the hub they
// drive. Everything but hub calls runs on the UI goroutine; background
// work hands results back through deps.do.
type ui struct {
	app  fyne.App
	d    deps
	desk desktop.App // nil without a system tray driver (tests)

	ctx    context.Context
	cancel context.CancelFunc

	st  State
	cfg config.Config // what the open hub runs with
	// gen counts hub openings: results of an older hub are dropped.
	gen       int
	conn      Conn // nil while no hub is open
	sub       *hub.Subscription
	stopServe context.CancelFunc
	served    chan struct{}

	win      fyne.Window
	dash     *Dashboard
	visible  bool
	setWin   fyne.Window
	settings *Settings

	tray      *fyne.Menu // the one menu the tray is given (updateTray)
	trayKey   string
	trayPhase HubPhase
	trayIcon  bool

	statsStop chan struct{}
	statsBusy bool
	reloading bool

	// The current class hub (classes.go): classGen counts the hubs made
	// current, so the answers of an earlier one are dropped.
	classGen  int
	classCli  *classclient.Client
	classStop context.CancelFunc
	classKick chan struct{}
	panel     *ClassPanel
	showing   fyne.CanvasObject
}

func newUI(a fyne.App, d deps) *ui {
	u := &ui{app: a, d: d}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	if desk, ok := a.(desktop.App); ok {
		u.desk = desk
	}
	u.dash = NewDashboard(DashboardActions{
		Start:         u.startServer,
		Stop:          u.stopServer,
		Delete:        u.confirmDelete,
		Reset:         u.confirmReset,
		Select:        u.selectUser,
		StartAll:      u.startAll,
		StopAll:       u.stopAll,
		AddUsers:      u.addUsersDialog,
		ImportRoster:  u.importRosterDialog,
		SetupCodes:    u.confirmSetupCodes,
		Handout:       u.handoutDialog,
		Collect:       u.collectDialog,
		KeptFiles:     u.showKeptFiles,
		CopyClassLink: u.copyClassLink,
		ClassPage:     u.showClassPage,
		Settings:      u.showSettings,
		Retry:         u.retry,
		Logs:          u.fetchLogs,
		HubLog:        func() { u.selectUser("") },
		SaveLogs:      u.saveLogsDialog,
		JoinClass:     u.joinDialog,
	}, d.now)
	u.panel = NewClassPanel(ClassPanelActions{
		Open: u.openClass, Start: u.startClass, Stop: u.stopClass, Retry: u.retryClass,
		Join: u.joinDialog, Forget: u.confirmForget, UseLocal: func() { u.useHub("") },
	})
	u.win = a.NewWindow("classhub")
	u.showing = u.dash.Content()
	u.win.SetContent(u.showing)
	u.win.Resize(fyne.NewSize(1080, 760))
	u.win.SetCloseIntercept(u.closeDashboard)
	return u
}

// start shows the window and the tray at once and opens the hub in the
// background: the person sees classhub start, or why it cannot.
func (u *ui) start() {
	u.showDashboard()
	u.startCurrent()
}

// shutdown closes the hub after the app quit, leaving servers running
// unless Quit stopped them.
func (u *ui) shutdown() {
	u.stopStats()
	u.leaveClass()
	wait := u.closeHub()
	u.cancel()
	wait()
}

// render shows the state everywhere. The window shows the dashboard of
// this laptop's hub, or the class panel while a class hub is current.
func (u *ui) render() {
	content := u.dash.Content()
	if u.st.Class != nil {
		u.panel.Update(&u.st)
		content = u.panel.Content()
	} else {
		u.dash.Update(&u.st)
	}
	if u.showing != content {
		u.showing = content
		u.win.SetContent(content)
	}
	u.updateTray()
}

func (u *ui) trayMenu() *fyne.Menu {
	hubs := TrayActions{JoinClass: u.joinDialog, ForgetClass: u.confirmForget, UseHub: u.useHub, Quit: u.quit}
	if u.st.Class != nil {
		hubs.OpenNotebook, hubs.StartMine, hubs.StopMine, hubs.Retry = u.openClass, u.startClass, u.stopClass, u.retryClass
		return TrayMenu(&u.st, hubs)
	}
	return TrayMenu(&u.st, TrayActions{
		JoinClass:     hubs.JoinClass,
		UseHub:        hubs.UseHub,
		OpenNotebook:  u.openNotebook,
		StartMine:     func() { u.startServer(u.st.Owner) },
		StopMine:      func() { u.stopServer(u.st.Owner) },
		DeleteMine:    func() { u.confirmDelete(u.st.Owner) },
		CopyClassLink: u.copyClassLink,
		ClassPage:     u.showClassPage,
		StartAll:      u.startAll,
		StopAll:       u.stopAll,
		Dashboard:     u.showDashboard,
		Settings:      u.showSettings,
		Retry:         u.retry,
		Quit:          u.quit,
	})
}

func (u *ui) updateTray() {
	if u.desk == nil {
		return
	}
	if p := u.st.IconPhase(); !u.trayIcon || u.trayPhase != p {
		u.trayIcon, u.trayPhase = true, p
		u.desk.SetSystemTrayIcon(TrayIcon(p))
	}
	m := u.trayMenu()
	if k := menuKey(m); k != u.trayKey {
		u.trayKey = k
		// Always the same *fyne.Menu, its items replaced: fyne's tray,
		// when its host takes it up, shows the menu it was first given,
		// so a tray host that came late showed a stale first menu
		// ("Class: checking…") until the next change.
		if u.tray == nil {
			u.tray = m
		} else {
			u.tray.Items = m.Items
		}
		u.desk.SetSystemTrayMenu(u.tray)
	}
}

// showError tells the person what failed: in the dashboard when it is
// open, else as a notification.
func (u *ui) showError(what string, err error) {
	u.st.Notice, u.st.NoticeFailed = what+": "+err.Error(), true
	u.render()
	if u.visible {
		dialog.ShowError(fmt.Errorf("%s: %w", what, err), u.win)
		return
	}
	u.app.SendNotification(fyne.NewNotification(what, err.Error()))
}

func (u *ui) notice(msg string) {
	u.st.Notice, u.st.NoticeFailed = msg, false
	u.render()
}
