// Package api is the hub's JupyterHub-compatible REST API under /hub/api and
// its OAuth2 provider: what jupyterhub-singleuser, jupyterhub-idle-culler
// and admin scripts speak. Every route is in the one table in routes; the
// handlers only translate between HTTP and hub/core.
package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// Options are the API's dependencies.
type Options struct {
	Hub  *core.Lifecycle
	Auth *auth.Authenticator
	// LoginURL is where browsers without a session are sent to log in;
	// "" means /hub/login.
	LoginURL string
	ErrorLog *log.Logger
	// KeepAlive is the progress stream's keep-alive interval; 0 means 8 s.
	KeepAlive time.Duration
	// Pages renders the authorization endpoint's consent and error pages;
	// nil answers JSON and so never lets a server in for someone else.
	Pages Pages
	// Streams caps each caller's open event streams, shared with the
	// pages' streams; nil means a cap of limit.StreamsPerUser for the API's
	// alone.
	Streams *limit.PerKey
	// ServerVersion, if set, is the JupyterHub version InternalHandler
	// answers the notebook server making r with (the jupyterhub package in
	// its image, which its version check compares with its own); "" or nil
	// means core.Version.
	ServerVersion func(r *http.Request) string
}

// API serves the REST API.
type API struct {
	hub           *core.Lifecycle
	store         *store.Store
	auth          *auth.Authenticator
	loginURL      string
	log           *log.Logger
	keepAlive     time.Duration
	pages         Pages
	streams       *limit.PerKey
	serverVersion func(r *http.Request) string // Options.ServerVersion
}

// New returns the API.
func New(opts Options) *API {
	a := &API{hub: opts.Hub, store: opts.Hub.Store(), auth: opts.Auth, loginURL: opts.LoginURL, log: opts.ErrorLog,
		keepAlive: opts.KeepAlive, pages: opts.Pages, streams: opts.Streams, serverVersion: opts.ServerVersion}
	if a.pages == nil {
		a.pages = jsonPages{}
	}
	if a.loginURL == "" {
		a.loginURL = "/hub/login"
	}
	if a.log == nil {
		a.log = log.Default()
	}
	if a.keepAlive <= 0 {
		a.keepAlive = 8 * time.Second
	}
	if a.streams == nil {
		a.streams = limit.NewPerKey(limit.StreamsPerUser)
	}
	return a
}

// route is one entry of the route table. internal routes are also served
// on the listener the containers reach.
type route struct {
	pattern  string
	handler  http.HandlerFunc
	internal bool
}

// routes is the route table. Scopes each route needs are checked in its
// handler, against the user it acts on.
func (a *API) routes() []route {
	return []route{
		{"GET /hub/api", a.root, true},
		{"GET /hub/api/{$}", a.root, true},
		{"GET /hub/api/info", a.info, false},
		// What a token or session is: the singleuser server asks this for
		// every new visitor (403 for a bad token, never another 4xx).
		{"GET /hub/api/user", a.self, true},
		{"GET /hub/api/users", a.listUsers, false},            // ?offset&limit&state&name_filter&sort&include_stopped_servers
		{"POST /hub/api/users", a.createUsers, false},         // {"usernames": [...], "admin": bool}
		{"GET /hub/api/users/{name}", a.getUser, false},       //
		{"POST /hub/api/users/{name}", a.createUser, false},   // {"admin": bool}
		{"PATCH /hub/api/users/{name}", a.patchUser, false},   // {"name", "admin"}
		{"DELETE /hub/api/users/{name}", a.deleteUser, false}, //
		{"POST /hub/api/users/{name}/server", a.startServer, false},
		{"DELETE /hub/api/users/{name}/server", a.stopServer, false}, // {"remove": bool}
		{"GET /hub/api/users/{name}/server/progress", a.progress, false},
		{"DELETE /hub/api/users/{name}/server/files", a.deleteFiles, false}, // {"confirm": NAME}; classhub's
		{"GET /hub/api/volumes", a.listVolumes, false},                      // classhub's: kept volumes of deleted students
		{"POST /hub/api/volumes/{volume}/restore", a.restoreVolume, false},  // {"user": NAME}
		{"DELETE /hub/api/volumes/{volume}", a.deleteVolume, false},         // {"confirm": USER}
		{"POST /hub/api/users/{name}/activity", a.activity, true},
		{"GET /hub/api/users/{name}/tokens", a.listTokens, false},
		{"POST /hub/api/users/{name}/tokens", a.createToken, false}, // {"note", "expires_in", "scopes"}
		{"GET /hub/api/users/{name}/tokens/{id}", a.getToken, false},
		{"DELETE /hub/api/users/{name}/tokens/{id}", a.deleteToken, false},
		{"GET " + AuthorizePath, a.authorize, false},  // ?client_id&redirect_uri&response_type=code&state
		{"POST " + AuthorizePath, a.authorize, false}, // the consent form: the same fields and _xsrf
		{"POST /hub/api/oauth2/token", a.token, true}, // form: grant_type=authorization_code&code&client_id&client_secret&redirect_uri
		{"GET /hub/api/health", a.health, true},
		{"GET /hub/health", a.health, true},
	}
}

// Handler serves the whole API, for the public listener.
func (a *API) Handler() http.Handler { return a.mux(false) }

// InternalHandler serves only what notebook servers need, for the
// listener on the Docker bridge: a container cannot reach the admin API
// through it.
func (a *API) InternalHandler() http.Handler { return a.mux(true) }

func (a *API) mux(internalOnly bool) http.Handler {
	mux := http.NewServeMux()
	for _, r := range a.routes() {
		if internalOnly && !r.internal {
			continue
		}
		mux.HandleFunc(r.pattern, r.handler)
	}
	mux.HandleFunc("/hub/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	version := func(*http.Request) string { return core.Version }
	if internalOnly && a.serverVersion != nil {
		version = func(r *http.Request) string { return cmp.Or(a.serverVersion(r), core.Version) }
	}
	return headers(version, sameOrigin(mux))
}

// headers adds the PEP 440 X-JupyterHub-Version that version gives to every
// response (the singleuser server checks it against its own) and forbids
// framing, as the pages do: no API answer is meant to be shown inside
// another page.
func headers(version func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-JupyterHub-Version", version(r))
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses state-changing calls a browser makes from another
// origin, whatever their credentials: a student's server is another
// origin of the same host.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.CheckOrigin(r); err != nil {
			writeError(w, http.StatusForbidden, "cross-origin request refused: call the API from the hub's own pages, or with \"Authorization: token <token>\" from a program")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) root(w http.ResponseWriter, r *http.Request) {
	// desktop_client tells the classhub app that it can log in here
	// through the browser; JupyterHub's answer has only the version.
	writeJSON(w, http.StatusOK, map[string]string{"version": core.Version, "desktop_client": auth.AppClientID})
}

func (a *API) health(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

func (a *API) info(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.principalHolding(w, r, "read:hub", "reading the hub's info"); !ok {
		return
	}
	cfg := a.hub.Config()
	writeJSON(w, http.StatusOK, map[string]any{
		"version":        core.Version,
		"python":         "none: classhub is one Go program",
		"sys_executable": "classhub",
		"spawner":        map[string]string{"class": "classhub.DockerSpawner", "version": core.Version, "image": cfg.Image},
		"authenticator":  map[string]string{"class": "classhub.LocalAuthenticator", "version": core.Version},
	})
}

// principal authenticates the request or answers 403 (JupyterHub answers
// 403, not 401, and the singleuser server relies on it). Session callers
// must prove the request came from our pages, reads included
// (auth.NeedsCSRF): a page a student serves must not learn who its
// visitor is.
func (a *API) principal(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, err := a.auth.FromRequest(r)
	if errors.Is(err, auth.ErrPlantedCookie) {
		// Never either login: the hub set at most one of them.
		a.auth.ExpirePlanted(w, r)
		writeError(w, http.StatusForbidden, err.Error())
		return p, false
	}
	if err != nil {
		if !errors.Is(err, auth.ErrNoCredentials) && !errors.Is(err, auth.ErrBadToken) {
			a.log.Printf("api: authenticate: %v", err)
		}
		writeError(w, http.StatusForbidden, "missing or invalid credentials: send \"Authorization: token <token>\"")
		return p, false
	}
	if p.ViaSession() && auth.NeedsCSRF(r) && !auth.CheckCSRF(r, p.Session) {
		writeError(w, http.StatusForbidden, "this call needs the anti-forgery token: send it in the "+auth.XSRFHeader+
			" header (or the _xsrf field) from the hub's own page after reloading it, or authenticate with \"Authorization: token <token>\"")
		return p, false
	}
	return p, true
}

// principalHolding authenticates the request and checks that the caller
// holds scope at all, as endpoints about no one user need (listing users,
// adding them, the hub's info); doing names the action in the 403.
func (a *API) principalHolding(w http.ResponseWriter, r *http.Request, scope, doing string) (auth.Principal, bool) {
	p, ok := a.principal(w, r)
	if !ok {
		return p, false
	}
	if !scopes.Holds(p.Scopes, scope) {
		writeError(w, http.StatusForbidden, doing+" needs the "+scope+" scope")
		return p, false
	}
	return p, true
}

// allow checks scope on the user the request acts on, answering 404 when
// the caller may not even see that user and 403 when they may see but not
// act, as JupyterHub does.
func (a *API) allow(w http.ResponseWriter, p auth.Principal, scope, user string) bool {
	if scopes.Allows(p.Scopes, scope, scopes.OnUser(user)) {
		return true
	}
	if len(scopes.VisibleUserFields(p.Scopes, user)) == 0 {
		writeError(w, http.StatusNotFound, "no such user: "+user)
	} else {
		writeError(w, http.StatusForbidden, "this needs the "+scope+" scope on "+user)
	}
	return false
}

// openStream takes one of p's event stream places, or answers 429 and
// returns false.
func (a *API) openStream(w http.ResponseWriter, p auth.Principal) (release func(), ok bool) {
	release, ok = a.streams.Acquire(p.User.Name)
	if !ok {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusTooManyRequests, "too many event streams open for "+p.User.Name+": close other hub pages or tabs, then try again")
	}
	return release, ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "message": msg})
}

// readJSON decodes an optional JSON body into v; an empty body leaves v
// alone.
func readJSON(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errors.New("the request body is not valid JSON: " + err.Error())
	}
	return nil
}

// isoTime formats t as JupyterHub does (UTC, microseconds, Z); zero is null.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
