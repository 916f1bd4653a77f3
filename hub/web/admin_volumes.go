package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
)

// volumesData is the kept files page's: the work volumes of deleted
// students, each to restore to an account or delete.
type volumesData struct {
	Volumes []spawner.Volume
	// Volume, User and Typed are what was typed, shown again with an error.
	Volume, User, Typed string
}

// mustAdminOfAll returns the logged-in admin whose admin:users is not
// limited to some users, as the work of a whole class (kept volumes, which
// belong to no account; handing out and collecting) needs; anyone else is
// answered with refusal.
func (wb *Web) mustAdminOfAll(w http.ResponseWriter, r *http.Request, refusal string) (auth.Principal, bool) {
	p, ok := wb.mustAdmin(w, r)
	if ok && !scopes.Allows(p.Scopes, "admin:users", scopes.Target{}) {
		wb.fail(w, r, http.StatusForbidden, refusal)
		return p, false
	}
	return p, ok
}

func (wb *Web) adminVolumes(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdminOfAll(w, r, "The kept files of deleted students are for instructors who may manage every user.")
	if !ok {
		return
	}
	wb.volumesPage(w, r, p, http.StatusOK, "", doneVolume(r.URL.Query()), volumesData{})
}

// volumesPage shows the kept volumes, with err (a sentence) or notice.
func (wb *Web) volumesPage(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, errMsg, notice string, d volumesData) {
	vs, err := wb.hub.KeptVolumes(r.Context())
	if err != nil {
		if errMsg == "" {
			errMsg = sentence(err.Error())
		}
		status = http.StatusServiceUnavailable
	}
	d.Volumes = vs
	v := userView(p, "Kept files", "admin")
	v.Error, v.Notice, v.Page = errMsg, notice, d
	wb.render(w, status, "volumes", v)
}

// adminVolumeAction restores a kept volume to an account or deletes it,
// the student's name typed again.
func (wb *Web) adminVolumeAction(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdminOfAll(w, r, "The kept files of deleted students are for instructors who may manage every user.")
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	d := volumesData{Volume: r.PostFormValue("volume"), User: strings.TrimSpace(r.PostFormValue("user")), Typed: r.PostFormValue("typed")}
	var err error
	var done url.Values
	switch r.PostFormValue("action") {
	case "restore":
		if d.User == "" {
			wb.volumesPage(w, r, p, http.StatusBadRequest, "Name the user to give the files of "+d.Volume+" to.", "", d)
			return
		}
		err = wb.hub.RestoreVolume(r.Context(), d.Volume, d.User)
		done = url.Values{"done": {"restore"}, "user": {d.User}}
	case "delete":
		err = wb.hub.DeleteVolume(r.Context(), d.Volume, d.Typed)
		done = url.Values{"done": {"delete"}}
	default:
		wb.volumesPage(w, r, p, http.StatusBadRequest, "There is no such action. Reload the page and use its buttons.", "", d)
		return
	}
	status := http.StatusInternalServerError
	switch {
	case err == nil:
		http.Redirect(w, r, "/hub/admin/volumes?"+done.Encode(), http.StatusSeeOther)
		return
	case errors.Is(err, core.ErrNoSuchUser):
		status, err = http.StatusNotFound, errors.New("there is no user "+d.User+": add them on the admin page first, then restore")
	case errors.Is(err, core.ErrNotKept):
		status = http.StatusNotFound
	case errors.Is(err, core.ErrConfirm):
		status = http.StatusBadRequest
	case errors.Is(err, spawner.ErrInUse), errors.Is(err, spawner.ErrHasFiles):
		status = http.StatusConflict
	default:
		wb.log.Printf("web: kept files %s %s: %v", r.PostFormValue("action"), d.Volume, err)
	}
	wb.volumesPage(w, r, p, status, sentence(err.Error()), "", d)
}

// doneVolume turns the query of the redirect after an action into a
// fixed sentence, naming only a valid username.
func doneVolume(q url.Values) string {
	switch q.Get("done") {
	case "restore":
		if user := q.Get("user"); core.ValidateName(user) == nil {
			return "Restored the files to " + user + ": they are in their work folder at their next start."
		}
	case "delete":
		return "Deleted the files."
	}
	return ""
}
