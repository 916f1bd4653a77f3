// Package limit caps what each user, or each address, may hold open at
// once, so that one student's script or container cannot tie up the
// laptop: event streams in the API and the pages, websockets and requests
// in flight to a user's server, connections to the internal listener;
// and it bounds the caches keyed by what anyone may send (MakeRoom).
package limit

import "sync"

// StreamsPerUser is how many event streams (spawn progress, the admin
// page's feed) one user may have open at once. A browser opens at most six
// connections to one origin, so a person never needs more; a script is
// refused beyond it.
const StreamsPerUser = 8

// PerKey counts what each key (a user, an address) holds open against
// one cap. The zero value is not usable; use NewPerKey.
type PerKey struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// NewPerKey returns a counter that lets each key hold at most max.
func NewPerKey(max int) *PerKey { return &PerKey{max: max, n: make(map[string]int)} }

// Acquire takes one of key's places, or reports false when it already
// holds max. release gives the place back; calls after the first do
// nothing.
func (l *PerKey) Acquire(key string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] >= l.max {
		return nil, false
	}
	l.n[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.n[key]--; l.n[key] <= 0 {
				delete(l.n, key)
			}
		})
	}, true
}
