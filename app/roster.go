package app

import (
	"context"
	"fmt"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

// importRosterDialog adds the users of a roster file.
func (u *ui) importRosterDialog() {
	if u.conn == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			if err != nil {
				u.showError("Could not open the roster", err)
			}
			return
		}
		defer r.Close()
		u.importRoster(r)
	}, u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".txt", ".tsv"}))
	d.Show()
}

// importRoster reads a roster with hub.ParseRoster, as the admin page and
// `classhub users import` do, so one file gives the same users and
// passwords everywhere. When some students have no password in the file
// it asks whether to generate theirs or give them setup codes, with which
// they choose their own at first login.
func (u *ui) importRoster(r io.Reader) {
	entries, err := hub.ParseRoster(r)
	if err != nil {
		u.showError("Could not import the roster", fmt.Errorf("%w\nNobody was added; fix the roster and import it again", err))
		return
	}
	missing := 0
	for _, e := range entries {
		if e.Password == "" {
			missing++
		}
	}
	if missing == 0 {
		u.runImport(entries, false)
		return
	}
	students := fmt.Sprintf("%d students have", missing)
	if missing == 1 {
		students = "1 student has"
	}
	msg := widget.NewLabel(students + " no password in the roster. Generate passwords for them now, to hand out,\n" +
		"or give each a setup code with which they choose their own when they first log in?")
	var d dialog.Dialog
	choose := func(generate bool) func() {
		return func() {
			d.Hide()
			u.runImport(entries, generate)
		}
	}
	gen := widget.NewButton(LabelGeneratePasswords, choose(true))
	gen.Importance = widget.HighImportance
	own := widget.NewButton(LabelLetThemChoose, choose(false))
	cancel := widget.NewButton("Cancel", func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Import roster", container.NewVBox(msg, container.NewHBox(cancel, own, gen)), u.win)
	d.Show()
}

// Labels of the roster import's question.
const (
	LabelGeneratePasswords = "Generate passwords"
	LabelLetThemChoose     = "Give them setup codes"
)

// runImport creates the roster's users and shows the generated passwords
// and setup codes once.
func (u *ui) runImport(entries []hub.RosterEntry, generate bool) {
	u.background("Could not import the roster", func(ctx context.Context, c Conn) error {
		done, err := c.ImportRoster(ctx, entries, generate)
		u.d.do(func() {
			if len(done) == 0 {
				return
			}
			created, generated := 0, 0
			for _, im := range done {
				if im.Created {
					created++
				}
				if im.Generated {
					generated++
				}
			}
			msg := fmt.Sprintf("Imported the roster: added %d users (%d already existed).", created, len(done)-created)
			if generated > 0 {
				msg = fmt.Sprintf("Imported the roster: added %d users, %d with generated passwords (%d already existed).",
					created, generated, len(done)-created)
			}
			u.notice(msg)
			u.reloadUsers(false)
			if hs := hub.Handouts(done); len(hs) > 0 {
				u.showHandouts(hs)
			}
		})
		return err
	})
}
