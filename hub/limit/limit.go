// Package limit caps what each user may hold open at once, so that one
// student's script cannot tie up the laptop: event streams in the API and
// the pages.
package limit

import "sync"

// StreamsPerUser is how many event streams (spawn progress, the admin
// page's feed) one user may have open at once. A browser opens at most six
// connections to one origin, so a person never needs more; a script is
// refused beyond it.
const StreamsPerUser = 8

// PerUser counts what each user holds open against one cap. The zero
// value is not usable; use NewPerUser.
type PerUser struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// NewPerUser returns a counter that lets each user hold at most max.
func NewPerUser(max int) *PerUser { return &PerUser{max: max, n: make(map[string]int)} }

// Acquire takes one of user's places, or reports false when they already
// hold max. release gives the place back; calls after the first do
// nothing.
func (l *PerUser) Acquire(user string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[user] >= l.max {
		return nil, false
	}
	l.n[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.n[user]--; l.n[user] <= 0 {
				delete(l.n, user)
			}
		})
	}, true
}
