package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

// Labels of handing out and collecting.
const (
	LabelHandOutFolder = "Hand out…"
	LabelCollectFolder = "Collect…"
	// LabelKeptFiles opens the files kept of deleted students.
	LabelKeptFiles = "Kept files…"
)

// folderWait bounds a handout or a collect: a large folder for a large
// class takes minutes, not hours.
const folderWait = 30 * time.Minute

// handoutDialog asks for a folder and hands it out to every student.
func (u *ui) handoutDialog() {
	if u.conn == nil {
		return
	}
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			if err != nil {
				u.showError("Could not open the folder", err)
			}
			return
		}
		u.handOut(l.Path())
	}, u.win)
	d.Show()
}

// handOut hands the folder src out to every student, showing progress
// and then each student's result.
func (u *ui) handOut(src string) {
	u.runFolderJob("Hand out "+filepath.Base(src), func(ctx context.Context, c Conn, progress hub.Progress) (string, error) {
		rs, err := c.Handout(ctx, src, nil, progress)
		return HandoutReport(rs), err
	})
}

// collectInto gathers every student's work/dir into out.
func (u *ui) collectInto(dir, out string) {
	u.runFolderJob("Collect "+dir, func(ctx context.Context, c Conn, progress hub.Progress) (string, error) {
		rs, err := c.Collect(ctx, dir, out, nil, progress)
		if err != nil {
			return "", err
		}
		return CollectReport(rs, dir, out), nil
	})
}

// collectDialog asks for the folder's name and where to put the copies,
// then collects it from every student into a new folder there.
func (u *ui) collectDialog() {
	if u.conn == nil {
		return
	}
	name := widget.NewEntry()
	name.SetPlaceHolder("week1")
	dialog.ShowForm("Collect a folder", "Choose where to put it…", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Folder in work/", name)}, func(ok bool) {
			dir := strings.TrimSpace(name.Text)
			if !ok || dir == "" {
				return
			}
			d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
				if err != nil || l == nil {
					if err != nil {
						u.showError("Could not open the folder", err)
					}
					return
				}
				u.collectInto(dir, filepath.Join(l.Path(), dir+" collected "+time.Now().Format("2006-01-02 1504")))
			}, u.win)
			d.Show()
		}, u.win)
}

// runFolderJob shows a progress bar while job runs on every student, then
// its per-student report in the same dialog.
func (u *ui) runFolderJob(title string, job func(ctx context.Context, c Conn, progress hub.Progress) (string, error)) {
	c := u.conn
	if c == nil {
		return
	}
	bar := widget.NewProgressBar()
	report := widget.NewLabel("Working…")
	report.Wrapping = fyne.TextWrapWord
	report.Selectable = true
	scroll := container.NewVScroll(report)
	scroll.SetMinSize(fyne.NewSize(560, 300))
	d := dialog.NewCustom(title, "Close", container.NewBorder(bar, nil, nil, nil, scroll), u.win)
	d.Show()
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, folderWait)
		defer cancel()
		text, err := job(ctx, c, func(done, total int) {
			u.d.do(func() { bar.SetValue(float64(done) / float64(total)) })
		})
		u.d.do(func() {
			bar.SetValue(1)
			if err != nil {
				text = strings.TrimSpace("Nothing was done for anyone: " + err.Error() + "\n" + text)
			}
			report.SetText(text)
		})
	}()
}

// HandoutReport says what a handout did for each student.
func HandoutReport(rs []hub.HandoutResult) string {
	var b strings.Builder
	for _, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(&b, "%s: failed: %v\n", r.User, r.Err)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", r.User, r.Summary())
		for _, f := range r.Files {
			switch f.Outcome {
			case "kept":
				fmt.Fprintf(&b, "    kept %s, which they changed; the new version is %s\n", f.Path, f.Beside)
			case "failed":
				fmt.Fprintf(&b, "    could not hand out %s: %s\n", f.Path, f.Beside)
			}
		}
	}
	return b.String()
}

// CollectReport says what a collect of dir into out found of each
// student's folder: the hub's sentence for the whole, as the CLI ends
// with it, then each student's, as the CLI and the hand-out page say it.
func CollectReport(rs []hub.Collected, dir, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", hub.CollectSummary(dir, out, rs))
	for _, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(&b, "%s: failed: %v\n", r.User, r.Err)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", r.User, r.Summary())
	}
	return b.String()
}
