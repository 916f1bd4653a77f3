package sse

import (
	"context"
	"time"
)

// Loop is what a stream that follows a subscription waits on besides
// the subscription: the end of its request, the server's shutdown, the
// keep-alive and, where a handler needs one, a ticker of its own.
type Loop struct {
	// Shutdown, once closed, ends the stream: a stream never ends by
	// itself, and http.Server.Shutdown waits for every request in flight.
	Shutdown <-chan struct{}
	// KeepAlive is how often the stream gets a keep-alive. Alive, if
	// set, is asked first, and false ends the stream: it is how a stream
	// ends with the login it was opened with.
	KeepAlive time.Duration
	Alive     func() bool
	// Every, if above zero, is how often Tick runs: for what no event
	// announces, such as a count that changes without one. An error from
	// Tick ends the stream.
	Every time.Duration
	Tick  func() error
}

// Follow hands each value from c to on until ctx is done, l.Shutdown is
// closed, c is closed, or on, l.Tick or a keep-alive on s fails, or
// l.Alive says no. What a value becomes on the wire, and whether it is
// sent at all, is on's; the handler sends what a stream opens with before
// it calls Follow.
func Follow[T any](ctx context.Context, s *Stream, l Loop, c <-chan T, on func(T) error) {
	keep := time.NewTicker(l.KeepAlive)
	defer keep.Stop()
	var tick <-chan time.Time
	if l.Every > 0 && l.Tick != nil {
		t := time.NewTicker(l.Every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.Shutdown:
			return
		case v, ok := <-c:
			if !ok || on(v) != nil {
				return
			}
		case <-tick:
			if l.Tick() != nil {
				return
			}
		case <-keep.C:
			if l.Alive != nil && !l.Alive() {
				return
			}
			if s.KeepAlive() != nil {
				return
			}
		}
	}
}
