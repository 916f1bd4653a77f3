package sse

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// follow runs Follow and fails the test if it has not returned within a
// few seconds.
func follow(t *testing.T, ctx context.Context, s *Stream, l Loop, c <-chan int, on func(int) error) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(ctx, s, l, c, on)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return")
	}
}

func TestFollowSendsUntilTheSubscriptionCloses(t *testing.T) {
	rec := httptest.NewRecorder()
	s := Open(rec)
	c := make(chan int, 3)
	c <- 1
	c <- 2
	close(c)
	follow(t, context.Background(), s, Loop{KeepAlive: time.Hour}, c, func(v int) error { return s.Send(v) })
	if got, want := rec.Body.String(), "data: 1\n\ndata: 2\n\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func TestFollowEndsWhenAnEventFails(t *testing.T) {
	c := make(chan int, 2)
	c <- 1
	c <- 2
	var seen []int
	follow(t, context.Background(), Open(httptest.NewRecorder()), Loop{KeepAlive: time.Hour}, c, func(v int) error {
		seen = append(seen, v)
		return errors.New("gone")
	})
	if len(seen) != 1 || len(c) != 1 {
		t.Errorf("handled %v and left %d: want the first only", seen, len(c))
	}
}

func TestFollowEndsOnShutdownAndWithTheRequest(t *testing.T) {
	shutdown := make(chan struct{})
	close(shutdown)
	follow(t, context.Background(), Open(httptest.NewRecorder()), Loop{Shutdown: shutdown, KeepAlive: time.Hour}, make(chan int), func(int) error { return nil })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	follow(t, ctx, Open(httptest.NewRecorder()), Loop{KeepAlive: time.Hour}, make(chan int), func(int) error { return nil })
}

func TestFollowKeepsAliveWhileAlive(t *testing.T) {
	rec := httptest.NewRecorder()
	s := Open(rec)
	var asked atomic.Int32
	alive := func() bool { return asked.Add(1) < 3 }
	follow(t, context.Background(), s, Loop{KeepAlive: time.Millisecond, Alive: alive}, make(chan int), func(int) error { return nil })
	// Asked three times: two keep-alives, then the end.
	if got, want := rec.Body.String(), strings.Repeat("\n\n", 2); got != want || asked.Load() != 3 {
		t.Errorf("asked %d times and wrote %q, want 3 and %q", asked.Load(), got, want)
	}
}

// failing refuses every write, as a connection the client has closed.
type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestFollowEndsWhenAKeepAliveFails(t *testing.T) {
	follow(t, context.Background(), &Stream{w: failing{}}, Loop{KeepAlive: time.Millisecond}, make(chan int), func(int) error { return nil })
}

func TestFollowTicks(t *testing.T) {
	var ticks atomic.Int32
	tick := func() error {
		if ticks.Add(1) == 3 {
			return errors.New("enough")
		}
		return nil
	}
	follow(t, context.Background(), Open(httptest.NewRecorder()), Loop{KeepAlive: time.Hour, Every: time.Millisecond, Tick: tick}, make(chan int), func(int) error { return nil })
	if ticks.Load() != 3 {
		t.Errorf("ticked %d times, want 3", ticks.Load())
	}
}
