package app

import (
	"runtime"

	"github.com/godbus/dbus/v5"
)

// hasTrayHost reports whether the desktop shows tray icons. On Linux and
// the BSDs that takes a StatusNotifierWatcher on the session bus, which
// GNOME lacks without an extension; fyne's tray then does nothing, so a
// hidden window could not be brought back. macOS and Windows always have
// a tray.
func hasTrayHost() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
