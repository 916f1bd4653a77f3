package web

import (
	"sync"
	"time"
)

// Login limits. Per username they stop password guessing against one
// account. Per address they stop one machine guessing across accounts, and
// are looser because a classroom behind one NAT shares an address: a
// handful of typos from thirty students must not lock out the class.
const (
	userFailures = 5
	addrFailures = 20
	failWindow   = 5 * time.Minute
)

// limiter counts failures per key over a sliding window. It lives in
// memory: a restarted hub forgets, which costs an attacker nothing they
// could not get by waiting five minutes.
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
	swept time.Time
}

func newLimiter(limit int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, now: now, fails: make(map[string][]time.Time)}
}

// retryAt returns when key may try again, or the zero time if it may now.
func (l *limiter) retryAt(key string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key, l.now())
	if len(recent) < l.limit {
		return time.Time{}
	}
	// The window slides: the oldest failure that still counts must age
	// out before one more try is allowed.
	return recent[len(recent)-l.limit].Add(l.window)
}

// fail records a failure for key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.fails[key] = append(l.recent(key, now), now)
	// Keys of guessed usernames would otherwise pile up forever.
	if now.Sub(l.swept) >= l.window {
		l.swept = now
		for k := range l.fails {
			if len(l.recent(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

// reset forgets key's failures.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent drops key's failures older than the window and returns the rest;
// l.mu must be held.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.window)) {
		i++
	}
	if i == len(ts) {
		delete(l.fails, key)
		return nil
	}
	if i > 0 {
		ts = append(ts[:0:0], ts[i:]...)
		l.fails[key] = ts
	}
	return ts
}

// loginGuard limits login, sign-up and login-link failures by username and
// by client address.
type loginGuard struct {
	users *limiter
	addrs *limiter
}

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{users: newLimiter(userFailures, failWindow, now), addrs: newLimiter(addrFailures, failWindow, now)}
}

// blocked returns when the next try for user from addr is allowed, or the
// zero time; user may be "" when no username is involved.
func (g *loginGuard) blocked(user, addr string) time.Time {
	at := g.addrs.retryAt(addr)
	if user != "" {
		if u := g.users.retryAt(user); u.After(at) {
			at = u
		}
	}
	return at
}

// failed records a failed try.
func (g *loginGuard) failed(user, addr string) {
	g.addrs.fail(addr)
	if user != "" {
		g.users.fail(user)
	}
}

// succeeded clears user's failures. The address keeps its count, or an
// attacker could reset it by logging in to their own account in between.
func (g *loginGuard) succeeded(user string) { g.users.reset(user) }
