// Package classclienttest is a class hub for tests of the learner's client
// (classclient, and the tray and the CLI's class commands that drive it),
// on loopback, for one user: the part of JupyterHub's REST API and OAuth
// that the client speaks. That is GET /hub/api; GET /hub/api/user;
// starting and stopping the user's default server (POST and DELETE
// /hub/api/users/NAME/server) and its progress stream; listing, making and
// deleting the user's tokens; and, when the hub offers the app's login, the
// authorize and token endpoints of OAuth 2 with PKCE S256, for the app's
// public client and a loopback redirect.
//
// New's hub answers as JupyterHub 3.0 does: no client for the app, no
// token_id in the user model, 400 for starting a running server or
// stopping a stopped one, and 400 for the progress stream of a server that
// is not starting, a ready one too. OfferApp and TellTokenIDs make it
// classhub or JupyterHub 5; StartAtOnce makes a start end before its
// answer, as a quick spawner's does; tests bend its answers further to
// play a hub in trouble, one that refuses to delete a token, or a site
// standing in for another hub. It does not import classclient, so
// classclient's own tests can use it, and it names the app's client as the
// hub does, not as the client does.
package classclienttest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// AppClientID is the OAuth client a class hub registers the desktop app
// under, as classhub does (hub/auth's AppClientID).
const AppClientID = "classhub-desktop"

// State is where the user's server is.
type State string

const (
	Stopped State = "stopped"
	// Starting is a start under way (pending "spawn"), whose progress
	// stream is open.
	Starting State = "starting"
	Ready    State = "ready"
)

// Hub is a running fake hub; its URL is the hub's base URL.
type Hub struct {
	*httptest.Server

	t    testing.TB
	user string
	// stream feeds the progress stream of the start under way: each
	// string is written as it is.
	stream chan string

	mu       sync.Mutex
	app      bool
	tokenIDs bool
	mint     bool
	noRevoke bool
	atOnce   bool
	iss      string
	fail     int
	state    State
	tokens   map[string]string // secret → id
	grants   map[string]grant  // code → what it was issued for
	issued   int
	codes    int
	revoked  []string
	minted   []string
	stops    int
}

// grant is what an authorization code was issued for.
type grant struct {
	challenge, redirect string
}

// New starts a hub for user, with no token and the server stopped; it
// stops when the test ends.
func New(t testing.TB, user string) *Hub {
	h := &Hub{t: t, user: user, stream: make(chan string, 16), state: Stopped,
		tokens: map[string]string{}, grants: map[string]grant{}}
	mine := "/hub/api/users/{name}"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hub/api", h.root)
	mux.HandleFunc("GET /hub/api/oauth2/authorize", h.authorize)
	mux.HandleFunc("POST /hub/api/oauth2/token", h.token)
	mux.HandleFunc("/hub/api/", h.api(nil))
	mux.HandleFunc("GET /hub/api/user", h.api(h.whoami))
	mux.HandleFunc("POST "+mine+"/server", h.api(h.start))
	mux.HandleFunc("DELETE "+mine+"/server", h.api(h.stop))
	mux.HandleFunc("GET "+mine+"/server/progress", h.api(h.progress))
	mux.HandleFunc("GET "+mine+"/tokens", h.api(h.listTokens))
	mux.HandleFunc("POST "+mine+"/tokens", h.api(h.makeToken))
	mux.HandleFunc("DELETE "+mine+"/tokens/{id}", h.api(h.deleteToken))
	h.Server = httptest.NewServer(h.failing(mux))
	t.Cleanup(h.Close)
	return h
}

// Close stops the hub, as a hub that is down; a progress stream under way
// is cut.
func (h *Hub) Close() {
	h.CloseClientConnections()
	h.Server.Close()
}

// locked runs fn holding the hub's lock.
func (h *Hub) locked(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn()
}

// OfferApp makes the hub offer the app's login, as classhub does: it names
// AppClientID in GET /hub/api and answers the authorize and token
// endpoints.
func (h *Hub) OfferApp(on bool) { h.locked(func() { h.app = on }) }

// TellTokenIDs makes the user model tell the asking token's id
// (token_id), as JupyterHub 5 and classhub do; the hub then gives its
// version as 5.2.1, else 3.0.0.
func (h *Hub) TellTokenIDs(on bool) { h.locked(func() { h.tokenIDs = on }) }

// MintTokens makes POST /hub/api/users/NAME/tokens make a token; off, it
// answers 403, as for a token that may not make tokens.
func (h *Hub) MintTokens(on bool) { h.locked(func() { h.mint = on }) }

// RefuseRevoke makes DELETE /hub/api/users/NAME/tokens/ID answer 403 and
// keep the token, as for a token pasted without the tokens scope.
func (h *Hub) RefuseRevoke(on bool) { h.locked(func() { h.noRevoke = on }) }

// StartAtOnce makes POST /hub/api/users/NAME/server make the server ready
// and answer 201, as JupyterHub does for a server up within its
// slow_spawn_timeout; off, a start stays under way (202) until Ready.
func (h *Hub) StartAtOnce(on bool) { h.locked(func() { h.atOnce = on }) }

// NameIssuer makes the authorization answer name iss as its issuer (iss,
// RFC 9207), as a site standing in for the hub at iss gets; "" names the
// hub itself.
func (h *Hub) NameIssuer(iss string) { h.locked(func() { h.iss = iss }) }

// Fail makes every request answer status, as a hub in trouble; 0 heals
// it.
func (h *Hub) Fail(status int) { h.locked(func() { h.fail = status }) }

// AddToken makes the hub take secret as the user's token with id.
func (h *Hub) AddToken(secret, id string) { h.locked(func() { h.tokens[secret] = id }) }

// DropToken makes the hub forget the token secret, as when it expired or
// was deleted on the token page; Revoked does not list it.
func (h *Hub) DropToken(secret string) { h.locked(func() { delete(h.tokens, secret) }) }

// DropTokens makes the hub forget every token.
func (h *Hub) DropTokens() { h.locked(func() { clear(h.tokens) }) }

// TokenPage is a new token, as the hub's token page hands it out.
func (h *Hub) TokenPage() (secret string) {
	h.locked(func() { secret = h.issue("p") })
	return secret
}

// issue makes a token: its id is kind and the count of tokens this hub has
// issued, from 1 ("o1" from the token endpoint, "m2" made through the
// API, "p3" from the token page), and its secret "secret-" and the id.
func (h *Hub) issue(kind string) string {
	h.issued++
	id := fmt.Sprintf("%s%d", kind, h.issued)
	h.tokens["secret-"+id] = id
	return "secret-" + id
}

// Revoked lists the ids of the tokens deleted through the API, in order.
func (h *Hub) Revoked() (ids []string) {
	h.locked(func() { ids = slices.Clone(h.revoked) })
	return ids
}

// MintedScopes are the scopes the last POST .../tokens asked for.
func (h *Hub) MintedScopes() (scopes []string) {
	h.locked(func() { scopes = slices.Clone(h.minted) })
	return scopes
}

// Codes counts the authorization codes issued and not yet presented to
// the token endpoint.
func (h *Hub) Codes() (n int) {
	h.locked(func() { n = len(h.grants) })
	return n
}

// Stops counts the requests to stop the server, refused ones too.
func (h *Hub) Stops() (n int) {
	h.locked(func() { n = h.stops })
	return n
}

// State is where the user's server is.
func (h *Hub) State() (s State) {
	h.locked(func() { s = h.state })
	return s
}

// SetState puts the user's server in s without a word on the progress
// stream: Stopped is a server the hub's idle culler stopped.
func (h *Hub) SetState(s State) { h.locked(func() { h.state = s }) }

// Send queues lines for the progress stream of a start, each written as
// it is ("data: {...}\n\n", or a comment); the stream ends after an event
// that is ready or failed. It blocks while 16 lines wait to be read.
func (h *Hub) Send(lines ...string) {
	for _, l := range lines {
		h.stream <- l
	}
}

// Step sends one step of the start under way.
func (h *Hub) Step(progress int, message string) {
	h.Send(event(map[string]any{"progress": progress, "message": message}))
}

// Ready makes the server ready and ends the start's progress stream, as
// JupyterHub does.
func (h *Hub) Ready() {
	h.SetState(Ready)
	h.Send(event(map[string]any{"progress": 100, "ready": true, "url": "/user/" + h.user + "/", "message": "Server ready"}))
}

// event is one event of a progress stream.
func event(v map[string]any) string {
	b, _ := json.Marshal(v)
	return "data: " + string(b) + "\n\n"
}

// Authorize plays the hub's authorization page for the user, logged in,
// pressing Allow: it returns where the hub sends the browser, the app's
// redirect with a code. A request that is not a PKCE S256 request of the
// app fails the test, and the browser is sent back with an error, so the
// login ends.
func (h *Hub) Authorize(authorizeURL string) string {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		h.t.Errorf("authorize URL %s: %v", authorizeURL, err)
		return ""
	}
	back, err := h.grant(u.Query())
	if err != nil {
		h.t.Errorf("authorize URL %s: %v", authorizeURL, err)
	}
	return back
}

// grant issues a code for an authorization request q and returns the
// redirect with it; for a request it refuses, an error and, where q has a
// redirect, the redirect with error=invalid_request.
func (h *Hub) grant(q url.Values) (string, error) {
	redirect, rerr := url.Parse(q.Get("redirect_uri"))
	var err error
	switch {
	case rerr != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1":
		return "", fmt.Errorf("redirect_uri %q is not on loopback", q.Get("redirect_uri"))
	case q.Get("client_id") != AppClientID:
		err = fmt.Errorf("client_id %q is not the app's", q.Get("client_id"))
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		err = errors.New("not a PKCE S256 request for a code")
	}
	answer := url.Values{"state": {q.Get("state")}}
	if err != nil {
		answer.Set("error", "invalid_request")
		redirect.RawQuery = answer.Encode()
		return redirect.String(), err
	}
	h.mu.Lock()
	h.codes++
	code := fmt.Sprintf("code-%d", h.codes)
	h.grants[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	iss := h.iss
	h.mu.Unlock()
	if iss == "" {
		iss = h.URL
	}
	answer.Set("code", code)
	answer.Set("iss", iss)
	redirect.RawQuery = answer.Encode()
	return redirect.String(), nil
}

func (h *Hub) version() string {
	if h.tokenIDs {
		return "5.2.1"
	}
	return "3.0.0"
}

func (h *Hub) json(w http.ResponseWriter, status int, v any) {
	h.mu.Lock()
	version := h.version()
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-JupyterHub-Version", version)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (h *Hub) failing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		fail := h.fail
		h.mu.Unlock()
		if fail != 0 {
			h.json(w, fail, map[string]any{"status": fail, "message": "the hub is in trouble"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Hub) root(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	root := map[string]any{"version": h.version()}
	if h.app {
		root["desktop_client"] = AppClientID
	}
	h.mu.Unlock()
	h.json(w, http.StatusOK, root)
}

func (h *Hub) offersApp() (on bool) {
	h.locked(func() { on = h.app })
	return on
}

// authorize is the authorization page of Authorize, reached by the
// browser: it sends the browser on at once.
func (h *Hub) authorize(w http.ResponseWriter, r *http.Request) {
	if !h.offersApp() {
		h.api(nil)(w, r)
		return
	}
	back, err := h.grant(r.URL.Query())
	if err != nil {
		http.Error(w, "bad authorization request: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, back, http.StatusFound)
}

// token trades a code, with the verifier that matches its challenge and
// the redirect it was issued for, for a token.
func (h *Hub) token(w http.ResponseWriter, r *http.Request) {
	if !h.offersApp() {
		h.api(nil)(w, r)
		return
	}
	r.ParseForm()
	code := r.PostForm.Get("code")
	h.mu.Lock()
	g, ok := h.grants[code]
	delete(h.grants, code) // a code works once
	h.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirect ||
		r.PostForm.Get("client_id") != AppClientID {
		h.json(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "bad code or verifier"})
		return
	}
	h.mu.Lock()
	secret := h.issue("o")
	h.mu.Unlock()
	h.json(w, http.StatusOK, map[string]any{"access_token": secret, "token_type": "Bearer", "expires_in": 3600,
		"scope": "servers!user=" + h.user})
}

// api is an API handler that needs one of the hub's tokens, on a path of
// the hub's user; next gets the token's id. A nil next answers 404, as for
// a path the hub does not have.
func (h *Hub) api(next func(w http.ResponseWriter, r *http.Request, id string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
		h.mu.Lock()
		id, ok := h.tokens[secret]
		h.mu.Unlock()
		switch {
		case !ok:
			h.json(w, http.StatusForbidden, map[string]any{"status": 403, "message": "Missing or invalid credentials."})
		case next == nil || r.PathValue("name") != "" && r.PathValue("name") != h.user:
			h.json(w, http.StatusNotFound, map[string]any{"status": 404, "message": "Not found"})
		default:
			next(w, r, id)
		}
	}
}

func (h *Hub) whoami(w http.ResponseWriter, r *http.Request, id string) {
	h.mu.Lock()
	u := map[string]any{"kind": "user", "name": h.user, "admin": false, "scopes": []string{"servers!user=" + h.user},
		"servers": map[string]any{}, "server": nil, "pending": nil}
	if h.tokenIDs {
		u["token_id"] = id
	}
	addr, progress := "/user/"+h.user+"/", "/hub/api/users/"+h.user+"/server/progress"
	switch h.state {
	case Starting:
		u["pending"] = "spawn"
		u["servers"] = map[string]any{"": map[string]any{"ready": false, "pending": "spawn", "url": addr, "progress_url": progress}}
	case Ready:
		u["server"] = addr
		u["servers"] = map[string]any{"": map[string]any{"ready": true, "pending": nil, "url": addr, "progress_url": progress}}
	}
	h.mu.Unlock()
	h.json(w, http.StatusOK, u)
}

func (h *Hub) start(w http.ResponseWriter, r *http.Request, _ string) {
	h.mu.Lock()
	running, atOnce := h.state == Ready, h.atOnce
	switch {
	case running:
	case atOnce:
		h.state = Ready
	default:
		h.state = Starting
	}
	h.mu.Unlock()
	switch {
	case running:
		h.json(w, http.StatusBadRequest, map[string]any{"status": 400, "message": h.user + " is already running"})
	case atOnce:
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// stop stops the server; a start under way ends its progress stream with
// a failed event, as classhub's does.
func (h *Hub) stop(w http.ResponseWriter, r *http.Request, _ string) {
	h.mu.Lock()
	h.stops++
	was := h.state
	if was == Starting {
		h.stream <- event(map[string]any{"progress": 100, "failed": true, "message": "Start cancelled", "reason": "cancelled"})
	}
	h.state = Stopped
	h.mu.Unlock()
	if was == Stopped {
		h.json(w, http.StatusBadRequest, map[string]any{"status": 400, "message": h.user + "'s server is not running"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// progress is the start's progress stream: what Send queues, until an
// event that is ready or failed, or the client leaves.
func (h *Hub) progress(w http.ResponseWriter, r *http.Request, _ string) {
	if h.State() != Starting {
		h.json(w, http.StatusBadRequest, map[string]any{"status": 400, "message": "not starting"})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case l := <-h.stream:
			fmt.Fprint(w, l)
			w.(http.Flusher).Flush()
			if ends(l) {
				return
			}
		}
	}
}

// ends reports whether lines of a progress stream hold an event that is
// ready or failed.
func ends(lines string) bool {
	for _, l := range strings.Split(lines, "\n") {
		data, ok := strings.CutPrefix(l, "data:")
		if !ok {
			continue
		}
		var e struct{ Ready, Failed bool }
		if json.Unmarshal([]byte(data), &e) == nil && (e.Ready || e.Failed) {
			return true
		}
	}
	return false
}

func (h *Hub) listTokens(w http.ResponseWriter, r *http.Request, _ string) {
	h.mu.Lock()
	var list []map[string]string
	for _, id := range h.tokens {
		list = append(list, map[string]string{"id": id})
	}
	h.mu.Unlock()
	h.json(w, http.StatusOK, map[string]any{"api_tokens": list})
}

func (h *Hub) makeToken(w http.ResponseWriter, r *http.Request, _ string) {
	var body struct {
		Note   string   `json:"note"`
		Scopes []string `json:"scopes"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	h.mu.Lock()
	if !h.mint {
		h.mu.Unlock()
		h.json(w, http.StatusForbidden, map[string]any{"status": 403, "message": "Action is not authorized with current scopes; requires any of [tokens]"})
		return
	}
	h.minted = body.Scopes
	secret := h.issue("m")
	id := h.tokens[secret]
	h.mu.Unlock()
	h.json(w, http.StatusCreated, map[string]any{"token": secret, "id": id, "note": body.Note, "scopes": body.Scopes})
}

func (h *Hub) deleteToken(w http.ResponseWriter, r *http.Request, _ string) {
	h.mu.Lock()
	if h.noRevoke {
		h.mu.Unlock()
		h.json(w, http.StatusForbidden, map[string]any{"status": 403, "message": "Action is not authorized with current scopes; requires any of [tokens]"})
		return
	}
	found := false
	for s, id := range h.tokens {
		if id == r.PathValue("id") {
			delete(h.tokens, s)
			h.revoked = append(h.revoked, id)
			found = true
			break
		}
	}
	h.mu.Unlock()
	if !found {
		h.json(w, http.StatusNotFound, map[string]any{"status": 404, "message": "no such token"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
