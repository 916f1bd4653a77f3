// Package app is classhub's desktop face: the tray menu, the dashboard and
// the settings window. It renders hub state and calls hub methods; anything
// the CLI or the web pages need too lives in hub/.
package app

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/assets"
)

// ID is the application ID, as in FyneApp.toml.
const ID = "org.classhub.classhub"

// Options configure Run.
type Options struct {
	DataDir string
	Version string
}

// Run opens the desktop app and returns when it quits.
func Run(opts Options) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("classhub")
	w.SetContent(Placeholder(opts))
	w.Resize(fyne.NewSize(480, 240))
	if desk, ok := a.(desktop.App); ok {
		desk.SetSystemTrayIcon(fyne.NewStaticResource("tray-stopped.png", assets.TrayStopped))
		desk.SetSystemTrayMenu(fyne.NewMenu("classhub",
			fyne.NewMenuItem("Dashboard…", w.Show),
		))
		desk.SetSystemTrayWindow(w)
	}
	w.ShowAndRun()
	return nil
}

// Placeholder is the window's content until the dashboard lands.
func Placeholder(opts Options) fyne.CanvasObject {
	return container.NewVBox(
		widget.NewLabelWithStyle("classhub "+opts.Version, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("The dashboard is on its way. To host a class now, run `classhub serve`."),
		widget.NewLabel("Data folder: "+opts.DataDir),
	)
}
