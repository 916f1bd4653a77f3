package web

import (
	"github.com/classhub/classhub/internal/testclock"
	"testing"
	"time"
)

func TestLimiterSlidingWindow(t *testing.T) {
	c := testclock.New(time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC))
	l := newLimiter(3, time.Minute, c.Now)
	start := c.Now()
	for i := 0; i < 3; i++ {
		if at := l.retryAt("k"); !at.IsZero() {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("k")
		c.Advance(10 * time.Second)
	}
	// Failures at 0, 10 and 20 s: blocked until the first ages out.
	if at := l.retryAt("k"); !at.Equal(start.Add(time.Minute)) {
		t.Fatalf("retry at %v, want %v", at, start.Add(time.Minute))
	}
	if !l.retryAt("other").IsZero() {
		t.Fatal("another key is blocked")
	}
	c.Advance(30 * time.Second) // t = 60 s: the first failure no longer counts
	if at := l.retryAt("k"); !at.IsZero() {
		t.Fatalf("still blocked at the end of the window: %v", at)
	}
	l.fail("k") // 10, 20, 60 s
	if at := l.retryAt("k"); !at.Equal(start.Add(10*time.Second + time.Minute)) {
		t.Fatalf("retry at %v after a fresh failure", at)
	}
	l.reset("k")
	if !l.retryAt("k").IsZero() {
		t.Fatal("blocked after reset")
	}
}

func TestLimiterForgetsOldKeys(t *testing.T) {
	c := testclock.New(time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC))
	l := newLimiter(5, time.Minute, c.Now)
	for _, k := range []string{"a", "b", "c"} {
		l.fail(k)
	}
	c.Advance(2 * time.Minute)
	l.fail("d")
	l.mu.Lock()
	n := len(l.fails)
	l.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d keys kept, want only the fresh one", n)
	}
}

func TestLoginGuard(t *testing.T) {
	c := testclock.New(time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC))
	g := newLoginGuard(c.Now)
	for i := 0; i < userFailures; i++ {
		g.failed("alice", "10.0.0.1")
	}
	if g.blocked("alice", "10.0.0.2").IsZero() {
		t.Fatal("alice is not blocked from another address")
	}
	if !g.blocked("bob", "10.0.0.1").IsZero() {
		t.Fatal("bob is blocked after alice's failures")
	}
	g.succeeded("alice")
	if !g.blocked("alice", "10.0.0.1").IsZero() {
		t.Fatal("alice still blocked after logging in")
	}
	for i := 0; i < addrFailures; i++ {
		g.failed("", "10.0.0.9")
	}
	if g.blocked("", "10.0.0.9").IsZero() || g.blocked("carol", "10.0.0.9").IsZero() {
		t.Fatal("the address is not blocked")
	}
	g.succeeded("carol")
	if g.blocked("carol", "10.0.0.9").IsZero() {
		t.Fatal("a success reset the address's count")
	}
}
