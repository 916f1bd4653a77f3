package app

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

// background runs fn against the open hub off the UI goroutine and shows
// its error, if any, as a sentence.
func (u *ui) background(what string, fn func(ctx context.Context, c Conn) error) {
	if u.conn == nil {
		return
	}
	c := u.conn
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, u.d.spawnWait)
		defer cancel()
		if err := fn(ctx, c); err != nil && u.ctx.Err() == nil {
			u.d.do(func() { u.showError(what, err) })
		}
	}()
}

func (u *ui) startServer(user string) {
	u.background("Could not start "+user+"'s server", func(ctx context.Context, c Conn) error {
		_, err := c.Start(ctx, user)
		if errors.Is(err, hub.ErrAlreadyRunning) || errors.Is(err, hub.ErrCancelled) {
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

// confirmDelete asks before deleting a container, says the work folder is
// kept, and offers to delete it too, for good, once the user's name is
// typed again.
func (u *ui) confirmDelete(user string) {
	if u.conn == nil {
		return
	}
	title := "Delete " + user + "'s container?"
	if user == u.st.Owner {
		title = "Delete your container?"
	}
	msg := widget.NewLabel(fmt.Sprintf("The server stops and its container is removed.\nThe work folder (%s) is kept: "+
		"the next start makes a fresh container from the current settings.", hub.WorkDir))
	typed := widget.NewEntry()
	typed.SetPlaceHolder("Type " + user + " to confirm")
	typed.Disable()
	wipe := widget.NewCheck("Also delete everything in the work folder, for good", func(on bool) {
		if on {
			typed.Enable()
		} else {
			typed.SetText("")
			typed.Disable()
		}
	})
	u.showDashboard()
	d := dialog.NewCustomConfirm(title, "Delete container", "Cancel", container.NewVBox(msg, wipe, typed), func(ok bool) {
		switch {
		case !ok:
		case wipe.Checked:
			u.wipeServer(user, typed.Text)
		default:
			u.deleteServer(user)
		}
	}, u.win)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (u *ui) deleteServer(user string) {
	u.background("Could not delete "+user+"'s container", func(ctx context.Context, c Conn) error {
		return c.Stop(ctx, user, true)
	})
}

// wipeServer deletes user's container and files; the hub refuses unless
// typed is their name.
func (u *ui) wipeServer(user, typed string) {
	u.background("Could not delete "+user+"'s files", func(ctx context.Context, c Conn) error {
		if err := c.ResetServer(ctx, user, true, typed); err != nil {
			return err
		}
		u.d.do(func() { u.notice("Deleted " + user + "'s container and files.") })
		return nil
	})
}

// startAll starts every stopped server, first asking, with the numbers,
// when that takes the laptop past what it holds.
func (u *ui) startAll() {
	n := 0
	for _, r := range u.st.Users {
		// What the hub's StartAll starts: every server not running or on
		// its way, a failed one included.
		if r.Phase == ServerStopped || r.Phase == ServerFailed {
			n++
		}
	}
	u.background("Could not start all servers", func(ctx context.Context, c Conn) error {
		if q := c.StartAllQuestion(ctx, n); q != "" {
			u.d.do(func() { u.confirmStartAll(q) })
			return nil
		}
		return u.doStartAll(ctx, c)
	})
}

// confirmStartAll asks question before starting every server.
func (u *ui) confirmStartAll(question string) {
	u.showDashboard()
	d := dialog.NewConfirm("Start all servers?", question, func(ok bool) {
		if ok {
			u.background("Could not start all servers", u.doStartAll)
		}
	}, u.win)
	d.SetConfirmText("Start them all")
	d.SetDismissText("Cancel")
	d.Show()
}

func (u *ui) doStartAll(ctx context.Context, c Conn) error {
	n, err := c.StartAll(ctx)
	if err == nil {
		u.d.do(func() { u.notice(fmt.Sprintf("Starting %d servers.", n)) })
	}
	return err
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

// classPagePath is the hub's page for the projector; keptFilesPath
// lists the files kept of deleted students, with restore and delete.
const (
	classPagePath = "/hub/class"
	keptFilesPath = "/hub/admin/volumes"
)

// showClassPage opens the class page for the projector (the class link,
// its QR code, the join code, who has joined) in the browser.
func (u *ui) showClassPage() { u.openHubPage(classPagePath, "Could not show the class page") }

// showKeptFiles opens the page of the files kept of deleted students in
// the browser, where they are restored to an account or deleted.
func (u *ui) showKeptFiles() { u.openHubPage(keptFilesPath, "Could not show the kept files") }

// openHubPage opens the hub's page at path in the browser, logged in as
// the owner through a single-use login link; failing says title.
func (u *ui) openHubPage(path, title string) {
	if u.conn == nil {
		return
	}
	owner := u.st.Owner
	u.background(title, func(ctx context.Context, c Conn) error {
		link, err := c.LoginLink(ctx, owner, path)
		if err != nil {
			return err
		}
		if err := u.d.openURL(link); err != nil {
			return fmt.Errorf("open the browser: %w (the link is %s; it works once, for a minute)", err, link)
		}
		return nil
	})
}

// openNotebook starts the owner's server if needed, waits for it by
// following events, and opens the browser already logged in through a
// single-use login link.
func (u *ui) openNotebook() {
	if u.conn == nil || u.st.Opening {
		return
	}
	c, owner := u.conn, u.st.Owner
	u.st.Opening = true
	u.render()
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, u.d.spawnWait)
		defer cancel()
		_, err := c.WaitReady(ctx, owner)
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
			case errors.Is(err, hub.ErrCancelled):
				u.notice("The start of your notebook was cancelled.")
			case err != nil && u.ctx.Err() == nil:
				u.showError("Could not open your notebook", err)
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
			u.addUsers(hub.SplitNames(names.Text), admin.Checked)
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
			if hs := hub.AccountHandouts(created); len(hs) > 0 {
				u.showHandouts(hs)
			}
		})
		return nil
	})
}
