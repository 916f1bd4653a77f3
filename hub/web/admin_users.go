package web

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/scopes"
)

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
