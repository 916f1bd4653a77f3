package app

import (
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/classhub/classhub/internal/dbustest"
)

func TestHasTrayHost(t *testing.T) {
	addr := dbustest.SessionBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)

	if hasTrayHost() {
		t.Error("a tray host found on a bus without a StatusNotifierWatcher")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	if !hasTrayHost() {
		t.Error("no tray host found although the watcher name is owned")
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	if hasTrayHost() {
		t.Error("a tray host found without a session bus")
	}
}
