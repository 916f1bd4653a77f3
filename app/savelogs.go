package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// saveLogsDialog asks where to save the log the dashboard shows, to keep
// it or send it to whoever helps: the hub's (classhub.log) or the
// selected user's server's.
func (u *ui) saveLogsDialog() {
	user := u.st.Selected
	name := "classhub.log"
	if user != "" {
		name = "classhub-" + user + ".log"
	}
	fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) { u.saveLogs(w, err, user) }, u.win)
	fd.SetFileName(name)
	fd.Show()
}

// saveLogs writes the log the dialog was opened for to w, whole: every
// generation of the hub's log, or the server's log since it started. w is
// nil when the dialog was cancelled.
func (u *ui) saveLogs(w fyne.URIWriteCloser, err error, user string) {
	if err == nil && w == nil {
		return
	}
	if err != nil {
		u.showError("Could not save the log", err)
		return
	}
	c, hubLog := u.conn, u.d.hubLog
	go func() {
		var text string
		var err error
		switch {
		case user == "" && hubLog != nil:
			text, err = hubLog(0)
		case user == "":
			err = errors.New("this app keeps no hub log")
		case c == nil:
			err = fmt.Errorf("%s's server log needs the hub running: start it, then save again", user)
		default:
			ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
			text, err = c.Logs(ctx, user, 0)
			cancel()
		}
		if err == nil {
			_, err = io.WriteString(w, text)
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		u.d.do(func() {
			if err != nil {
				u.showError("Could not save the log", err)
				return
			}
			u.notice("Saved the log to " + w.URI().Path() + ".")
		})
	}()
}
