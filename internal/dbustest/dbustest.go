// Package dbustest gives tests a private D-Bus session bus, so tray tests
// never touch the desktop's own.
package dbustest

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/internal/testenv"
)

// SessionBus starts a private session bus for the test and returns its
// address; the bus stops when the test ends.
func SessionBus(t testing.TB) string {
	t.Helper()
	cmd := exec.Command(testenv.Command(t, "dbus-daemon"), "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon gave no address")
		}
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("dbus-daemon gave no address within 30 s")
		return ""
	}
}
