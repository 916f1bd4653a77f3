package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// deps are the UI's dependencies, injected so tests can swap each.
type deps struct {
	open OpenFunc
	// configPath is the data dir's classhub.toml.
	configPath string
	doctor     func(ctx context.Context, cfg config.Config) doctor.Report
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
	conn      *Conn
	sub       *events.Subscription
	stopServe context.CancelFunc
	served    chan struct{}

	win      fyne.Window
	dash     *Dashboard
	visible  bool
	setWin   fyne.Window
	settings *Settings

	trayKey   string
	trayPhase HubPhase
	trayIcon  bool

	statsStop chan struct{}
	statsBusy bool
	reloading bool
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
		CopyClassLink: u.copyClassLink,
		Settings:      u.showSettings,
		Retry:         u.retry,
		Logs:          u.fetchLogs,
	}, d.now)
	u.win = a.NewWindow("classhub")
	u.win.SetContent(u.dash.Content())
	u.win.Resize(fyne.NewSize(1080, 760))
	u.win.SetCloseIntercept(u.closeDashboard)
	return u
}

// start shows the window and the tray at once and opens the hub in the
// background: the person sees classhub start, or why it cannot.
func (u *ui) start() {
	u.showDashboard()
	u.openHub()
}

// shutdown closes the hub after the app quit, leaving servers running
// unless Quit stopped them.
func (u *ui) shutdown() {
	u.stopStats()
	wait := u.closeHub()
	u.cancel()
	wait()
}

// render shows the state everywhere.
func (u *ui) render() {
	u.dash.Update(&u.st)
	u.updateTray()
}

func (u *ui) trayMenu() *fyne.Menu {
	return TrayMenu(&u.st, TrayActions{
		OpenNotebook:  u.openNotebook,
		StartMine:     func() { u.startServer(u.st.Owner) },
		StopMine:      func() { u.stopServer(u.st.Owner) },
		DeleteMine:    func() { u.confirmDelete(u.st.Owner) },
		CopyClassLink: u.copyClassLink,
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
	if !u.trayIcon || u.trayPhase != u.st.Hub {
		u.trayIcon, u.trayPhase = true, u.st.Hub
		u.desk.SetSystemTrayIcon(TrayIcon(u.st.Hub))
	}
	m := u.trayMenu()
	if k := menuKey(m); k != u.trayKey {
		u.trayKey = k
		u.desk.SetSystemTrayMenu(m)
	}
}

// openHub opens the hub in the background. While that fails (Docker
// missing, stopped, forbidden) the dashboard shows the doctor's advice and
// a Retry button.
func (u *ui) openHub() {
	u.gen++
	gen := u.gen
	u.st.Hub, u.st.Problem, u.st.Doctor = HubStarting, "", nil
	u.render()
	go func() {
		cfg, err := config.Load(u.d.configPath)
		if err != nil {
			u.d.do(func() { u.openFailed(gen, err, nil) })
			return
		}
		conn, err := u.d.open(u.ctx, cfg)
		if err != nil {
			rep := u.d.doctor(u.ctx, cfg)
			u.d.do(func() { u.openFailed(gen, err, &rep) })
			return
		}
		// Subscribe before listing, so no change falls between the two.
		sub := conn.Bus().Subscribe(1024, false, nil)
		list, _, lerr := conn.Users(u.ctx, store.ListOptions{Sort: "name"})
		serveCtx, stopServe := context.WithCancel(u.ctx)
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := conn.Serve(serveCtx); err != nil && serveCtx.Err() == nil {
				u.d.do(func() { u.serveFailed(gen, err) })
			}
		}()
		u.d.do(func() {
			if gen != u.gen {
				// Quit or restarted meanwhile.
				stopServe()
				sub.Close()
				go func() { <-served; conn.Close() }()
				return
			}
			u.conn, u.sub, u.stopServe, u.served, u.cfg = &conn, sub, stopServe, served, cfg
			u.st.Hub, u.st.Problem = HubRunning, ""
			u.st.Owner, u.st.ClassURL = conn.Owner(), conn.ClassURL()
			u.st.Fingerprint, u.st.Exposed = conn.TLSFingerprint(), !cfg.LoopbackOnly()
			u.st.PublicAddr, u.st.InternalAddr = conn.PublicAddr().String(), conn.InternalAddr().String()
			u.st.Network = conn.Network
			u.st.Image = ImageStatus{Ref: cfg.Image}
			if lerr == nil {
				u.st.SetUsers(list, true)
			} else {
				u.st.Notice, u.st.NoticeFailed = "Could not list the users: "+lerr.Error(), true
			}
			u.render()
			if u.visible {
				u.startStats()
			}
		})
		go u.follow(gen, sub)
		rep := u.d.doctor(u.ctx, cfg)
		u.d.do(func() {
			if gen == u.gen {
				u.st.SetDoctor(rep)
				u.render()
			}
		})
	}()
}

func (u *ui) openFailed(gen int, err error, rep *doctor.Report) {
	if gen != u.gen {
		return
	}
	u.st.Hub, u.st.Problem = HubError, err.Error()
	u.st.Doctor = rep
	u.render()
}

func (u *ui) serveFailed(gen int, err error) {
	if gen != u.gen {
		return
	}
	wait := u.closeHub()
	go wait()
	u.st.Hub, u.st.Problem = HubError, "the hub stopped serving: "+err.Error()
	u.render()
}

// closeHub stops serving and returns a func that waits until the hub is
// closed. Servers keep running: the next hub adopts them.
func (u *ui) closeHub() (wait func()) {
	u.gen++
	conn, sub, stop, served := u.conn, u.sub, u.stopServe, u.served
	u.conn, u.sub, u.stopServe, u.served = nil, nil, nil, nil
	if u.st.Hub == HubRunning || u.st.Hub == HubStarting {
		u.st.Hub = HubStopped
	}
	if conn == nil {
		return func() {}
	}
	stop()
	sub.Close()
	return sync.OnceFunc(func() {
		<-served
		conn.Close()
	})
}

// restartHub reopens the hub so saved settings take effect.
func (u *ui) restartHub() {
	wait := u.closeHub()
	u.st.Hub = HubStarting
	u.render()
	go func() {
		wait()
		u.d.do(u.openHub)
	}()
}

func (u *ui) retry() {
	if u.conn == nil {
		u.openHub()
	}
}

// follow is the one loop that feeds hub events to the UI.
func (u *ui) follow(gen int, sub *events.Subscription) {
	for e := range sub.C {
		u.d.do(func() {
			if gen == u.gen {
				u.apply(e)
			}
		})
	}
}

func (u *ui) apply(e events.Event) {
	eff := u.st.Apply(e)
	if eff.Notify != nil {
		u.app.SendNotification(fyne.NewNotification(eff.Notify.Title, eff.Notify.Content))
	}
	if eff.Reload {
		u.reloadUsers(eff.Resync)
	}
	if eff.Logs {
		u.fetchLogs()
	}
	u.render()
}

// reloadUsers fetches the user list; full takes every server's state from
// it too. Reloads in flight absorb new requests.
func (u *ui) reloadUsers(full bool) {
	if u.conn == nil || u.reloading {
		return
	}
	u.reloading = true
	conn, gen := *u.conn, u.gen
	go func() {
		list, _, err := conn.Users(u.ctx, store.ListOptions{Sort: "name"})
		u.d.do(func() {
			u.reloading = false
			if gen != u.gen || err != nil {
				return
			}
			u.st.SetUsers(list, full)
			u.render()
		})
	}()
}

// background runs fn against the open hub off the UI goroutine and shows
// its error, if any, as a sentence.
func (u *ui) background(what string, fn func(ctx context.Context, c Conn) error) {
	if u.conn == nil {
		return
	}
	c := *u.conn
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, u.d.spawnWait)
		defer cancel()
		if err := fn(ctx, c); err != nil && u.ctx.Err() == nil {
			u.d.do(func() { u.showError(what, err) })
		}
	}()
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

func (u *ui) startServer(user string) {
	u.background("Could not start "+user+"'s server", func(ctx context.Context, c Conn) error {
		_, err := c.Start(ctx, user)
		if errors.Is(err, core.ErrAlreadyRunning) || errors.Is(err, core.ErrCancelled) {
			return nil // someone cancelled it on purpose: nothing to report
		}
		return err
	})
}

// stopServer stops user's server, or cancels its start while it starts.
func (u *ui) stopServer(user string) {
	what := "Could not stop " + user + "'s server"
	if r := u.st.Row(user); r != nil && r.Phase == ServerStarting {
		what = "Could not cancel the start of " + user + "'s server"
	}
	u.background(what, func(ctx context.Context, c Conn) error {
		return c.Stop(ctx, user, false)
	})
}

// confirmDelete asks before deleting a container, and says the work
// folder is kept.
func (u *ui) confirmDelete(user string) {
	if u.conn == nil {
		return
	}
	title := "Delete " + user + "'s container?"
	if user == u.st.Owner {
		title = "Delete your container?"
	}
	msg := fmt.Sprintf("The server stops and its container is removed.\nThe work folder (%s) is kept: "+
		"the next start makes a fresh container from the current settings.", spawner.WorkDir)
	u.showDashboard()
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		if ok {
			u.deleteServer(user)
		}
	}, u.win)
	d.SetConfirmText("Delete container")
	d.SetConfirmImportance(widget.DangerImportance)
	d.SetDismissText("Cancel")
	d.Show()
}

func (u *ui) deleteServer(user string) {
	u.background("Could not delete "+user+"'s container", func(ctx context.Context, c Conn) error {
		return c.Stop(ctx, user, true)
	})
}

func (u *ui) startAll() {
	u.background("Could not start all servers", func(ctx context.Context, c Conn) error {
		n, err := c.StartAll(ctx)
		if err == nil {
			u.d.do(func() { u.notice(fmt.Sprintf("Starting %d servers.", n)) })
		}
		return err
	})
}

func (u *ui) stopAll() {
	u.background("Could not stop all servers", func(ctx context.Context, c Conn) error {
		n, err := c.StopAll(ctx)
		if err == nil {
			u.d.do(func() { u.notice(fmt.Sprintf("Stopped %d servers.", n)) })
		}
		return err
	})
}

func (u *ui) copyClassLink() {
	if u.st.ClassURL == "" {
		return
	}
	u.app.Clipboard().SetContent(u.st.ClassURL)
	u.notice("Copied the class link " + u.st.ClassURL)
}

// openNotebook starts the owner's server if needed, waits for it by
// following events, and opens the browser already logged in through a
// single-use login link.
func (u *ui) openNotebook() {
	if u.conn == nil || u.st.Opening {
		return
	}
	c, owner := *u.conn, u.st.Owner
	u.st.Opening = true
	u.render()
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, u.d.spawnWait)
		defer cancel()
		err := WaitReady(ctx, c, owner)
		var link string
		if err == nil {
			link, err = c.LoginLink(ctx, owner, "")
		}
		if err == nil {
			if err = u.d.openURL(link); err != nil {
				err = fmt.Errorf("open the browser: %w (the link is %s; it works once, for a minute)", err, link)
			}
		}
		u.d.do(func() {
			u.st.Opening = false
			u.render()
			switch {
			case errors.Is(err, ErrStartCancelled):
				u.notice("The start of your notebook was cancelled.")
			case err != nil && u.ctx.Err() == nil:
				u.showError("Could not open your notebook", err)
			}
		})
	}()
}

// ErrStartCancelled is returned by WaitReady when someone stopped the
// server while it was starting: the start was cancelled, not failed.
var ErrStartCancelled = errors.New("the start was cancelled")

// WaitReady starts user's server unless it runs or is on its way, and
// waits until it is ready, woken by the hub's events for user. It says why
// when the server cannot start, and returns ErrStartCancelled when the
// start it asked for was stopped instead of starting it again.
func WaitReady(ctx context.Context, h Hub, user string) error {
	sub := h.Bus().Subscribe(64, false, events.ForUser(user))
	defer sub.Close()
	starts := 0
	for {
		st, err := h.Status(ctx, user)
		if err != nil {
			return err
		}
		switch {
		case st.Ready:
			return nil
		case st.Pending == core.PendingStop && starts > 0:
			return fmt.Errorf("%s's server: %w", user, ErrStartCancelled)
		case st.Pending != "":
			// A start or stop is under way: wait for it to end.
		case starts > 0 && st.Failed != "":
			return errors.New(st.Failed)
		case starts >= 3:
			return fmt.Errorf("%s's server stopped each time it started; see its logs in the dashboard", user)
		default:
			starts++
			_, err := h.Start(ctx, user)
			switch {
			case err == nil, errors.Is(err, core.ErrAlreadyRunning):
				continue
			case errors.Is(err, core.ErrPending):
				// Stopping: start again once it stopped.
				starts--
			case errors.Is(err, core.ErrCancelled):
				return fmt.Errorf("%s's server: %w", user, ErrStartCancelled)
			default:
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s's server is not ready yet: %w", user, ctx.Err())
		case e, ok := <-sub.C:
			if !ok {
				return errors.New("the hub closed")
			}
			if starts > 0 && e.Kind == events.ServerState && e.Reason == events.ReasonCancelling {
				return fmt.Errorf("%s's server: %w", user, ErrStartCancelled)
			}
		}
	}
}

// quit asks whether to stop running servers or leave them for next time.
func (u *ui) quit() {
	n := u.st.Active()
	if u.conn == nil || n == 0 {
		u.d.quit()
		return
	}
	u.showDashboard()
	what := "1 notebook server is"
	if n > 1 {
		what = fmt.Sprintf("%d notebook servers are", n)
	}
	msg := widget.NewLabel(what + " running. Stop them, or leave them running for next time?\n" +
		"Servers left running keep their kernels; classhub finds them again when it starts.")
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomWithoutButtons("Quit classhub", msg, u.win)
	stop := widget.NewButton("Stop them and quit", func() {
		d.Hide()
		if u.conn == nil {
			u.d.quit()
			return
		}
		u.notice("Stopping the servers…")
		c := *u.conn
		go func() {
			ctx, cancel := context.WithTimeout(u.ctx, u.d.spawnWait)
			defer cancel()
			c.StopAll(ctx)
			u.d.do(u.d.quit)
		}()
	})
	stop.Importance = widget.DangerImportance
	leave := widget.NewButton("Leave them running", func() {
		d.Hide()
		u.d.quit()
	})
	leave.Importance = widget.HighImportance
	d.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", d.Hide), stop, leave})
	d.Resize(fyne.NewSize(460, 200))
	d.Show()
}

func (u *ui) showDashboard() {
	u.win.Show()
	u.win.RequestFocus()
	if !u.visible {
		u.visible = true
		u.startStats()
	}
}

// closeDashboard is the window's close button: the app lives on in the
// tray, or, without a tray to come back from, quits (asking first).
func (u *ui) closeDashboard() {
	if u.d.trayHost != nil && !u.d.trayHost() {
		u.quit()
		return
	}
	u.hideDashboard()
}

func (u *ui) hideDashboard() {
	u.visible = false
	u.stopStats()
	u.win.Hide()
}

// startStats samples CPU and memory every statsEvery while the dashboard
// is visible: the engine publishes no event for resource use, so this
// ticker is the UI's one timer. Each round also refreshes the user list,
// since users added through the web admin page or the CLI announce
// nothing on the bus.
func (u *ui) startStats() {
	if u.statsStop != nil || u.conn == nil || u.d.statsEvery <= 0 {
		return
	}
	stop := make(chan struct{})
	u.statsStop = stop
	go func() {
		t := time.NewTicker(u.d.statsEvery)
		defer t.Stop()
		u.d.do(u.sampleStats)
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				u.d.do(u.sampleStats)
			}
		}
	}()
}

func (u *ui) stopStats() {
	if u.statsStop != nil {
		close(u.statsStop)
		u.statsStop = nil
	}
}

// statsWorkers bounds concurrent samples: each takes the engine about a
// second.
const statsWorkers = 4

// sampleStats samples every ready server once, unless a round is still
// running.
func (u *ui) sampleStats() {
	if u.conn == nil || u.statsBusy || !u.visible {
		return
	}
	var names []string
	for _, r := range u.st.Users {
		if r.Phase == ServerReady {
			names = append(names, r.Name)
		}
	}
	u.statsBusy = true
	c, gen := *u.conn, u.gen
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
		defer cancel()
		stats := make([]spawner.Stats, len(names))
		errs := make([]error, len(names))
		sem := make(chan struct{}, statsWorkers)
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				stats[i], errs[i] = c.Containers.Stats(ctx, n)
			}()
		}
		wg.Wait()
		list, _, lerr := c.Users(ctx, store.ListOptions{Sort: "name"})
		u.d.do(func() {
			u.statsBusy = false
			if gen != u.gen {
				return
			}
			if lerr == nil {
				u.st.SetUsers(list, false)
			}
			for i, n := range names {
				if r := u.st.Row(n); r != nil && r.Phase == ServerReady {
					r.Stats, r.HasStats = stats[i], errs[i] == nil
				}
			}
			u.render()
		})
	}()
}

func (u *ui) selectUser(user string) {
	u.st.Selected, u.st.Logs = user, ""
	u.render()
	u.fetchLogs()
}

// fetchLogs shows the end of the selected user's server log.
func (u *ui) fetchLogs() {
	user := u.st.Selected
	if u.conn == nil || user == "" {
		return
	}
	c := *u.conn
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
		defer cancel()
		out, err := c.Containers.Logs(ctx, user, logTail)
		if err != nil {
			out = err.Error()
		} else if out == "" {
			out = "(the server has written nothing yet)"
		}
		u.d.do(func() {
			if u.st.Selected == user {
				u.st.Logs = out
				u.render()
			}
		})
	}()
}

// addUsersDialog asks for names, one per line or separated by commas.
func (u *ui) addUsersDialog() {
	if u.conn == nil {
		return
	}
	names := widget.NewMultiLineEntry()
	names.SetPlaceHolder("alice\nbob, carol")
	names.SetMinRowsVisible(6)
	admin := widget.NewCheck("Make them admins (they can manage the class)", nil)
	items := []*widget.FormItem{
		widget.NewFormItem("Usernames", names),
		widget.NewFormItem("", admin),
	}
	items[0].HintText = "Students get a setup code to choose their password; admins a password. Both are shown once."
	d := dialog.NewForm("Add users", "Add", "Cancel", items, func(ok bool) {
		if ok {
			u.addUsers(SplitNames(names.Text), admin.Checked)
		}
	}, u.win)
	d.Resize(fyne.NewSize(480, 320))
	d.Show()
}

func (u *ui) addUsers(names []string, admin bool) {
	if len(names) == 0 {
		return
	}
	u.background("Could not add the users", func(ctx context.Context, c Conn) error {
		created, err := c.AddUsers(ctx, names, admin)
		if err != nil {
			return err
		}
		u.d.do(func() {
			u.notice(fmt.Sprintf("Added %d users (%d already existed).", len(created), len(names)-len(created)))
			u.reloadUsers(false)
			if hs := roster.AccountHandouts(created); len(hs) > 0 {
				u.showHandouts(hs)
			}
		})
		return nil
	})
}

func (u *ui) showSettings() {
	if u.setWin == nil {
		u.settings = NewSettings(u.d.configPath, u.restartHub)
		u.setWin = u.app.NewWindow("classhub settings")
		u.setWin.SetContent(u.settings.Content())
		u.setWin.Resize(fyne.NewSize(560, 640))
		u.setWin.SetCloseIntercept(u.setWin.Hide)
	}
	u.settings.Load(u.cfg, u.conn != nil)
	u.settings.SetPasswordFunc(nil)
	if u.conn != nil {
		c, owner := *u.conn, u.st.Owner
		u.settings.SetPasswordFunc(func(password string) error {
			ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
			defer cancel()
			return c.SetPassword(ctx, owner, password)
		})
	}
	u.setWin.Show()
	u.setWin.RequestFocus()
}
