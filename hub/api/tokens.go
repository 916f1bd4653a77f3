package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

func tokenModel(t store.Token) map[string]any {
	var client any = "JupyterHub"
	if t.ClientID != "" {
		client = t.ClientID
	}
	return map[string]any{
		"kind":          "api_token",
		"id":            t.APIID(),
		"user":          t.User,
		"roles":         []string{},
		"scopes":        t.Scopes,
		"note":          t.Note,
		"created":       isoTime(t.Created),
		"last_activity": isoTime(t.LastActivity),
		"expires_at":    isoTime(t.ExpiresAt),
		"session_id":    nilIfEmpty(t.SessionID),
		"oauth_client":  client,
	}
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "read:tokens", name) {
		return
	}
	toks, err := a.store.ListTokens(r.Context(), name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []map[string]any{}
	for _, t := range toks {
		out = append(out, tokenModel(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_tokens": out})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "tokens", name) {
		return
	}
	var body struct {
		Note      string   `json:"note"`
		ExpiresIn *int64   `json:"expires_in"`
		Scopes    []string `json:"scopes"`
		Roles     []string `json:"roles"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := a.store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	}
	raw := body.Scopes
	for _, role := range body.Roles {
		rs, ok := scopes.Role(role)
		if !ok {
			writeError(w, http.StatusBadRequest, "no such role: "+role)
			return
		}
		raw = append(raw, rs...)
	}
	if len(raw) == 0 {
		raw = []string{scopes.Inherit}
	}
	resolved, err := scopes.Resolve(raw, scopes.Owner{User: name})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// A token never exceeds its owner, nor the caller creating it.
	owner := scopes.UserScopes(u.Name, u.Admin)
	if !slices.Contains(resolved, scopes.Inherit) {
		asked := scopes.MustExpand(resolved, scopes.Owner{User: name})
		if got := scopes.Intersect(asked, scopes.Intersect(owner, p.Scopes)); got.Len() < asked.Len() {
			writeError(w, http.StatusForbidden, "a token cannot have more rights than its owner or its creator")
			return
		}
	}
	var ttl time.Duration
	if body.ExpiresIn != nil && *body.ExpiresIn > 0 {
		ttl = time.Duration(*body.ExpiresIn) * time.Second
	}
	note := body.Note
	if note == "" {
		note = "Requested via api"
		if p.User.Name != name {
			note += " by user " + p.User.Name
		}
	}
	secret, tok, err := a.store.CreateToken(r.Context(), store.TokenSpec{User: name, Kind: "api", Scopes: resolved, Note: note,
		ExpiresIn: ttl})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	m := tokenModel(tok)
	m["token"] = secret
	writeJSON(w, http.StatusCreated, m)
}

// requestedToken answers a request for one of a user's tokens: it checks that the
// caller holds scope on the user and finds the token, or answers itself and
// returns false. store.ParseTokenID reads the "a42" form.
func (a *API) requestedToken(w http.ResponseWriter, r *http.Request, scope string) (store.Token, bool) {
	p, ok := a.principal(w, r)
	if !ok {
		return store.Token{}, false
	}
	name := r.PathValue("name")
	id, err := store.ParseTokenID(r.PathValue("id"))
	// A token may always delete itself: the app's token, which may not
	// make or manage tokens, can still be revoked by the app that holds it.
	self := r.Method == http.MethodDelete && err == nil && p.Token.ID == id && p.Token.User == name && p.User.Name == name
	if !self && !a.allow(w, p, scope, name) {
		return store.Token{}, false
	}
	var tok store.Token
	if err == nil {
		tok, err = a.store.GetToken(r.Context(), name, id)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such token: "+r.PathValue("id"))
		return tok, false
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return tok, false
	}
	return tok, true
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request) {
	if tok, ok := a.requestedToken(w, r, "read:tokens"); ok {
		writeJSON(w, http.StatusOK, tokenModel(tok))
	}
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) {
	tok, ok := a.requestedToken(w, r, "tokens")
	if !ok {
		return
	}
	// Deleting an OAuth token logs its client out entirely, as in
	// JupyterHub: a server's client is its owner's alone. The app's client
	// is every learner's, on every computer: only this token goes.
	var err error
	if tok.ClientID != "" && tok.Kind == "oauth" && tok.ClientID != auth.AppClientID {
		_, err = a.store.DeleteTokensByClient(r.Context(), tok.ClientID)
	} else {
		err = a.store.DeleteToken(r.Context(), tok.User, tok.ID)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
