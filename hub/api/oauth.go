package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// OAuthTokenTTL is how long an OAuth access token lives: JupyterHub's
// cookie_max_age_days.
const OAuthTokenTTL = auth.SessionTTL

// authorize is the OAuth2 authorization endpoint a notebook server sends
// browsers to. A logged-in user allowed on the server gets a single-use
// code bound to their session, sent back to the exact redirect_uri the
// server registered, with state echoed.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	client, err := a.store.GetOAuthClient(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusBadRequest, "unknown OAuth client "+clientID+": start the server from the hub again")
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// Never redirect anywhere the client did not register: that would hand
	// codes to whoever crafted the link.
	if redirectURI != client.RedirectURI {
		writeError(w, http.StatusBadRequest, "redirect_uri does not match the one registered for "+clientID)
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		redirectError(w, r, redirectURI, q.Get("state"), "unsupported_response_type")
		return
	}
	p, err := a.auth.FromSession(r.Context(), r)
	if err != nil {
		http.Redirect(w, r, a.loginURL+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return
	}
	if !scopes.Allows(p.Scopes, "access:servers", scopes.OnServer(client.Owner, "")) {
		writeError(w, http.StatusForbidden, "user "+p.User.Name+" is not allowed on "+client.Owner+"'s server")
		return
	}
	code, err := a.store.CreateCode(r.Context(), store.CodeSpec{ClientID: clientID, User: p.User.Name, SessionID: p.Session.ID,
		RedirectURI: redirectURI, Scopes: append([]string{scopes.ServerAccessScope(client.Owner, "")}, scopes.IdentifyScopes(p.User.Name)...)})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	v := url.Values{"code": {code}}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	http.Redirect(w, r, withQuery(redirectURI, v), http.StatusFound)
}

func withQuery(u string, v url.Values) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + v.Encode()
}

func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code string) {
	v := url.Values{"error": {code}}
	if state != "" {
		v.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, v), http.StatusFound)
}

// token is the OAuth2 token endpoint. The notebook server authenticates
// with its client id and secret (its API token) in the form body and
// trades the code for an access token owned by the user who logged in.
func (a *API) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = u, p
	}
	if _, err := a.store.AuthenticateOAuthClient(r.Context(), clientID, secret); err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	code, err := a.store.ConsumeCode(r.Context(), f.Get("code"), clientID, f.Get("redirect_uri"))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, used, expired or for another client")
		return
	}
	secretTok, tok, err := a.store.CreateToken(r.Context(), store.TokenSpec{User: code.User, Kind: "oauth", Scopes: code.Scopes,
		ClientID: clientID, SessionID: code.SessionID, ExpiresIn: OAuthTokenTTL, Note: "OAuth for " + clientID})
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": secretTok,
		"token_type":   "Bearer",
		"expires_in":   int(OAuthTokenTTL.Seconds()),
		"scope":        strings.Join(tok.Scopes, " "),
	})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
