package app

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

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
		c := u.conn
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

func (u *ui) showSettings() {
	if u.setWin == nil {
		u.settings = NewSettings(u.d.configPath, u.restartHub)
		u.setWin = u.app.NewWindow("classhub settings")
		u.setWin.SetContent(u.settings.Content())
		u.setWin.Resize(fyne.NewSize(560, 640))
		u.setWin.SetCloseIntercept(u.setWin.Hide)
	}
	u.settings.Load(u.cfg, u.conn != nil)
	if list := u.d.localImages; list != nil {
		// Asking the engine may take a moment; the list fills in when
		// it answers, and stays empty (typing still works) if it cannot.
		go func() {
			ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
			defer cancel()
			if images, err := list(ctx); err == nil && u.ctx.Err() == nil {
				u.d.do(func() { u.settings.SetImages(images) })
			}
		}()
	}
	u.settings.SetPasswordFunc(nil)
	u.settings.SetImageFunc(nil)
	if u.conn != nil {
		c, owner := u.conn, u.st.Owner
		u.settings.SetPasswordFunc(func(password string) error {
			ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
			defer cancel()
			return c.SetPassword(ctx, owner, password)
		})
		u.settings.SetImageFunc(func(ref string) (hub.ImageChange, error) {
			ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
			defer cancel()
			return c.SetImage(ctx, ref)
		})
	}
	u.setWin.Show()
	u.setWin.RequestFocus()
}
