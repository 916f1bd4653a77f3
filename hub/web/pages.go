package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// Server states as pages show them.
const (
	stateRunning  = "running"
	stateStarting = "starting"
	stateStopping = "stopping"
	stateFailed   = "failed"
	stateStopped  = "stopped"
)

func stateOf(s core.ServerStatus) string {
	switch {
	case s.Pending == core.PendingSpawn:
		return stateStarting
	case s.Pending == core.PendingStop:
		return stateStopping
	case s.Ready:
		return stateRunning
	case s.Failed != "":
		return stateFailed
	}
	return stateStopped
}

func stateLabel(state string) string {
	switch state {
	case stateRunning:
		return "Running"
	case stateStarting:
		return "Starting…"
	case stateStopping:
		return "Stopping…"
	case stateFailed:
		return "Start failed"
	}
	return "Stopped"
}

// spawnURL is the page that starts name's server and then goes to next.
func spawnURL(name, next string) string {
	u := "/hub/spawn/" + pathEscape(name)
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	return u
}

func pendingURL(name, next string) string {
	u := "/hub/spawn-pending/" + pathEscape(name)
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	return u
}

// root sends people where they most likely want to be: their running
// notebook, the progress of its start, or home.
func (wb *Web) root(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.session(r)
	if !ok {
		http.Redirect(w, r, loginURL("/hub/"), http.StatusFound)
		return
	}
	s, err := wb.hub.Status(r.Context(), p.User.Name)
	switch {
	case err != nil:
		wb.internal(w, r, err)
	case s.Ready:
		http.Redirect(w, r, core.URL(p.User.Name), http.StatusFound)
	case s.Pending == core.PendingSpawn:
		http.Redirect(w, r, pendingURL(p.User.Name, ""), http.StatusFound)
	default:
		http.Redirect(w, r, "/hub/home", http.StatusFound)
	}
}

// homeData is the home page's.
type homeData struct {
	Name         string
	State        string
	Failed       string
	Started      time.Time
	LastActivity time.Time
}

func (wb *Web) homeView(r *http.Request, p auth.Principal) (view, error) {
	s, err := wb.hub.Status(r.Context(), p.User.Name)
	if err != nil {
		return view{}, err
	}
	last := s.LastActivity
	if p.User.LastActivity.After(last) {
		last = p.User.LastActivity
	}
	v := userView(p, "Home", "home")
	v.Page = homeData{Name: p.User.Name, State: stateOf(s), Failed: s.Failed, Started: s.Started, LastActivity: last}
	return v, nil
}

func (wb *Web) home(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	v, err := wb.homeView(r, p)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	switch q := r.URL.Query(); {
	case q.Get("stopped") != "":
		v.Notice = "Your server is stopped. Your files are kept for the next start."
	case q.Get("cancelled") != "":
		v.Notice = "The start was cancelled. Your files are kept; start again whenever you like."
	}
	wb.render(w, http.StatusOK, "home", v)
}

// homePost stops the caller's server; starting is a plain link to
// /hub/spawn.
func (wb *Web) homePost(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	if action := r.PostFormValue("action"); action != "stop" {
		wb.fail(w, r, http.StatusBadRequest, fmt.Sprintf("The home page has no action %q. Reload it and use its buttons.", action))
		return
	}
	err := wb.hub.Stop(r.Context(), p.User.Name, false)
	if err != nil {
		v, verr := wb.homeView(r, p)
		if verr != nil {
			wb.internal(w, r, verr)
			return
		}
		status := http.StatusInternalServerError
		msg := "Your server could not be stopped: " + err.Error()
		if errors.Is(err, core.ErrPending) {
			status, msg = http.StatusConflict, "Your server is already stopping. Wait a moment, then reload this page."
		}
		v.Error = sentence(msg)
		wb.render(w, status, "home", v)
		return
	}
	// Stop cancels a start still pending, and that start's progress then
	// ends saying so; the notice says which of the two happened.
	if evs, _, _ := wb.hub.Progress(p.User.Name, 0); len(evs) > 0 && evs[len(evs)-1].Reason == events.ReasonCancelled {
		http.Redirect(w, r, "/hub/home?cancelled=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/hub/home?stopped=1", http.StatusSeeOther)
}

// spawnPost is the not-running page's button for someone else's server.
func (wb *Web) spawnPost(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	wb.spawn(w, r)
}

// spawn starts a server and sends the browser to it, or to its progress
// page when it takes more than a moment. Starting one's own server is a
// plain link (the notebook's restart item, the tray, bookmarks); starting
// someone else's, which only admins may, needs the request to come from
// the hub itself or a press of the not-running page's button, so a link
// on a student's page cannot make an admin start servers.
func (wb *Web) spawn(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if name == "" {
		name = p.User.Name
	}
	if !scopes.Allows(p.Scopes, "servers", scopes.OnServer(name, "")) {
		wb.fail(w, r, http.StatusForbidden, "You may only start your own server. Yours is started from your home page.")
		return
	}
	next := safeNext(r.FormValue("next"))
	s, ok := wb.status(w, r, name)
	if !ok {
		return
	}
	if s.Pending == core.PendingStop {
		ctx, cancel := context.WithTimeout(r.Context(), wb.stopWait)
		s, _ = wb.hub.Wait(ctx, name)
		cancel()
		if s.Pending == core.PendingStop {
			wb.notRunning(w, r, p, http.StatusConflict, name, next, "", "The server is still stopping. Try again in a moment.")
			return
		}
	}
	switch {
	case s.Ready:
		http.Redirect(w, r, orDefault(next, core.URL(name)), http.StatusFound)
		return
	case s.Pending == core.PendingSpawn:
		http.Redirect(w, r, pendingURL(name, next), http.StatusFound)
		return
	case name != p.User.Name && r.Method != http.MethodPost && !auth.Intended(r):
		wb.notRunning(w, r, p, http.StatusOK, name, next, "", "Start "+name+"'s server? The link you followed did not come from this hub's own pages.")
		return
	}
	s, err := wb.startBriefly(r.Context(), name)
	switch {
	case errors.Is(err, core.ErrAlreadyRunning):
		http.Redirect(w, r, orDefault(next, core.URL(name)), http.StatusFound)
	case errors.Is(err, core.ErrPending):
		http.Redirect(w, r, pendingURL(name, next), http.StatusFound)
	case errors.Is(err, core.ErrCancelled):
		wb.notRunning(w, r, p, http.StatusOK, name, next, "", "The start was cancelled. Start the server again when you want it.")
	case err != nil:
		if cur, serr := wb.hub.Status(r.Context(), name); serr == nil && cur.Pending == core.PendingSpawn {
			http.Redirect(w, r, pendingURL(name, next), http.StatusFound)
			return
		}
		wb.log.Printf("web: start %s: %v", name, err)
		wb.notRunning(w, r, p, http.StatusInternalServerError, name, next, sentence(err.Error()), "")
	case s.Ready:
		http.Redirect(w, r, orDefault(next, core.URL(name)), http.StatusFound)
	case s.Pending == "" && s.Failed != "":
		wb.notRunning(w, r, p, http.StatusInternalServerError, name, next, sentence(s.Failed), "")
	default:
		http.Redirect(w, r, pendingURL(name, next), http.StatusFound)
	}
}

// startBriefly starts name's server and waits for it at most spawnWait,
// then reports where it is. The start goes on in the hub; the call waiting
// for it is left to finish on its own (at most the hub's slow-spawn
// timeout), so a slow moment in the store cannot fail a start the way a
// short deadline on the call would.
func (wb *Web) startBriefly(ctx context.Context, name string) (core.ServerStatus, error) {
	type result struct {
		s   core.ServerStatus
		err error
	}
	ctx = context.WithoutCancel(ctx)
	done := make(chan result, 1)
	go func() {
		s, err := wb.hub.Start(ctx, name)
		done <- result{s, err}
	}()
	t := time.NewTimer(wb.spawnWait)
	defer t.Stop()
	select {
	case res := <-done:
		return res.s, res.err
	case <-t.C:
		return wb.hub.Status(ctx, name)
	}
}

// pendingData is the progress page's.
type pendingData struct {
	Name string
	// ProgressURL is the REST API's event stream for this spawn. The
	// script adds the anti-forgery token (EventSource cannot send
	// headers), so the token is in no address the page renders.
	ProgressURL string
	// Next is where to go once ready.
	Next     string
	Progress int
	Message  string
	Log      []string
}

func (wb *Web) spawnPending(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(name, "")) {
		wb.fail(w, r, http.StatusForbidden, "This is someone else's server. Yours is on your home page.")
		return
	}
	next := safeNext(r.FormValue("next"))
	s, ok := wb.status(w, r, name)
	if !ok {
		return
	}
	switch {
	case s.Ready:
		http.Redirect(w, r, orDefault(next, core.URL(name)), http.StatusFound)
	case s.Pending == core.PendingSpawn:
		d := pendingData{Name: name, Next: next, ProgressURL: "/hub/api/users/" + pathEscape(name) + "/server/progress"}
		evs, _, _ := wb.hub.Progress(name, 0)
		for _, e := range evs {
			d.Log = append(d.Log, progressLine(e))
		}
		if n := len(evs); n > 0 {
			d.Progress, d.Message = min(max(evs[n-1].Progress, 0), 100), evs[n-1].Message
		}
		v := userView(p, "Starting server", "")
		v.Page = d
		wb.render(w, http.StatusOK, "spawn_pending", v)
	case s.Pending == core.PendingStop:
		wb.notRunning(w, r, p, http.StatusOK, name, next, "", "The server is stopping.")
	case s.Failed != "":
		wb.notRunning(w, r, p, http.StatusInternalServerError, name, next, sentence(s.Failed), "")
	default:
		wb.notRunning(w, r, p, http.StatusOK, name, next, "", "")
	}
}

// progressLine is a spawn step as the progress log lists it.
func progressLine(e events.Event) string {
	if e.Kind == events.ImageProgress && e.Total > 0 {
		return fmt.Sprintf("%s (%s of %s)", e.Message, humanBytes(e.Current), humanBytes(e.Total))
	}
	return e.Message
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// notRunningData is the page with a start button.
type notRunningData struct {
	Name string
	// Own is false when an admin looks at someone else's server.
	Own      bool
	SpawnURL string
	Next     string
	Failed   string
	Why      string
}

func (wb *Web) notRunning(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, name, next, failed, why string) {
	v := userView(p, "Server not running", "")
	v.Page = notRunningData{Name: name, Own: name == p.User.Name, SpawnURL: "/hub/spawn/" + pathEscape(name), Next: next,
		Failed: failed, Why: why}
	wb.render(w, status, "not_running", v)
}

// maxRedirects is when sending a browser back to a server that the hub
// thinks is ready, but the proxy has no route for, is a loop.
const maxRedirects = 4

// userURL answers /user/{name}/… for servers the proxy has no route for
// (the proxy sends them here under /hub), as JupyterHub's UserUrlHandler:
// back to the server if it is ready after all, a JSON 424 for API calls,
// the progress page if it is starting, else a page with a start button.
func (wb *Web) userURL(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	orig := strings.TrimPrefix(r.URL.EscapedPath(), "/hub")
	apiCall := wantsJSON(r) || hasSegment(r.PathValue("path"), "api") || (r.Method != http.MethodGet && r.Method != http.MethodHead)
	p, ok := wb.session(r)
	if !ok {
		if apiCall {
			writeJSONError(w, http.StatusForbidden, "Not logged in to the hub. Log in at /hub/login and try again.")
			return
		}
		http.Redirect(w, r, loginURL(orig+query(r)), http.StatusFound)
		return
	}
	if !scopes.Allows(p.Scopes, "access:servers", scopes.OnServer(name, "")) {
		msg := fmt.Sprintf("The address %s belongs to %s's server, not yours. Yours is at %s.", orig, name, core.URL(p.User.Name))
		if apiCall {
			writeJSONError(w, http.StatusForbidden, msg)
		} else {
			wb.fail(w, r, http.StatusForbidden, msg)
		}
		return
	}
	s, err := wb.hub.Status(r.Context(), name)
	if errors.Is(err, core.ErrNoSuchUser) {
		if apiCall {
			writeJSONError(w, http.StatusNotFound, "There is no user called "+name+".")
		} else {
			wb.fail(w, r, http.StatusNotFound, "There is no user called "+name+".")
		}
		return
	} else if err != nil {
		wb.internal(w, r, err)
		return
	}
	target := orig + query(r)
	switch {
	case s.Ready && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// The route was missing for a moment (a restart, a race): go
		// back, slower each time, and give up on a loop.
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get("redirects"))
		if n >= maxRedirects {
			wb.fail(w, r, http.StatusInternalServerError, "Redirect loop detected: the hub thinks "+name+"'s server is running, but cannot reach it. Stop the server on the home page and start it again.")
			return
		}
		if n > 0 {
			wb.sleep(r.Context(), min(time.Duration(1<<n)*time.Second, 10*time.Second))
		}
		q.Set("redirects", strconv.Itoa(n+1))
		http.Redirect(w, r, orig+"?"+q.Encode(), http.StatusFound)
	case apiCall:
		// JupyterLab and the classic notebook recognise 424 as "server
		// gone" and offer a restart; a redirect to an HTML page would
		// only confuse their API calls.
		writeJSONError(w, http.StatusFailedDependency, fmt.Sprintf("JupyterHub server no longer running at %s. Restart the server at %s", orig, "/hub/spawn/"+pathEscape(name)))
	case s.Pending != "" || s.Failed != "":
		http.Redirect(w, r, pendingURL(name, target), http.StatusSeeOther)
	default:
		wb.notRunning(w, r, p, http.StatusFailedDependency, name, target, "", "")
	}
}

// userSlash adds the trailing slash to /hub/user/alice.
func userSlash(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, r.URL.EscapedPath()+"/"+query(r), http.StatusFound)
}

// userRedirect makes links that work for whoever follows them:
// /hub/user-redirect/lab/tree/x.ipynb opens x.ipynb in the visitor's own
// server, starting it if needed.
func (wb *Web) userRedirect(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/hub/user-redirect/")
	next := safeNext(core.URL(p.User.Name) + rest + query(r))
	http.Redirect(w, r, spawnURL(p.User.Name, next), http.StatusFound)
}

func query(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

func hasSegment(p, seg string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == seg {
			return true
		}
	}
	return false
}

// wantsJSON reports whether the client prefers JSON to HTML, as
// JupyterHub's get_accepted_mimetype decides.
func wantsJSON(r *http.Request) bool {
	best := func(types ...string) float64 {
		q := -1.0
		for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			for _, t := range types {
				if mt == t {
					v := 1.0
					if s, ok := params["q"]; ok {
						if f, err := strconv.ParseFloat(s, 64); err == nil {
							v = f
						}
					}
					q = max(q, v)
				}
			}
		}
		return q
	}
	j := best("application/json")
	return j > 0 && j > best("text/html")
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "message": msg})
}

// errorCode is the page the proxy shows when a server cannot be reached
// (configurable-http-proxy's --error-target).
func (wb *Web) errorCode(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 400 || code > 599 || http.StatusText(code) == "" {
		code = http.StatusNotFound
	}
	msg := http.StatusText(code) + "."
	if code == http.StatusServiceUnavailable || code == http.StatusBadGateway {
		msg = "This notebook server appears to be down: it may be starting or stopped. Open the home page to start it again."
		if u := safeNext(r.FormValue("url")); u != "" {
			msg = "The notebook server at " + u + " appears to be down: it may be starting or stopped. Open the home page to start it again."
		}
	}
	wb.fail(w, r, code, msg)
}

// status returns name's server status, or answers a page saying there is
// no such user (or what went wrong) and returns false.
func (wb *Web) status(w http.ResponseWriter, r *http.Request, name string) (core.ServerStatus, bool) {
	s, err := wb.hub.Status(r.Context(), name)
	if errors.Is(err, core.ErrNoSuchUser) {
		wb.fail(w, r, http.StatusNotFound, "There is no user called "+name+".")
		return s, false
	} else if err != nil {
		wb.internal(w, r, err)
		return s, false
	}
	return s, true
}
