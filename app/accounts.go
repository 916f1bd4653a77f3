package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

// Labels of the accounts' buttons and dialogs.
const (
	LabelReset         = "Reset password"
	LabelHandouts      = "Passwords and setup codes"
	LabelCopyHandouts  = "Copy"
	LabelSavePasswords = "Save as CSV…"
	LabelSetupCodes    = "Setup codes…"
	LabelNewCodes      = "Make new codes"
)

// confirmSetupCodes asks before giving every student still waiting for a
// first password a new setup code, to print: the codes handed out before
// stop working.
func (u *ui) confirmSetupCodes() {
	if u.conn == nil {
		return
	}
	var names []string
	for _, r := range u.st.Users {
		names = append(names, r.Name)
	}
	d := dialog.NewConfirm("New setup codes?",
		"Every student who has not set up their account yet gets a new setup code, shown once, to print or save as CSV.\n"+
			"The codes handed out before stop working.",
		func(ok bool) {
			if ok {
				u.renewSetupCodes(names)
			}
		}, u.win)
	d.SetConfirmText(LabelNewCodes)
	d.SetDismissText("Cancel")
	d.Show()
}

func (u *ui) renewSetupCodes(names []string) {
	u.background("Could not make new setup codes", func(ctx context.Context, c Conn) error {
		renewed, err := c.RenewSetupCodes(ctx, names)
		u.d.do(func() {
			if len(renewed) == 0 && err == nil {
				u.notice("Every student has set up their account already: nobody needs a setup code.")
				return
			}
			if len(renewed) > 0 {
				u.showHandouts(hub.AccountHandouts(renewed))
			}
		})
		return err
	})
}

// confirmReset asks before resetting user's password, saying what stops
// working.
func (u *ui) confirmReset(user string) {
	if u.conn == nil {
		return
	}
	u.showDashboard()
	d := dialog.NewConfirm("Reset "+user+"'s password?",
		"Their password, logins and tokens stop working at once; their running server keeps running.\n"+
			"You get a new setup code to hand them (an admin: a new password), shown once.",
		func(ok bool) {
			if ok {
				u.resetUser(user)
			}
		}, u.win)
	d.SetConfirmText(LabelReset)
	d.SetDismissText("Cancel")
	d.Show()
}

func (u *ui) resetUser(user string) {
	u.background("Could not reset "+user+"'s password", func(ctx context.Context, c Conn) error {
		a, err := c.ResetUser(ctx, user)
		if err != nil {
			return err
		}
		u.d.do(func() {
			u.notice("Reset " + user + "'s password: their old password, logins and tokens no longer work.")
			u.showHandouts(hub.AccountHandouts([]hub.Account{a}))
		})
		return nil
	})
}

// handoutsText is handouts as the dialog lists them, one person a line.
func handoutsText(hs []hub.Handout) string {
	var b strings.Builder
	for _, h := range hs {
		if h.SetupCode != "" {
			fmt.Fprintf(&b, "%s\tsetup code %s\n", h.Name, h.SetupCode)
		} else {
			fmt.Fprintf(&b, "%s\tpassword %s\n", h.Name, h.Password)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// showHandouts shows the generated passwords and setup codes of new or
// reset accounts: the hub keeps only their hashes, so this is the one time
// anyone sees them.
func (u *ui) showHandouts(hs []hub.Handout) {
	text := handoutsText(hs)
	list := widget.NewLabel(text)
	list.TextStyle.Monospace = true
	list.Selectable = true
	intro := widget.NewLabel("These are shown only this once: copy or save them, or write them down, before you close this. " +
		"Students open the class link, choose “Set up your account” and type their username, setup code and a password of their own.")
	intro.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	copyBtn := widget.NewButton(LabelCopyHandouts, func() {
		u.app.Clipboard().SetContent(text)
		u.notice("Copied the passwords and setup codes.")
	})
	save := widget.NewButton(LabelSavePasswords, func() {
		fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) { u.saveHandouts(w, err, hs) }, u.win)
		fd.SetFileName("classhub-accounts.csv")
		fd.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
		fd.Show()
	})
	save.Importance = widget.HighImportance
	closeBtn := widget.NewButton("Close", func() { d.Hide() })
	body := container.NewBorder(intro, container.NewHBox(closeBtn, copyBtn, save), nil, nil, container.NewVScroll(list))
	d = dialog.NewCustomWithoutButtons(LabelHandouts, body, u.win)
	d.Resize(fyne.NewSize(520, 400))
	d.Show()
}

// saveHandouts writes hs as CSV, with the class link, to w, the file
// chosen in the save dialog (nil when it was cancelled).
func (u *ui) saveHandouts(w fyne.URIWriteCloser, err error, hs []hub.Handout) {
	if err == nil && w == nil {
		return
	}
	if err == nil {
		link := ""
		if u.conn != nil {
			link = u.conn.ClassURL()
		}
		err = hub.WriteHandoutsCSV(w, hs, link)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		u.showError("Could not save the passwords and setup codes", fmt.Errorf("%w; they are still shown, save them elsewhere", err))
		return
	}
	u.notice("Saved the passwords and setup codes to " + w.URI().Path() + ".")
}
