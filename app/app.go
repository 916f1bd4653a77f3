// Package app is classhub's desktop face: the tray menu, the dashboard and
// the settings window. It renders hub state from the hub's event stream
// and calls hub methods; anything the CLI or the web pages need too lives
// in hub/.
//
// One State (state.go) holds what is shown. Events from the hub's bus and
// results of hub calls change it on the UI goroutine (fyne.Do); the tray
// menu (tray.go) and the windows (dashboard.go, settings.go) are rebuilt or
// refreshed from it. The ui (ui.go) ties them to the hub: hubconn.go opens
// it and follows its events, actions.go does what people click, stats.go
// samples the servers and reads their logs, window.go shows, hides and
// quits.
package app

import (
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"github.com/pkg/browser"

	"github.com/classhub/classhub/assets"
	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

// ID is the application ID, as in FyneApp.toml.
const ID = "org.classhub.classhub"

// Options configure Run.
type Options struct {
	DataDir string
	Version string
}

// Run opens the desktop app with the hub inside it and returns when it
// quits. The window and tray appear at once; the hub opens behind them.
func Run(opts Options) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	u := newUI(a, deps{
		open:        openReal(opts.DataDir, opts.Version),
		configPath:  filepath.Join(opts.DataDir, config.FileName),
		doctor:      hub.Doctor,
		localImages: hub.LocalImages,
		openURL:     browser.OpenURL,
		do:          fyne.Do,
		now:         time.Now,
		statsEvery:  5 * time.Second,
		spawnWait:   15 * time.Minute,
		quit:        a.Quit,
		trayHost:    hasTrayHost,
		hubLog:      func(tail int) (string, error) { return hub.ReadLog(opts.DataDir, tail) },
		classes:     classclient.OpenStore(filepath.Join(opts.DataDir, "classes")),
		classPoll:   5 * time.Second,
	})
	u.start()
	a.Run()
	u.shutdown()
	return nil
}
