package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/classhub/classhub/internal/testclock"
)

func newTestThrottle() (*throttle, *testclock.Clock) {
	c := testclock.New(time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC))
	return newThrottle(c.Now), c
}

// try begins a try and settles it at once; it returns the wait of a
// refused one.
func try(t *testing.T, th *throttle, name, addr string, ok bool) time.Duration {
	t.Helper()
	done, wait := th.Begin(name, addr)
	if done == nil {
		if wait <= 0 {
			t.Fatalf("%s from %s refused without a wait", name, addr)
		}
		return wait
	}
	if wait != 0 {
		t.Fatalf("%s from %s allowed with a wait of %v", name, addr, wait)
	}
	done(ok)
	return 0
}

func TestThrottleDelayDoubles(t *testing.T) {
	th, c := newTestThrottle()
	for i := 0; i < pairFree; i++ {
		if w := try(t, th, "alice", "10.0.0.1", false); w != 0 {
			t.Fatalf("failure %d of the free ones waits %v", i+1, w)
		}
	}
	want := time.Second
	for i := 0; i < 12; i++ {
		if w := try(t, th, "alice", "10.0.0.1", true); w != want {
			t.Fatalf("after %d failures the wait is %v, want %v", pairFree+i, w, want)
		}
		c.Advance(want - time.Millisecond)
		if w := try(t, th, "alice", "10.0.0.1", true); w != time.Millisecond {
			t.Fatalf("a millisecond early the wait is %v", w)
		}
		c.Advance(time.Millisecond)
		if w := try(t, th, "alice", "10.0.0.1", false); w != 0 {
			t.Fatalf("refused after waiting: %v", w)
		}
		want = min(2*want, pairMaxDelay)
	}
	if want != pairMaxDelay {
		t.Fatalf("the delay never reached its cap: %v", want)
	}
	// Others are not slowed: the same name from elsewhere, another name
	// from here.
	if try(t, th, "alice", "10.0.0.2", false) != 0 || try(t, th, "bob", "10.0.0.1", true) != 0 {
		t.Fatal("the delay of alice from 10.0.0.1 slowed another pair")
	}
	// A success clears the pair's failures.
	c.Advance(pairMaxDelay)
	try(t, th, "alice", "10.0.0.1", true)
	for i := 0; i < pairFree; i++ {
		if w := try(t, th, "alice", "10.0.0.1", false); w != 0 {
			t.Fatalf("failure %d after a success waits %v", i+1, w)
		}
	}
}

// TestThrottleCountsTriesInFlight is the race of finding 7: tries that
// begin together, before any has been checked, count one by one.
func TestThrottleCountsTriesInFlight(t *testing.T) {
	th, _ := newTestThrottle()
	var dones []func(bool)
	for i := 0; i < 100; i++ {
		if done, _ := th.Begin("alice", "10.0.0.1"); done != nil {
			dones = append(dones, done)
		}
	}
	if len(dones) != pairFree {
		t.Fatalf("%d of 100 tries in flight went ahead, want %d", len(dones), pairFree)
	}
	for _, done := range dones {
		done(false)
		done(false) // a second call changes nothing
	}
	if _, wait := th.Begin("alice", "10.0.0.1"); wait != time.Second {
		t.Fatalf("after %d failures the wait is %v, want 1s", pairFree, wait)
	}
}

func TestThrottleNameLock(t *testing.T) {
	th, c := newTestThrottle()
	var dones []func(bool)
	for i := 0; i < 2*nameFailures; i++ {
		if done, _ := th.Begin("alice", "10.1.0."+strconv.Itoa(i)); done != nil {
			dones = append(dones, done)
		}
	}
	// The lock trips at the last counted try; one more goes through it
	// from an address that has not failed.
	if len(dones) != nameFailures+1 {
		t.Fatalf("%d tries from as many addresses went ahead, want %d", len(dones), nameFailures+1)
	}
	for _, done := range dones {
		done(false)
	}
	// The guessers are locked out; an address that has not failed for
	// alice gets one try at a time, and the lock ends by itself.
	if _, wait := th.Begin("alice", "10.1.0.1"); wait != nameLock {
		t.Fatalf("a guesser waits %v, want the lock's %v", wait, nameLock)
	}
	// The last try went through the lock: the next waits a little.
	if _, wait := th.Begin("alice", "10.2.0.1"); wait != throughEvery {
		t.Fatalf("a fresh address right after a try through the lock waits %v, want %v", wait, throughEvery)
	}
	c.Advance(throughEvery)
	done, _ := th.Begin("alice", "10.2.0.1")
	if done == nil {
		t.Fatal("a fresh address is locked out")
	}
	if _, wait := th.Begin("alice", "10.2.0.1"); wait == 0 {
		t.Fatal("a fresh address got a second try in flight during the lock")
	}
	if _, wait := th.Begin("alice", "10.2.0.2"); wait == 0 {
		t.Fatal("two tries at once went through the lock")
	}
	done(true)
	// A right password hands its turn back.
	if try(t, th, "alice", "10.2.0.1", true) != 0 {
		t.Fatal("the owner's address is locked out after logging in")
	}
	try(t, th, "alice", "10.2.0.2", false)
	if try(t, th, "alice", "10.2.0.2", true) == 0 {
		t.Fatal("an address that failed during the lock tried again")
	}
	if try(t, th, "alice", "10.2.0.3", true) != throughEvery {
		t.Fatal("a wrong try through the lock did not spend the turn")
	}
	if try(t, th, "bob", "10.1.0.1", true) != 0 {
		t.Fatal("the lock of alice holds bob")
	}
	c.Advance(nameLock)
	if try(t, th, "alice", "10.1.0.1", true) != 0 {
		t.Fatal("still locked after the lock's end")
	}
}

func TestThrottleAddressBudget(t *testing.T) {
	th, c := newTestThrottle()
	// A class behind one address logging in right does not spend it.
	for i := 0; i < 3*addrFailures; i++ {
		if try(t, th, "student"+strconv.Itoa(i), "10.0.0.1", true) != 0 {
			t.Fatalf("correct login %d refused", i)
		}
	}
	// All at once, the budget holds them to its size, and the rest wait
	// a second for the first to finish.
	var dones []func(bool)
	for i := 0; i < 2*addrFailures; i++ {
		done, wait := th.Begin("student"+strconv.Itoa(i), "10.0.0.1")
		if done != nil {
			dones = append(dones, done)
		} else if wait != time.Second {
			t.Fatalf("login %d of a class at once waits %v, want 1s", i, wait)
		}
	}
	if len(dones) != addrFailures {
		t.Fatalf("%d logins at once from one address went ahead, want %d", len(dones), addrFailures)
	}
	for _, done := range dones {
		done(true)
	}
	// A spray of one guess at each name does.
	for i := 0; i < addrFailures; i++ {
		if try(t, th, "user"+strconv.Itoa(i), "10.0.0.1", false) != 0 {
			t.Fatalf("guess %d refused within the budget", i)
		}
		c.Advance(time.Second)
	}
	if w := try(t, th, "carol", "10.0.0.1", true); w != failWindow-addrFailures*time.Second {
		t.Fatalf("past the budget the wait is %v, want until the first guess ages out", w)
	}
	if try(t, th, "carol", "10.0.0.2", true) != 0 {
		t.Fatal("another address is held by this one's budget")
	}
	// IPv6 hosts of one network share a budget.
	for i := 0; i < addrFailures; i++ {
		try(t, th, "user"+strconv.Itoa(i), "2001:db8::"+strconv.FormatInt(int64(i+1), 16), false)
	}
	if try(t, th, "carol", "2001:db8::ffff", true) == 0 {
		t.Fatal("a new address in the same /64 escaped the budget")
	}
	if try(t, th, "carol", "2001:db8:0:1::1", true) != 0 {
		t.Fatal("another /64 is held")
	}
}

// TestThrottleKeepsNeighboursApart is a SLAAC network, where every
// machine has an address in one /64: a classmate's wrong guesses for bob
// neither slow bob nor make him a guesser while the name is locked.
func TestThrottleKeepsNeighboursApart(t *testing.T) {
	th, c := newTestThrottle()
	const bob, mallory = "2001:db8::b0b", "2001:db8::bad"
	for range pairFree {
		try(t, th, "bob", mallory, false)
	}
	if w := try(t, th, "bob", mallory, true); w == 0 {
		t.Fatal("the guesser is not slowed")
	}
	if w := try(t, th, "bob", "2001:0db8:0000::0B0B", true); w != 0 {
		t.Fatalf("bob waits %v for his neighbour's guesses", w)
	}
	// While the name is locked, bob's address has not failed for bob:
	// he gets his turn through the lock, the guesser waits for its end.
	for i := range nameFailures {
		try(t, th, "bob", "10.3.0."+strconv.Itoa(i), false)
	}
	c.Advance(pairMaxDelay)
	if w := try(t, th, "bob", mallory, true); w < nameLock-pairMaxDelay {
		t.Fatalf("the guesser waits %v during the lock", w)
	}
	if w := try(t, th, "bob", bob, true); w != 0 {
		t.Fatalf("bob waits %v during the lock, as a guesser", w)
	}
}

// TestThrottleForgets shows memory stays bounded: entries expire, and an
// attacker rotating names and addresses cannot grow the tables past
// their cap.
func TestThrottleForgets(t *testing.T) {
	th, c := newTestThrottle()
	th.maxKeys = 50
	size := func() (int, int, int) {
		th.mu.Lock()
		defer th.mu.Unlock()
		return len(th.pairs), len(th.names), len(th.addrs)
	}
	for i := 0; i < 20*th.maxKeys; i++ {
		try(t, th, "n"+strconv.Itoa(i), "10.3."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250), false)
		if p, n, a := size(); p > th.maxKeys || n > th.maxKeys || a > th.maxKeys {
			t.Fatalf("after %d names the tables hold %d pairs, %d names, %d addresses; the cap is %d", i+1, p, n, a, th.maxKeys)
		}
	}
	// At the cap, new failures still count.
	for i := 0; i < pairFree; i++ {
		try(t, th, "alice", "10.0.0.1", false)
	}
	if try(t, th, "alice", "10.0.0.1", true) == 0 {
		t.Fatal("alice's delay was forgotten")
	}
	c.Advance(failWindow + pairMaxDelay)
	try(t, th, "bob", "10.0.0.2", true)
	if p, n, a := size(); p != 0 || n != 1 || a != 1 {
		t.Fatalf("after the window the tables hold %d pairs, %d names, %d addresses; want only bob's try", p, n, a)
	}
}
