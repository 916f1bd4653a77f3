// Package coretest holds helpers for tests that drive a real core.Lifecycle with
// a fake spawner, as the API and web tests do.
package coretest

import (
	"context"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/core"
)

// WaitStatus waits until user's server status satisfies ok. Starts and
// stops run in the background, so a test waits on the state it needs
// rather than on a sleep; the deadline only stops a hang.
func WaitStatus(t testing.TB, h *core.Lifecycle, user string, ok func(core.ServerStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := h.Status(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's server never got there: %+v", user, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Pending reports whether a start is in flight.
func Pending(s core.ServerStatus) bool { return s.Pending == core.PendingSpawn }
