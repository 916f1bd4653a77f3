package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// OAuthTokenTTL is how long an OAuth access token lives: JupyterHub's
// cookie_max_age_days.
const OAuthTokenTTL = auth.OAuthTokenTTL

// AuthorizePath is the OAuth2 authorization endpoint. Notebook servers
// send browsers there, and the consent page posts back to it.
const AuthorizePath = "/hub/api/oauth2/authorize"

// Consent is what a user is asked before a server that is not their own
// gets a token for them: whose server it is and what it gets.
type Consent struct {
	// User is who is asked; Owner is whose server asks.
	User, Owner string
	// ServerURL is the server's address.
	ServerURL string
	// Scopes is what the server's token for User may do, and nothing else.
	Scopes []string
	// App is set when the classhub app on the user's computer asks, for
	// the user's own server (Owner and ServerURL are then empty).
	App bool
	// Form is what the consent form posts back to AuthorizePath, besides
	// the page's anti-forgery token (_xsrf).
	Form url.Values
}

// Pages renders what a browser sees at the authorization endpoint; hub/web
// implements it, so that the API itself renders no HTML.
type Pages interface {
	// Consent asks p whether to let c.Owner's server in as them, with a
	// form that POSTs c.Form and p's anti-forgery token to AuthorizePath.
	Consent(w http.ResponseWriter, r *http.Request, p auth.Principal, c Consent)
	// Refuse answers status with msg, a sentence that says what to do (or
	// an error's text that does).
	Refuse(w http.ResponseWriter, r *http.Request, status int, msg string)
}

// jsonPages answers as the rest of the API does, for an API with no pages.
type jsonPages struct{}

func (jsonPages) Consent(w http.ResponseWriter, r *http.Request, p auth.Principal, c Consent) {
	if c.App {
		writeError(w, http.StatusForbidden, "letting the classhub app in as "+c.User+" needs their consent on the hub's page")
		return
	}
	writeError(w, http.StatusForbidden, "letting "+c.Owner+"'s server in as "+c.User+" needs their consent on the hub's page")
}

func (jsonPages) Refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeError(w, status, msg)
}

// authorize is the OAuth2 authorization endpoint a notebook server sends
// browsers to. A logged-in user allowed on the server gets a single-use
// code bound to their session, sent back to the exact redirect_uri the
// server registered, with state echoed. The code lets the server act as
// the user on that server only, and read their name and groups. Still, a
// server runs its owner's code, so, as in JupyterHub, a GET issues a code
// only for the user's own server; for anyone else's it shows the consent
// page, and only that page's POST, carrying the session's anti-forgery
// token, issues one.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			a.pages.Refuse(w, r, http.StatusBadRequest, "The form could not be read. Go back to the server's page and open it again.")
			return
		}
		q = r.PostForm
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	client, err := a.store.GetOAuthClient(r.Context(), clientID)
	if errors.Is(err, store.ErrNotFound) {
		a.pages.Refuse(w, r, http.StatusBadRequest, "There is no server "+strconv.Quote(clientID)+" to log in to. Start the server from the hub again.")
		return
	} else if err != nil {
		a.log.Printf("api: authorize: %v", err)
		a.pages.Refuse(w, r, http.StatusInternalServerError, "The hub could not look up the server; its log says why. Try again in a moment.")
		return
	}
	// Never redirect anywhere the client did not register: that would hand
	// codes to whoever crafted the link. The app registers loopback only.
	app := client.ID == auth.AppClientID
	if app && !auth.AppRedirect(redirectURI) || !app && redirectURI != client.RedirectURI {
		a.pages.Refuse(w, r, http.StatusBadRequest, "The link does not lead back to the server it names. Open the server from the hub's home page instead.")
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		redirectError(w, r, redirectURI, q.Get("state"), "unsupported_response_type")
		return
	}
	// The app has no secret: only the PKCE verifier, which never left it,
	// shows that the token request comes from whoever asked for the code.
	if app && !auth.ValidChallenge(q.Get("code_challenge_method"), q.Get("code_challenge")) {
		redirectError(w, r, redirectURI, q.Get("state"), "invalid_request")
		return
	}
	p, err := a.auth.FromSession(r.Context(), r)
	if errors.Is(err, auth.ErrPlantedCookie) {
		// The login page would send the browser back here with the same
		// cookies: say what happened instead.
		a.auth.ExpirePlanted(w, r)
		a.pages.Refuse(w, r, http.StatusForbidden, err.Error())
		return
	}
	if err != nil {
		if r.Method == http.MethodPost {
			a.pages.Refuse(w, r, http.StatusForbidden, "Your login has ended. Log in again, then open the server again.")
			return
		}
		http.Redirect(w, r, a.loginURL+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return
	}
	grant := append([]string{scopes.ServerAccessScope(client.Owner, "")}, scopes.IdentifyScopes(p.User.Name)...)
	if app {
		grant = auth.AppScopes(p.User.Name)
	} else if !scopes.Allows(p.Scopes, "access:servers", scopes.OnServer(client.Owner, "")) {
		a.pages.Refuse(w, r, http.StatusForbidden, "You ("+p.User.Name+") may not use "+client.Owner+"'s server.")
		return
	}
	if r.Method == http.MethodPost {
		if !auth.CheckCSRF(r, p.Session) {
			a.pages.Refuse(w, r, http.StatusForbidden, "This form did not come from this hub's own page, or the page is too old. Open the server again.")
			return
		}
		if app && q.Get("deny") != "" {
			redirectError(w, r, redirectURI, q.Get("state"), "access_denied")
			return
		}
	} else if app || client.Owner != p.User.Name {
		// The app is asked about every time: a link can start its login
		// from any page, and only the learner knows whether they did.
		form := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}}
		if st := q.Get("state"); st != "" {
			form.Set("state", st)
		}
		if app {
			form.Set("code_challenge", q.Get("code_challenge"))
			form.Set("code_challenge_method", q.Get("code_challenge_method"))
		}
		a.pages.Consent(w, r, p, Consent{User: p.User.Name, Owner: client.Owner, ServerURL: core.URL(client.Owner),
			App: app, Scopes: grant, Form: form})
		return
	}
	spec := store.CodeSpec{ClientID: clientID, User: p.User.Name, SessionID: p.Session.ID, RedirectURI: redirectURI, Scopes: grant}
	if app {
		// The app's token outlives the browser's session: logging out of
		// the hub's pages does not log the app out.
		spec.SessionID, spec.Challenge = "", q.Get("code_challenge")
	}
	code, err := a.store.CreateCode(r.Context(), spec)
	if err != nil {
		a.log.Printf("api: authorize: %v", err)
		a.pages.Refuse(w, r, http.StatusInternalServerError, "The hub could not log you in to the server; its log says why. Try again in a moment.")
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
// The app (auth.AppClientID) has no secret and presents the code's PKCE
// verifier instead.
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
	var secretTok string
	var tok store.Token
	var err error
	if clientID == auth.AppClientID {
		// A public client: the verifier stands in for the secret.
		secretTok, tok, err = a.auth.ExchangeCodePKCE(r.Context(), clientID, f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"))
	} else {
		if _, aerr := a.store.AuthenticateOAuthClient(r.Context(), clientID, secret); aerr != nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
			return
		}
		secretTok, tok, err = a.auth.ExchangeCode(r.Context(), clientID, f.Get("code"), f.Get("redirect_uri"))
	}
	if errors.Is(err, auth.ErrBadCode) || errors.Is(err, auth.ErrBadVerifier) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
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
