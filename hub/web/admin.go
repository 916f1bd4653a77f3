package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/classhub/classhub/hub/roster"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// isAdmin reports whether p may see the admin page. What they may do there
// is checked per action, as the REST API does.
func isAdmin(p auth.Principal) bool { return scopes.Holds(p.Scopes, "admin-ui") }

// mustAdmin returns the logged-in admin, or refuses.
func (wb *Web) mustAdmin(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return p, false
	}
	if !isAdmin(p) {
		wb.fail(w, r, http.StatusForbidden, "This page is for instructors. Your own server is on your home page.")
		return p, false
	}
	return p, true
}

// adminRow is one user on the admin page.
type adminRow struct {
	Name         string
	Admin        bool
	Self         bool
	State        string
	Failed       string
	Started      time.Time
	LastActivity time.Time
	// Progress and Step are the last step of a start in flight.
	Progress int
	Step     string
}

// adminData is the admin page's.
type adminData struct {
	Rows                     []adminRow
	Query                    string
	Total, Running, Starting int
	// JoinCode is shown so the instructor can read it out.
	JoinCode   string
	AddNames   string
	AddAdmin   bool
	RosterText string
	Generate   bool
}

func (wb *Web) adminView(r *http.Request, p auth.Principal, q string) (view, adminData, error) {
	users, _, err := wb.hub.Users(r.Context(), store.ListOptions{NameFilter: q, Sort: "name"})
	if err != nil {
		return view{}, adminData{}, err
	}
	d := adminData{Query: q, Total: len(users), JoinCode: wb.joinCode()}
	for _, u := range users {
		last := u.Server.LastActivity
		if u.LastActivity.After(last) {
			last = u.LastActivity
		}
		row := adminRow{Name: u.Name, Admin: u.Admin, Self: u.Name == p.User.Name, State: stateOf(u.Server),
			Failed: u.Server.Failed, Started: u.Server.Started, LastActivity: last}
		switch row.State {
		case stateRunning:
			d.Running++
		case stateStarting:
			d.Starting++
			if evs, _, _ := wb.hub.Progress(u.Name, 0); len(evs) > 0 {
				last := evs[len(evs)-1]
				row.Progress, row.Step = min(max(last.Progress, 0), 100), progressLine(last)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return userView(p, "Admin", "admin"), d, nil
}

func (wb *Web) admin(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok {
		return
	}
	q := strings.TrimSpace(r.FormValue("q"))
	v, d, err := wb.adminView(r, p, q)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	v.Notice = doneSentence(r.URL.Query())
	v.Page = d
	wb.render(w, http.StatusOK, "admin", v)
}

// adminEvents streams, as server-sent events, the server state changes
// and start steps (image pulls included) of the users the admin may see,
// each as the event bus's JSON, so the admin page redraws its rows when
// something happens instead of polling. A browser that reconnects asks
// for the rows afresh, so nothing is replayed. The stream ends with the
// login it was opened with, checked at each keep-alive. The admin page
// passes its anti-forgery token as ?_xsrf=.
func (wb *Web) adminEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.session(r)
	if !ok {
		wb.fail(w, r, http.StatusForbidden, "Your login has ended. Log in again, then reload the admin page.")
		return
	}
	if !isAdmin(p) {
		wb.fail(w, r, http.StatusForbidden, "This page is for instructors. Your own server is on your home page.")
		return
	}
	// Who starts and stops is the admin's to know, not a page's that
	// happens to run in their browser.
	if !auth.CheckCSRF(r, p.Session) {
		wb.fail(w, r, http.StatusForbidden, "The event feed needs the admin page's anti-forgery token. Reload the admin page.")
		return
	}
	release, ok := wb.streams.Acquire(p.User.Name)
	if !ok {
		w.Header().Set("Retry-After", "10")
		wb.fail(w, r, http.StatusTooManyRequests, "You have too many hub pages with live updates open. Close some of them, then reload this one.")
		return
	}
	defer release()
	sub := wb.hub.Bus().Subscribe(256, false, func(e events.Event) bool {
		switch e.Kind {
		case events.ServerState, events.SpawnProgress, events.ImageProgress:
			return e.User != "" && scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(e.User, ""))
		}
		return false
	})
	defer sub.Close()
	shutdown := wb.shutdownSignal(r)
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	flush()
	keep := time.NewTicker(wb.keepAlive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-shutdown:
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
			flush()
		case <-keep.C:
			// Logged out, reset or no longer an admin: stop telling.
			if p, ok := wb.session(r); !ok || !isAdmin(p) {
				return
			}
			fmt.Fprint(w, ": keep-alive\n\n")
			flush()
		}
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

// adminAgain shows the admin page again with an error and what was typed.
func (wb *Web) adminAgain(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, msg string, edit func(*adminData)) {
	v, d, err := wb.adminView(r, p, strings.TrimSpace(r.FormValue("q")))
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	if edit != nil {
		edit(&d)
	}
	v.Error = msg
	v.Page = d
	wb.render(w, status, "admin", v)
}

// doneSentence turns the query of the redirect after an action into a
// sentence. Only fixed sentences with a valid username or a count come
// out, so a crafted link cannot put words on an instructor's screen.
func doneSentence(q url.Values) string {
	user := q.Get("user")
	if core.ValidateName(user) != nil {
		user = ""
	}
	n, _ := strconv.Atoi(q.Get("n"))
	failed, _ := strconv.Atoi(q.Get("failed"))
	var s string
	switch q.Get("done") {
	case "start":
		if user != "" {
			s = "Starting " + user + "'s server."
		}
	case "stop":
		if user != "" {
			s = "Stopped " + user + "'s server."
		}
	case "delete":
		if user != "" {
			s = "Deleted " + user + ". Their files are kept."
		}
	case "start-all":
		s = "Starting " + plural(n, "server") + "."
		if failed > 0 {
			s = fmt.Sprintf("Asked %s to start; %s. “Why” on a failed row says what went wrong.", plural(n, "server"), failedOf(failed, n))
		}
	case "stop-all":
		s = "Stopped " + plural(n, "server") + "."
		if failed > 0 {
			s = fmt.Sprintf("Asked %s to stop; %s. The hub's log says why.", plural(n, "server"), failedOf(failed, n))
		}
	case "added":
		s = "Added " + plural(n, "user") + "."
		if skipped, _ := strconv.Atoi(q.Get("skipped")); skipped > 0 {
			s += fmt.Sprintf(" %s already existed and stayed as they were.", plural(skipped, "user"))
		}
	}
	return s
}

// failedOf says how many of n failed, given that some did.
func failedOf(failed, n int) string {
	switch {
	case failed < n:
		return fmt.Sprintf("%d failed", failed)
	case n == 1:
		return "it failed"
	}
	return fmt.Sprintf("all %d failed", n)
}

func (wb *Web) adminAddUsers(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	if !scopes.Holds(p.Scopes, "admin:users") {
		wb.fail(w, r, http.StatusForbidden, "Adding users needs the admin:users permission.")
		return
	}
	text := r.PostFormValue("usernames")
	admin := r.PostFormValue("admin") != ""
	keep := func(d *adminData) { d.AddNames, d.AddAdmin = text, admin }
	names := core.SplitNames(text)
	if len(names) == 0 {
		wb.adminAgain(w, r, p, http.StatusBadRequest, "Type at least one username, one per line.", keep)
		return
	}
	created, err := wb.hub.AddUsers(r.Context(), names, admin)
	if errors.Is(err, core.ErrBadName) {
		wb.adminAgain(w, r, p, http.StatusBadRequest, sentence(err.Error())+" Nobody was added.", keep)
		return
	} else if err != nil {
		wb.log.Printf("web: add users: %v", err)
		wb.adminAgain(w, r, p, http.StatusInternalServerError, sentence(err.Error()), keep)
		return
	}
	unique := map[string]bool{}
	for _, n := range names {
		unique[core.NormalizeName(n)] = true
	}
	if len(created) == 0 {
		v := url.Values{"done": {"added"}, "n": {"0"}, "skipped": {strconv.Itoa(len(unique))}}
		http.Redirect(w, r, "/hub/admin?"+v.Encode(), http.StatusSeeOther)
		return
	}
	// Their first credentials are shown here, once: a redirect could
	// not carry them without putting them in a URL.
	wb.log.Printf("web: %s added %s", p.User.Name, plural(len(created), "user"))
	wb.showAccounts(w, r, p, "Added "+plural(len(created), "user"), created, len(unique)-len(created))
}

// maxRoster bounds an uploaded roster; a class list is a few kilobytes.
const maxRoster = 1 << 20

// importedData is the import result page's.
type importedData struct {
	Rows                     []roster.Imported
	Created, Existing, Fresh int
	Generated                int
	// Link is the class's setup page, where setup codes are used.
	Link string
	// CSV is a data: URL of the generated passwords and setup codes, so
	// they can be saved without the hub keeping them anywhere.
	CSV template.URL
}

func (wb *Web) adminImport(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRoster+64<<10)
	if err := r.ParseMultipartForm(maxRoster); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		wb.fail(w, r, http.StatusBadRequest, "The roster could not be read ("+err.Error()+"). Use a CSV file of at most 1 MB.")
		return
	}
	if !wb.checkCSRF(w, r, p) {
		return
	}
	if !scopes.Holds(p.Scopes, "admin:users") {
		wb.fail(w, r, http.StatusForbidden, "Importing users needs the admin:users permission.")
		return
	}
	text := r.PostFormValue("roster_text")
	generate := r.PostFormValue("generate") != ""
	keep := func(d *adminData) { d.RosterText, d.Generate = text, generate }
	var src io.Reader = strings.NewReader(text)
	if f, hdr, err := r.FormFile("roster"); err == nil {
		defer f.Close()
		if hdr.Size > 0 {
			src = f
		}
	}
	entries, err := roster.Parse(src)
	if err != nil {
		wb.adminAgain(w, r, p, http.StatusBadRequest, sentence(err.Error())+"\nNobody was added; fix the roster and import it again.", keep)
		return
	}
	done, err := roster.Import(r.Context(), wb.hub.Store(), entries, generate)
	if err != nil {
		wb.log.Printf("web: import roster: %v", err)
	}
	d := importedData{Rows: done, Link: wb.classLink(r) + "hub/setup"}
	for _, im := range done {
		switch {
		case !im.Created:
			d.Existing++
		case im.Generated:
			d.Generated++
		case im.MustSetPassword:
			d.Fresh++
		}
		if im.Created {
			d.Created++
		}
	}
	if d.Generated > 0 || d.Fresh > 0 {
		d.CSV = handoutsCSV(roster.Handouts(done), wb.classLink(r))
	}
	v := userView(p, "Roster imported", "admin")
	v.Page = d
	status := http.StatusOK
	if err != nil {
		v.Error = sentence(err.Error()) + " The users listed below were handled before that."
		status = http.StatusInternalServerError
	}
	wb.render(w, status, "imported", v)
}

// confirmData asks before a destructive admin action without JavaScript
// (the admin page's script asks with a dialog instead).
type confirmData struct {
	Action, User, Query string
	Question, Button    string
}

func (wb *Web) adminAction(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	action, name := r.PostFormValue("action"), r.PostFormValue("user")
	q := strings.TrimSpace(r.PostFormValue("q"))
	back := func(v url.Values) {
		if q != "" {
			v.Set("q", q)
		}
		http.Redirect(w, r, "/hub/admin?"+v.Encode(), http.StatusSeeOther)
	}
	refuse := func(scope string) bool {
		if scopes.Allows(p.Scopes, scope, scopes.OnServer(name, "")) {
			return false
		}
		wb.adminAgain(w, r, p, http.StatusForbidden, "This needs the "+scope+" permission on "+name+".", nil)
		return true
	}
	confirmed := r.PostFormValue("confirm") == "yes"
	ask := func(question, button string) {
		v := userView(p, "Are you sure?", "admin")
		v.Page = confirmData{Action: action, User: name, Query: q, Question: question, Button: button}
		wb.render(w, http.StatusOK, "confirm", v)
	}
	switch action {
	case "start":
		if refuse("servers") {
			return
		}
		if err := wb.startMany(r, []string{name})[0].Err; err != nil {
			wb.actionFailed(w, r, p, err)
			return
		}
		back(url.Values{"done": {"start"}, "user": {name}})
	case "stop":
		if refuse("delete:servers") {
			return
		}
		if err := wb.hub.Stop(r.Context(), name, false); err != nil {
			wb.actionFailed(w, r, p, err)
			return
		}
		back(url.Values{"done": {"stop"}, "user": {name}})
	case "delete":
		if refuse("delete:users") {
			return
		}
		if name == p.User.Name {
			wb.adminAgain(w, r, p, http.StatusBadRequest, "You cannot delete yourself.", nil)
			return
		}
		if !confirmed {
			ask("Delete "+name+"? Their server is stopped and removed and they can no longer log in. Their files are kept.", "Delete "+name)
			return
		}
		if err := wb.hub.DeleteUser(r.Context(), name); err != nil {
			wb.actionFailed(w, r, p, err)
			return
		}
		back(url.Values{"done": {"delete"}, "user": {name}})
	case "reset-password":
		if refuse("admin:users") {
			return
		}
		if name == p.User.Name {
			wb.adminAgain(w, r, p, http.StatusBadRequest, "You cannot reset your own password here: you would be logged out with no way back in. Ask another instructor.", nil)
			return
		}
		if !confirmed {
			ask("Reset "+name+"'s password? Their password, logins and tokens stop working at once; their running server keeps running. "+
				"You get a new setup code to hand them (an instructor: a new password).", "Reset "+name+"'s password")
			return
		}
		acct, err := wb.hub.ResetUser(r.Context(), name)
		if err != nil {
			wb.actionFailed(w, r, p, err)
			return
		}
		wb.log.Printf("web: %s reset %s", p.User.Name, name)
		wb.showAccounts(w, r, p, "Reset "+name+"'s password", []core.Account{acct}, 0)
	case "start-all", "stop-all":
		names, err := wb.bulkTargets(r, p, action, q)
		if err != nil {
			wb.internal(w, r, err)
			return
		}
		if action == "stop-all" && !confirmed && len(names) > 0 {
			ask(fmt.Sprintf("Stop %s? Starts still under way are cancelled. Unsaved work in open notebooks is lost; files are kept.", plural(len(names), "server")),
				"Stop "+plural(len(names), "server"))
			return
		}
		var outcomes []core.Outcome
		if action == "start-all" {
			outcomes = wb.startMany(r, names)
		} else {
			outcomes = wb.hub.StopMany(context.WithoutCancel(r.Context()), names)
		}
		for _, o := range outcomes {
			if o.Err != nil {
				wb.log.Printf("web: %s: %v", action, o.Err)
			}
		}
		failed := core.Failed(outcomes)
		back(url.Values{"done": {action}, "n": {strconv.Itoa(len(names))}, "failed": {strconv.Itoa(failed)}})
	default:
		wb.adminAgain(w, r, p, http.StatusBadRequest, fmt.Sprintf("There is no action %q. Reload the page and use its buttons.", action), nil)
	}
}

// startMany asks for the servers of names to start and waits for them
// as long as the spawn page would, so that a start that fails at once is
// reported and a slow one is not waited for.
func (wb *Web) startMany(r *http.Request, names []string) []core.Outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), wb.spawnWait)
	defer cancel()
	return wb.hub.StartMany(ctx, names)
}

func (wb *Web) actionFailed(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, core.ErrNoSuchUser):
		status = http.StatusNotFound
	case errors.Is(err, core.ErrPending):
		status = http.StatusConflict
	default:
		wb.log.Printf("web: admin %s %s: %v", r.PostFormValue("action"), r.PostFormValue("user"), err)
	}
	wb.adminAgain(w, r, p, status, sentence(err.Error()), nil)
}

// bulkTargets lists the users of the admin page for filter q whose
// servers action would start (the stopped ones) or stop (the running
// ones).
func (wb *Web) bulkTargets(r *http.Request, p auth.Principal, action, q string) ([]string, error) {
	users, _, err := wb.hub.Users(r.Context(), store.ListOptions{NameFilter: q, Sort: "name"})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, u := range users {
		switch st := stateOf(u.Server); {
		case action == "start-all" && (st == stateStopped || st == stateFailed) &&
			scopes.Allows(p.Scopes, "servers", scopes.OnServer(u.Name, "")):
			names = append(names, u.Name)
		case action == "stop-all" && (st == stateRunning || st == stateStarting) && scopes.Allows(p.Scopes, "delete:servers", scopes.OnServer(u.Name, "")):
			names = append(names, u.Name)
		}
	}
	return names, nil
}
