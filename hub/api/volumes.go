package api

import (
	"errors"
	"net/http"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
)

// classhub's own endpoints for students' files, beside JupyterHub's
// DELETE /users/{name}/server {"remove": true}, which deletes the server's
// container and keeps the files. Deleting files needs the student's name
// typed again ("confirm"), on every surface.

// deleteFiles deletes name's files for good: DELETE
// /hub/api/users/{name}/server/files {"confirm": NAME}. Their server
// container must be gone first (DELETE .../server {"remove": true}).
func (a *API) deleteFiles(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "admin:servers", name) {
		return
	}
	var body struct {
		Confirm string `json:"confirm"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	err := a.hub.WipeFiles(r.Context(), name, body.Confirm)
	if errors.Is(err, core.ErrConfirm) {
		writeError(w, http.StatusBadRequest, err.Error()+` (in the body: {"confirm": "`+name+`"})`)
		return
	}
	writeVolumeResult(w, name, err)
}

// volumeAdmin checks that p may act on kept volumes, which belong to no
// account: only an unfiltered admin:users may.
func (a *API) volumeAdmin(w http.ResponseWriter, p auth.Principal) bool {
	if scopes.Allows(p.Scopes, "admin:users", scopes.Target{}) {
		return true
	}
	writeError(w, http.StatusForbidden, "this needs the admin:users scope on every user")
	return false
}

// volumeJSON is a kept volume in API answers.
type volumeJSON struct {
	Name    string `json:"name"`
	User    string `json:"user"`
	Created any    `json:"created"`
	// InUse names the containers that mount it.
	InUse []string `json:"in_use"`
}

// listVolumes answers GET /hub/api/volumes: the kept volumes of deleted
// students.
func (a *API) listVolumes(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok || !a.volumeAdmin(w, p) {
		return
	}
	vs, err := a.hub.KeptVolumes(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]volumeJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, volumeJSON{Name: v.Name, User: v.User, Created: isoTime(v.Created), InUse: append([]string{}, v.Containers...)})
	}
	writeJSON(w, http.StatusOK, out)
}

// restoreVolume answers POST /hub/api/volumes/{volume}/restore {"user":
// NAME}: the kept volume's files go to NAME, who has none.
func (a *API) restoreVolume(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok || !a.volumeAdmin(w, p) {
		return
	}
	var body struct {
		User string `json:"user"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.User == "" {
		writeError(w, http.StatusBadRequest, `name the account to restore the files to: {"user": NAME}`)
		return
	}
	writeVolumeResult(w, body.User, a.hub.RestoreVolume(r.Context(), r.PathValue("volume"), body.User))
}

// deleteVolume answers DELETE /hub/api/volumes/{volume} {"confirm": USER}:
// the kept volume goes for good; USER is the student it was made for.
func (a *API) deleteVolume(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok || !a.volumeAdmin(w, p) {
		return
	}
	var body struct {
		Confirm string `json:"confirm"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeVolumeResult(w, "", a.hub.DeleteVolume(r.Context(), r.PathValue("volume"), body.Confirm))
}

// writeVolumeResult answers a files operation: 204, 404 for a user or
// volume that is not there, 400 for what the caller can fix (a missing
// confirmation, a server still using the files, an account with files).
func writeVolumeResult(w http.ResponseWriter, name string, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, core.ErrNoSuchUser):
		writeError(w, http.StatusNotFound, "no such user: "+name)
	case errors.Is(err, core.ErrNotKept):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, core.ErrConfirm), errors.Is(err, spawner.ErrInUse), errors.Is(err, spawner.ErrHasFiles):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
