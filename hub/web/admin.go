package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
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
	// Usage is a running server's last CPU and memory sample, nil when
	// it has none yet (the event feed sends them).
	Usage *usageCells
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
	// Image is the choice of the notebook image.
	Image imageSection
	// Capacity says how many students the laptop holds.
	Capacity capacityView
}

func (wb *Web) adminView(r *http.Request, p auth.Principal, q string) (view, adminData, error) {
	users, _, err := wb.hub.Users(r.Context(), store.ListOptions{NameFilter: q, Sort: "name"})
	if err != nil {
		return view{}, adminData{}, err
	}
	d := adminData{Query: q, Total: len(users), JoinCode: wb.joinCode, Image: wb.imageView(r.Context(), p)}
	usage := wb.hub.CachedStats(adminStatsEvery * 3)
	toStart := 0
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
			if s, ok := usage[u.Name]; ok && scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(u.Name, "")) {
				cells := cellsOf(s)
				row.Usage = &cells
			}
		case stateStopped, stateFailed:
			if scopes.Allows(p.Scopes, "servers", scopes.OnServer(u.Name, "")) {
				toStart++ // what Start all would start (bulkTargets)
			}
		case stateStarting:
			d.Starting++
			if evs, _, _ := wb.hub.Progress(u.Name, 0); len(evs) > 0 {
				last := evs[len(evs)-1]
				row.Progress, row.Step = min(max(last.Progress, 0), 100), progressLine(last)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Capacity = wb.capacityOf(r.Context(), p, toStart)
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
	if r.URL.Query().Get("done") == "image" && d.Image.Show {
		v.Notice = imageDone(r.URL.Query(), d.Image.Current)
	}
	v.Page = d
	wb.render(w, http.StatusOK, "admin", v)
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
			s = "Deleted " + user + ". Their files are kept under Kept files."
		}
	case "delete-wipe":
		if user != "" {
			s = "Deleted " + user + " and their files."
		}
	case "reset":
		if user != "" {
			s = "Reset " + user + "'s server. Their files are kept; their next start makes a new server."
		}
	case "reset-wipe":
		if user != "" {
			s = "Reset " + user + "'s server and deleted their files."
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
