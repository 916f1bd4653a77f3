package web

import (
	"errors"
	"net/http"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/sse"
)

// adminEvents streams, as server-sent events, the server state changes
// and start steps (image pulls included) of the users the admin may see,
// and changes of the notebook image to an admin who may choose it, each
// as the event bus's JSON, so the admin page redraws its rows when
// something happens instead of polling; and, as "usage" events at once
// and every adminStatsEvery, the running servers' CPU and memory and the
// laptop's capacity (adminUsage), which no event announces. A browser
// that reconnects asks for the rows afresh, so nothing is replayed. The
// stream ends with the login it was opened with, checked at each
// keep-alive and before each usage event. The admin page passes its
// anti-forgery token as ?_xsrf=.
func (wb *Web) adminEvents(w http.ResponseWriter, r *http.Request) {
	p, release, ok := wb.openInstructorStream(w, r, "admin page")
	if !ok {
		return
	}
	defer release()
	sub := wb.hub.Bus().Subscribe(256, false, func(e events.Event) bool {
		switch e.Kind {
		case events.ServerState, events.SpawnProgress, events.ImageProgress:
			return e.User != "" && scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(e.User, ""))
		case events.ImageChanged:
			return scopes.Holds(p.Scopes, imageScope)
		}
		return false
	})
	defer sub.Close()
	shutdown := wb.shutdownSignal(r)
	stream := sse.Open(w)
	if stream.SendEvent("usage", wb.usageFor(r.Context(), p)) != nil {
		return
	}
	usage := func() error {
		p, ok := wb.session(r)
		if !ok || !isAdmin(p) {
			return errLoginEnded
		}
		return stream.SendEvent("usage", wb.usageFor(r.Context(), p))
	}
	sse.Follow(r.Context(), stream, sse.Loop{Shutdown: shutdown, KeepAlive: wb.keepAlive, Alive: wb.stillAdmin(r),
		Every: wb.usageEvery, Tick: usage},
		sub.C, func(e events.Event) error { return stream.Send(e) })
}

// errLoginEnded ends a stream whose login has ended.
var errLoginEnded = errors.New("the login has ended")

// stillAdmin reports, when called, whether the login r was made with is
// still an instructor's: when it has been logged out or reset, or is no
// longer an instructor's, an instructor page's stream stops telling.
func (wb *Web) stillAdmin(r *http.Request) func() bool {
	return func() bool {
		p, ok := wb.session(r)
		return ok && isAdmin(p)
	}
}

// shutdownSignal is closed when the server serving r shuts down. The
// admin event stream never ends by itself, and http.Server.Shutdown waits
// for every request in flight: without this, quitting the hub with an
// admin page open would hang until Shutdown gives up.
func (wb *Web) shutdownSignal(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	wb.mu.Lock()
	defer wb.mu.Unlock()
	ch, ok := wb.shutdowns[srv]
	if !ok {
		ch = make(chan struct{})
		wb.shutdowns[srv] = ch
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// openInstructorStream checks a request for one of an instructor page's
// live streams: a login, an instructor's, and the page's anti-forgery
// token (who starts and stops is the instructor's to know, not a page's
// that happens to run in their browser); then it takes one of the
// instructor's places for streams, which release gives back. When it
// returns false it has answered w.
func (wb *Web) openInstructorStream(w http.ResponseWriter, r *http.Request, page string) (auth.Principal, func(), bool) {
	p, ok := wb.session(r)
	if !ok {
		wb.fail(w, r, http.StatusForbidden, "Your login has ended. Log in again, then reload the "+page+".")
		return p, nil, false
	}
	if !isAdmin(p) {
		wb.fail(w, r, http.StatusForbidden, "This page is for instructors. Your own server is on your home page.")
		return p, nil, false
	}
	if !auth.CheckCSRF(r, p.Session) {
		wb.fail(w, r, http.StatusForbidden, "The "+page+"'s live updates need its anti-forgery token. Reload the "+page+".")
		return p, nil, false
	}
	release, ok := wb.streams.Acquire(p.User.Name)
	if !ok {
		w.Header().Set("Retry-After", "10")
		wb.fail(w, r, http.StatusTooManyRequests, "You have too many hub pages with live updates open. Close some of them, then reload this one.")
		return p, nil, false
	}
	return p, release, true
}
