package web

import (
	"errors"
	"net/http"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
)

// logTail is how many of its last lines a log page shows.
const logTail = 500

// logData is a log page's: the log's own text, which html/template
// escapes into a <pre>. A student's server log is the student's to write,
// every byte of it, so it is never markup, and the page's script policy
// would refuse a script in it anyway.
type logData struct {
	// User is whose server's log it is, "" for the hub's.
	User string
	Text string
	// Err says why there is no log to show.
	Err string
}

// adminServerLog shows the end of a student's server log to an
// instructor who may administer that server: what the dashboard's log
// pane shows.
func (wb *Web) adminServerLog(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !scopes.Allows(p.Scopes, "admin:servers", scopes.OnServer(name, "")) {
		wb.fail(w, r, http.StatusForbidden, "Reading "+name+"'s server log needs the admin:servers permission on their server.")
		return
	}
	d := logData{User: name}
	text, err := wb.hub.Logs(r.Context(), name, logTail)
	switch {
	case errors.Is(err, core.ErrNoSuchUser):
		wb.fail(w, r, http.StatusNotFound, "There is no user "+name+". Check the name on the admin page.")
		return
	case err != nil:
		d.Err = sentence(err.Error())
	case text == "":
		d.Err = "The server has written nothing yet."
	}
	d.Text = text
	v := userView(p, name+"'s server log", "admin")
	v.Page = d
	wb.render(w, http.StatusOK, "logs", v)
}

// adminHubLog shows the end of the hub's own log (the data dir's
// classhub.log) to an instructor who may administer every server. It
// holds no password, code, token or login link (hub/log.go).
func (wb *Web) adminHubLog(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok {
		return
	}
	if !scopes.Holds(p.Scopes, "admin:servers") {
		wb.fail(w, r, http.StatusForbidden, "Reading the hub's log needs the admin:servers permission on every server.")
		return
	}
	var d logData
	if wb.hubLog == nil {
		d.Err = "This hub keeps no log file; its log goes to the terminal it runs in."
	} else if text, err := wb.hubLog(logTail); err != nil {
		d.Err = sentence(err.Error())
	} else {
		d.Text = text
	}
	v := userView(p, "The hub's log", "admin")
	v.Page = d
	wb.render(w, http.StatusOK, "logs", v)
}
