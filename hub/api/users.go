package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// PaginationType is the media type that asks for paginated lists.
const PaginationType = "application/jupyterhub-pagination+json"

// Page sizes, as JupyterHub's api_page_default_limit and _max_limit.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// userModel is the JupyterHub user model, filtered to the fields the
// caller's scopes reveal.
func (a *API) userModel(r *http.Request, p auth.Principal, u core.UserStatus, includeStopped bool) map[string]any {
	visible := scopes.VisibleUserFields(p.Scopes, u.Name)
	s := u.Server
	var server, pending any
	if s.Ready {
		server = core.URL(u.Name)
	}
	if s.Pending != "" {
		pending = s.Pending
	}
	roles := scopes.UserRoles(u.Admin)
	full := map[string]any{
		"kind":          "user",
		"name":          u.Name,
		"admin":         u.Admin,
		"roles":         roles,
		"groups":        []string{},
		"server":        server,
		"pending":       pending,
		"created":       isoTime(u.Created),
		"last_activity": isoTime(u.LastActivity),
		"auth_state":    nil,
	}
	model := make(map[string]any)
	for k, v := range full {
		if visible[k] {
			model[k] = v
		}
	}
	if scopes.ServerVisible(p.Scopes, u.Name, "") && (s.Active() || includeStopped) {
		sm := map[string]any{
			"name":              "",
			"full_name":         u.Name + "/",
			"last_activity":     isoTime(s.LastActivity),
			"started":           isoTime(s.Started),
			"pending":           pending,
			"ready":             s.Ready,
			"stopped":           !s.Active(),
			"url":               core.URL(u.Name),
			"user_options":      map[string]any{},
			"progress_url":      "/hub/api/users/" + url.PathEscape(u.Name) + "/server/progress",
			"full_url":          nil,
			"full_progress_url": nil,
		}
		if scopes.ServerStateVisible(p.Scopes, u.Name, "") {
			sm["state"] = map[string]any{"target": s.Target}
		}
		model["servers"] = map[string]any{"": sm}
	} else if visible["servers"] {
		model["servers"] = map[string]any{}
	}
	return model
}

func (a *API) userStatus(r *http.Request, name string) (core.UserStatus, error) {
	u, err := a.store.GetUser(r.Context(), name)
	if err != nil {
		return core.UserStatus{}, err
	}
	s, err := a.hub.Status(r.Context(), name)
	return core.UserStatus{User: u, Server: s}, err
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principalHolding(w, r, "list:users", "listing users")
	if !ok {
		return
	}
	q := r.URL.Query()
	paginated := strings.Contains(r.Header.Get("Accept"), PaginationType)
	offset, err1 := nonNegative(q.Get("offset"), 0)
	limit, err2 := nonNegative(q.Get("limit"), map[bool]int{true: defaultLimit, false: maxLimit}[paginated])
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit = min(max(limit, 1), maxLimit)
	state := q.Get("state")
	switch state {
	case "", store.StateActive, store.StateReady, store.StateInactive:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("state %q is not one of active, ready, inactive", state))
		return
	}
	_, includeStopped := q["include_stopped_servers"]
	// Filter by visibility before paging, so pages are full and totals
	// true for callers whose list:users is limited to some users.
	all, _, err := a.hub.Users(r.Context(), store.ListOptions{NameFilter: q.Get("name_filter"), State: state, Sort: q.Get("sort")})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "list users: "+err.Error())
		return
	}
	var visible []core.UserStatus
	for _, u := range all {
		if scopes.Allows(p.Scopes, "list:users", scopes.OnUser(u.Name)) {
			visible = append(visible, u)
		}
	}
	total := len(visible)
	end := min(offset+limit, total)
	items := []map[string]any{}
	for i := offset; i < end; i++ {
		items = append(items, a.userModel(r, p, visible[i], includeStopped))
	}
	if !paginated {
		writeJSON(w, http.StatusOK, items)
		return
	}
	var next any
	if end < total {
		nq := r.URL.Query()
		nq.Set("offset", strconv.Itoa(end))
		nq.Set("limit", strconv.Itoa(limit))
		next = map[string]any{"offset": end, "limit": limit, "url": requestBase(r) + r.URL.Path + "?" + nq.Encode()}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items":       items,
		"_pagination": map[string]any{"offset": offset, "limit": limit, "total": total, "next": next},
	})
}

// requestBase is the scheme and host the client used, for next-page URLs
// it can follow verbatim.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func nonNegative(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of at least 0", s)
	}
	return n, nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if len(scopes.VisibleUserFields(p.Scopes, name)) == 0 && !scopes.ServerVisible(p.Scopes, name, "") {
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	}
	us, err := a.userStatus(r, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	_, includeStopped := r.URL.Query()["include_stopped_servers"]
	writeJSON(w, http.StatusOK, a.userModel(r, p, us, includeStopped))
}

func (a *API) createUsers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Usernames []string `json:"usernames"`
		Admin     bool     `json:"admin"`
	}
	p, ok := a.adminRequest(w, r, &body)
	if !ok {
		return
	}
	if len(body.Usernames) == 0 {
		writeError(w, http.StatusBadRequest, "give at least one name in \"usernames\"")
		return
	}
	created, ok := a.addUsers(w, r, body.Usernames, body.Admin)
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, u := range created {
		out = append(out, a.userModel(r, p, core.UserStatus{User: u}, false))
	}
	writeJSON(w, http.StatusCreated, out)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Admin bool `json:"admin"`
	}
	p, ok := a.adminRequest(w, r, &body)
	if !ok {
		return
	}
	if created, ok := a.addUsers(w, r, []string{r.PathValue("name")}, body.Admin); ok {
		writeJSON(w, http.StatusCreated, a.userModel(r, p, core.UserStatus{User: created[0]}, false))
	}
}

// adminRequest authenticates a request that adds users, which needs
// admin:users, and reads its JSON body into body. It answers failures
// itself and then returns false.
func (a *API) adminRequest(w http.ResponseWriter, r *http.Request, body any) (auth.Principal, bool) {
	p, ok := a.principalHolding(w, r, "admin:users", "adding users")
	if !ok {
		return p, false
	}
	if err := readJSON(r, body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return p, false
	}
	return p, true
}

// addUsers creates names, answering a bad name (400), a failure (500) or
// nothing new (409) itself and then returning false. The credentials
// core makes for them (an instructor's generated password, a student's
// setup code) are dropped: JupyterHub's API has no password field, and a
// secret in a response ends up in scripts' output and logs. Nobody can
// log in to such an account by typing its name; an instructor hands out
// its first credential with Reset on the admin page or `classhub users
// reset`.
func (a *API) addUsers(w http.ResponseWriter, r *http.Request, names []string, admin bool) ([]store.User, bool) {
	created, err := a.hub.AddUsers(r.Context(), names, admin)
	switch {
	case errors.Is(err, core.ErrBadName):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	case len(created) == 0:
		writeError(w, http.StatusConflict, "already there: "+strings.Join(names, ", "))
	default:
		users := make([]store.User, len(created))
		for i, c := range created {
			users[i] = c.User
		}
		return users, true
	}
	return nil, false
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "admin:users", name) {
		return
	}
	var body struct {
		Name  *string `json:"name"`
		Admin *bool   `json:"admin"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.Name != nil {
		n := core.NormalizeName(*body.Name)
		if err := core.ValidateName(n); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if s, _ := a.hub.Status(r.Context(), name); s.Active() {
			writeError(w, http.StatusBadRequest, "stop "+name+"'s server before renaming them")
			return
		}
		body.Name = &n
	}
	u, err := a.store.UpdateUser(r.Context(), name, store.UserUpdate{Name: body.Name, Admin: body.Admin})
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, "user "+*body.Name+" exists already")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	us, err := a.userStatus(r, u.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, a.userModel(r, p, us, false))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "delete:users", name) {
		return
	}
	if name == p.User.Name {
		writeError(w, http.StatusBadRequest, "you cannot delete yourself")
		return
	}
	writeNoContent(w, name, a.hub.DeleteUser(r.Context(), name))
}
