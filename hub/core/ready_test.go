package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitReadyStartsAndWaits(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.slowSpawn = time.Millisecond // the wait outlasts Start's
	ctx := context.Background()
	f.hub.Boot(ctx)
	release := f.sp.Hold("alice")
	time.AfterFunc(50*time.Millisecond, release)
	s, err := f.hub.WaitReady(ctx, "alice")
	if err != nil || !s.Ready {
		t.Fatalf("WaitReady = %+v, %v; want ready", s, err)
	}
	// Ready already: nothing more to start.
	if s, err := f.hub.WaitReady(ctx, "alice"); err != nil || !s.Ready || f.sp.Starts("alice") != 1 {
		t.Errorf("WaitReady on a running server = %+v, %v, %d starts", s, err, f.sp.Starts("alice"))
	}
}

func TestWaitReadySaysWhyTheStartFailed(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.sp.FailWith("alice", errors.New("no such image"))
	if _, err := f.hub.WaitReady(ctx, "alice"); err == nil || !strings.Contains(err.Error(), "no such image") {
		t.Errorf("WaitReady = %v, want the spawner's reason", err)
	}
	if f.sp.Starts("alice") != 1 {
		t.Errorf("a failed start was tried %d times", f.sp.Starts("alice"))
	}
	if _, err := f.hub.WaitReady(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("WaitReady(nobody) = %v, want ErrNoSuchUser", err)
	}
}

func TestWaitReadyGivesUpOnAStartAStopCancelled(t *testing.T) {
	for _, wait := range []time.Duration{time.Millisecond, time.Minute} {
		// Start has given up waiting, or still waits, when the stop comes.
		t.Run(wait.String(), func(t *testing.T) {
			f := newFixture(t, "alice")
			f.hub.slowSpawn = wait
			ctx := context.Background()
			f.hub.Boot(ctx)
			defer f.sp.Hold("alice")()
			ready := make(chan error, 1)
			go func() {
				_, err := f.hub.WaitReady(ctx, "alice")
				ready <- err
			}()
			f.waitSpawnerStarts(t, "alice", 1)
			if err := f.hub.Stop(ctx, "alice", false); err != nil {
				t.Fatal(err)
			}
			if err := <-ready; !errors.Is(err, ErrCancelled) {
				t.Errorf("WaitReady = %v, want ErrCancelled", err)
			}
			if n := f.sp.Starts("alice"); n != 1 {
				t.Errorf("the cancelled start was started again (%d starts)", n)
			}
		})
	}
}

func TestWaitReadyEndsWithCtx(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.slowSpawn = time.Millisecond
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	// The ctx ends once the start is under way, not after a fixed time: a
	// loaded machine can take longer than any short timeout to read the
	// status, and WaitReady would then end before it asked for a start.
	wait, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		s   ServerStatus
		err error
	}
	ready := make(chan result, 1)
	go func() {
		s, err := f.hub.WaitReady(wait, "alice")
		ready <- result{s, err}
	}()
	f.waitSpawnerStarts(t, "alice", 1)
	cancel()
	r := <-ready
	if !errors.Is(r.err, context.Canceled) || r.s.Pending != PendingSpawn {
		t.Errorf("WaitReady = %+v, %v; want pending and the ctx's end", r.s, r.err)
	}
}

// TestWaitReadyWhoseCtxEndsWhileItLooks: a ctx that ends while WaitReady
// reads the status, not only while it waits for events, still gives the
// status and says the server is not ready yet.
func TestWaitReadyWhoseCtxEndsWhileItLooks(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.slowSpawn = time.Millisecond
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	if _, err := f.hub.Start(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	s, err := f.hub.WaitReady(ended, "alice")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not ready yet") || s.Pending != PendingSpawn {
		t.Errorf("WaitReady = %+v, %v; want pending and not ready yet", s, err)
	}
}
