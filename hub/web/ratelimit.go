package web

import (
	"net"
	"sync"
	"time"
)

// Login throttle policy. A try is counted when it begins, before the slow
// password hash, so guesses sent at the same moment count one by one.
//
//   - Per name and address, failures in a row slow the next try: the
//     first pairFree are free, then each waits twice as long as the one
//     before, from one second up to pairMaxDelay. This is what stops a
//     guesser, and it stops only the guesser.
//   - Per name across all addresses, nameFailures tries in failWindow lock
//     the name for nameLock, so guessing from many machines is bounded
//     too. The lock is generous and ends by itself, and it does not hold
//     against an address that has not failed for the name: the owner is
//     not locked out by someone else's guesses. Such tries go through the
//     lock one per throughEvery unless they are right, so a guesser with
//     many addresses gets few guesses and each address only one.
//   - Per address across names, addrFailures tries in failWindow stop a
//     spray of a few guesses at every name. A classroom shares one address
//     behind a NAT; its correct logins hand their try back as soon as they
//     succeed, so only wrong ones and those in flight count: a hundred
//     can be checked at once, and when tries in flight fill the budget the
//     rest are asked to wait a second, not until failures age out.
//     Here an IPv6 network's /64 counts as one address, as one machine
//     can have any address in it. The delay of a name from an address,
//     and whether an address has failed for a name, go by the full
//     address: on a network where every machine has an address in one
//     /64, a classmate's guesses for bob must not slow bob. A guesser who
//     rotates addresses in her /64 gets a fresh delay for each, as one
//     with many machines does: the name's lock and the /64's budget bound
//     her.
const (
	pairFree     = 3
	pairMaxDelay = 4 * time.Minute
	nameFailures = 50
	nameLock     = 15 * time.Minute
	throughEvery = 10 * time.Second
	addrFailures = 100
	failWindow   = 15 * time.Minute
	// maxKeys caps each table, so an attacker rotating names or
	// addresses cannot grow memory without bound; when one is full, the
	// entry that would be forgotten soonest goes first.
	maxKeys = 4096
)

// Keys of throttled secrets other than passwords; they cannot be
// usernames, which are alphanumeric.
const (
	joinCodeKey  = "(join code)"
	loginLinkKey = "(login link)"
)

// entry is what the throttle remembers of one key.
type entry struct {
	// tries are the times of counted tries in the window, oldest first:
	// failed ones and those in flight (name and address keys).
	tries []time.Time
	// fails is the failures in a row, with tries in flight (pair keys).
	fails int
	// until is when the key may try again: the end of a pair's delay or
	// of a name's lock.
	until time.Time
	// through is when a try may next go through a name's lock.
	through time.Time
	// busy is the tries in flight (address keys).
	busy int
	// forget is when the entry no longer matters.
	forget time.Time
}

// table holds the entries of one kind of key.
type table map[string]*entry

// get returns key's entry, making room for a new one if the table has
// limit entries.
func (t table) get(key string, now time.Time, limit int) *entry {
	if e, ok := t[key]; ok {
		return e
	}
	if len(t) >= limit {
		t.sweep(now)
	}
	if len(t) >= limit {
		var oldest string
		for k, e := range t {
			if oldest == "" || e.forget.Before(t[oldest].forget) {
				oldest = k
			}
		}
		delete(t, oldest)
	}
	e := &entry{}
	t[key] = e
	return e
}

// sweep forgets the entries that no longer matter.
func (t table) sweep(now time.Time) {
	for k, e := range t {
		if !now.Before(e.forget) {
			delete(t, k)
		}
	}
}

// recent drops tries older than the window.
func (e *entry) recent(now time.Time) {
	i := 0
	for i < len(e.tries) && !e.tries[i].After(now.Add(-failWindow)) {
		i++
	}
	e.tries = e.tries[i:]
}

// refund takes back the try counted at t.
func (e *entry) refund(t time.Time) {
	for i, at := range e.tries {
		if at.Equal(t) {
			e.tries = append(e.tries[:i:i], e.tries[i+1:]...)
			return
		}
	}
}

// pairDelay is the wait after fails failures in a row of one name from
// one address.
func pairDelay(fails int) time.Duration {
	if fails < pairFree {
		return 0
	}
	d := time.Second
	for i := pairFree; i < fails && d < pairMaxDelay; i++ {
		d *= 2
	}
	return min(d, pairMaxDelay)
}

// throttle slows password, setup-code, join-code and login-link guessing.
// It lives in memory: a restarted hub forgets, which costs an attacker
// nothing they could not get by waiting.
type throttle struct {
	now     func() time.Time
	maxKeys int

	mu    sync.Mutex
	pairs table // name + "\x00" + hostKey(address)
	names table
	addrs table // by addrKey
	swept time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, maxKeys: maxKeys, pairs: table{}, names: table{}, addrs: table{}}
}

// Begin counts a try of a secret for name from addr (clientAddr's) before
// it is checked. If the try may go ahead, wait is 0 and done must be
// called with whether it was right: a right one hands its count back and
// clears the failures of name from addr; a wrong one keeps it and slows
// the next try. Otherwise done is nil and wait says how long until the
// next try may go ahead, for a 429 with Retry-After. name is the
// username, or joinCodeKey or loginLinkKey for those secrets.
func (t *throttle) Begin(name, addr string) (done func(ok bool), wait time.Duration) {
	pk := name + "\x00" + hostKey(addr)
	addr = addrKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if now.Sub(t.swept) >= time.Minute {
		t.swept = now
		t.pairs.sweep(now)
		t.names.sweep(now)
		t.addrs.sweep(now)
	}

	// A pair's entry is dropped on success, so an address without one
	// has no recent failures for the name.
	pe := t.pairs[pk]
	clean := pe == nil
	if pe != nil {
		wait = max(wait, pe.until.Sub(now))
	}
	ne := t.names[name]
	if ne != nil {
		ne.recent(now)
		if now.Before(ne.until) {
			if clean {
				wait = max(wait, ne.through.Sub(now))
			} else {
				wait = max(wait, ne.until.Sub(now))
			}
		}
	}
	ae := t.addrs[addr]
	if ae != nil {
		ae.recent(now)
		switch {
		case len(ae.tries) < addrFailures:
		case ae.busy > 0:
			// Tries in flight fill the budget: a class logging in
			// at once. The right ones hand theirs back in a moment.
			wait = max(wait, time.Second)
		default:
			wait = max(wait, ae.tries[0].Add(failWindow).Sub(now))
		}
	}
	if wait > 0 {
		return nil, wait
	}

	pe = t.pairs.get(pk, now, t.maxKeys)
	pe.fails++
	pe.until = now.Add(pairDelay(pe.fails))
	pe.forget = pe.until.Add(failWindow)
	ne = t.names.get(name, now, t.maxKeys)
	locked := now.Before(ne.until)
	if locked {
		ne.through = now.Add(throughEvery)
	} else {
		ne.tries = append(ne.tries, now)
		if len(ne.tries) >= nameFailures {
			ne.until, ne.tries = now.Add(nameLock), nil
		}
	}
	ne.forget = maxTime(ne.until, now.Add(failWindow))
	ae = t.addrs.get(addr, now, t.maxKeys)
	ae.tries = append(ae.tries, now)
	ae.busy++
	ae.forget = now.Add(failWindow)

	var once sync.Once
	return func(ok bool) {
		once.Do(func() { t.end(name, pk, addr, now, locked, ok) })
	}, 0
}

// end settles the try of name from addr begun at start, through the
// name's lock if bypass.
func (t *throttle) end(name, pk, addr string, start time.Time, bypass, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	ne, ae := t.names[name], t.addrs[addr]
	if ae != nil && ae.busy > 0 {
		ae.busy--
	}
	if !ok {
		// The delay runs from when the failure is known, not from
		// when the slow check began.
		if pe := t.pairs[pk]; pe != nil {
			pe.until = maxTime(pe.until, now.Add(pairDelay(pe.fails)))
			pe.forget = pe.until.Add(failWindow)
		}
		return
	}
	delete(t.pairs, pk)
	switch {
	case ne == nil:
	case bypass:
		// It was the owner: the next may go through at once.
		ne.through = start
	default:
		ne.refund(start)
	}
	if ae != nil {
		ae.refund(start)
	}
}

// hostKey is the throttle's key for one client address in a pair: the
// address itself, written one way.
func hostKey(addr string) string {
	if ip := net.ParseIP(addr); ip != nil {
		return ip.String()
	}
	return addr
}

// addrKey is the throttle's key for a client address in the per-address
// budget: IPv6 hosts get a /64 each, so the whole network counts as one
// address.
func addrKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
