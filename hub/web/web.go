// Package web serves the hub's pages under /hub/ — login (passwords, first
// login with a setup code, the class join code, the tray's single-use
// links), changing one's password, home, the
// spawn progress page, the admin page and the token page — everything
// except /hub/api, which is hub/api's. Pages are html/template with their
// stylesheet, scripts and icon embedded, because classrooms are often
// offline. The only scripts are the progress page's EventSource and the
// admin page's fetch calls and event feed, served as files so that the
// Content-Security-Policy can forbid inline script; every page works
// without them.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/classhub/classhub/assets"
	"html/template"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/store"
)

//go:embed templates static
var files embed.FS

// Options are the pages' dependencies.
type Options struct {
	Hub  *core.Lifecycle
	Auth *auth.Authenticator
	// JoinCode is the class join code with which new students sign up;
	// "" turns sign-up off. The tray changes it by restarting the hub.
	JoinCode string
	// ErrorLog receives errors people cannot act on; nil means the log
	// package's standard logger.
	ErrorLog *log.Logger
	// Fingerprint is the SHA-256 fingerprint of the hub's certificate
	// (authority) that the login and certificate pages show; "" when the
	// hub serves plain HTTP.
	Fingerprint string
	// CACert is the local certificate authority (PEM) that
	// /hub/ca.crt offers students; nil when there is none to install.
	CACert []byte
	// Now is the clock of rate limits and "5 minutes ago"; nil means
	// time.Now.
	Now func() time.Time
	// Streams caps each user's open event streams, shared with the API's;
	// nil means a cap of limit.StreamsPerUser for the pages' alone.
	Streams *limit.PerKey
	// Providers are the external logins (GitHub, a school's accounts) the
	// login page offers, in its order.
	Providers []extauth.Provider
	// PasswordsOff turns off logging in with a classhub password and
	// signing up with the join code, leaving the Providers and the tray's
	// login links.
	PasswordsOff bool
	// ClassURL is the class link the class page shows; nil or "" means
	// the address the page was asked at.
	ClassURL func() string
	// HubLog reads the last lines of the hub's own log (hub.ReadLog),
	// which the admin page shows; nil when the hub keeps no log file.
	HubLog func(tail int) (string, error)
	// UserOrigins returns the Content-Security-Policy source of every
	// user's origin as r reaches them (the proxy's UserOriginsSource),
	// where the pages' forms may lead; nil or "" means only the hub's.
	UserOrigins func(r *http.Request) string
}

// Web serves the pages.
type Web struct {
	hub      *core.Lifecycle
	store    *store.Store
	auth     *auth.Authenticator
	joinCode string
	log      *log.Logger
	now      func() time.Time

	fingerprint string
	caCert      []byte
	classURLOf  func() string
	userOrigins func(r *http.Request) string
	hubLog      func(tail int) (string, error)

	pages  map[string]*template.Template
	assets map[string]asset
	// throttle slows guessing of passwords, setup and join codes and
	// login links.
	throttle *throttle
	streams  *limit.PerKey

	providers   []extauth.Provider
	noPasswords bool
	extLogins   *extLogins

	handler http.Handler

	// spawnWait is how long /hub/spawn waits for a server before showing
	// the progress page, as JupyterHub's spawn page waits a second: a
	// quick start skips the page.
	spawnWait time.Duration
	// stopWait is how long /hub/spawn waits for a stop in flight.
	stopWait time.Duration
	// sleep pauses before sending a browser back to a server the proxy
	// had no route for; tests replace it.
	sleep func(ctx context.Context, d time.Duration)
	// checkPassword is the login form's password check (the slow hash);
	// tests count the checks through it.
	checkPassword func(ctx context.Context, name, password string) (store.User, bool, error)
	// keepAlive is how often the admin event stream shows it is alive
	// and checks that its login still holds.
	keepAlive time.Duration
	// classPoll is how often the class page's stream counts again.
	classPoll time.Duration
	// usageEvery is how often the admin event stream samples the
	// servers' CPU and memory (adminStatsEvery).
	usageEvery time.Duration

	mu sync.Mutex
	// shutdowns are closed when the server they belong to shuts down,
	// ending the admin event streams it serves.
	shutdowns map[*http.Server]chan struct{}
}

// New returns the pages.
func New(opts Options) *Web {
	wb := &Web{
		hub:         opts.Hub,
		store:       opts.Hub.Store(),
		auth:        opts.Auth,
		joinCode:    opts.JoinCode,
		log:         opts.ErrorLog,
		now:         opts.Now,
		fingerprint: opts.Fingerprint,
		caCert:      opts.CACert,
		classURLOf:  opts.ClassURL,
		streams:     opts.Streams,
		providers:   opts.Providers,
		noPasswords: opts.PasswordsOff,
		extLogins:   newExtLogins(),
		userOrigins: opts.UserOrigins,
		hubLog:      opts.HubLog,
		spawnWait:   time.Second,
		stopWait:    15 * time.Second,
		sleep:       sleepCtx,
		keepAlive:   15 * time.Second,
		classPoll:   classPoll,
		usageEvery:  adminStatsEvery,
		shutdowns:   make(map[*http.Server]chan struct{}),
	}
	if wb.log == nil {
		wb.log = log.Default()
	}
	if wb.now == nil {
		wb.now = time.Now
	}
	if wb.noPasswords {
		wb.joinCode = ""
	}
	if wb.streams == nil {
		wb.streams = limit.NewPerKey(limit.StreamsPerUser)
	}
	if wb.userOrigins == nil {
		wb.userOrigins = func(*http.Request) string { return "" }
	}
	wb.throttle = newThrottle(wb.now)
	wb.checkPassword = wb.auth.CheckPassword
	wb.assets = loadAssets()
	wb.pages = wb.loadPages()
	wb.handler = wb.securityHeaders(wb.sameOrigin(wb.refusePlanted(wb.routes())))
	return wb
}

// logo serves classhub's icon where JupyterHub serves its logo.
func logo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(assets.Icon)
}

// Handler serves / and /hub/ except /hub/api.
func (wb *Web) Handler() http.Handler { return wb.handler }

func (wb *Web) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET /{$}", redirectTo("/hub/")},
		{"GET /hub", redirectTo("/hub/")},
		{"GET /hub/{$}", wb.root},
		{"GET /hub/login", wb.loginPage},
		{"POST /hub/login", wb.loginPost},
		{"GET /hub/setup", wb.setupPage},
		{"POST /hub/setup", wb.setupPost},
		{"GET /hub/password", wb.passwordPage},
		{"POST /hub/password", wb.passwordPost},
		{"GET /hub/signup", wb.signupPage},
		{"POST /hub/signup", wb.signupPost},
		{"GET /hub/logout", wb.logout},
		{"POST /hub/logout", wb.logout},
		{"GET /hub/login-link/{secret}", wb.loginLink},
		{"GET /hub/oauth_login", wb.oauthLogin},
		{"GET /hub/oauth_callback", wb.oauthCallback},
		{"GET /hub/home", wb.home},
		{"POST /hub/home", wb.homePost},
		{"GET /hub/spawn", wb.spawn},
		{"GET /hub/spawn/{name}", wb.spawn},
		{"POST /hub/spawn/{name}", wb.spawnPost},
		{"GET /hub/spawn-pending/{name}", wb.spawnPending},
		{"/hub/user/{name}", userSlash},
		{"/hub/user/{name}/{path...}", wb.userURL},
		{"GET /hub/user-redirect/{path...}", wb.userRedirect},
		{"GET /hub/admin", wb.admin},
		{"GET /hub/admin/events", wb.adminEvents},
		{"POST /hub/admin/users", wb.adminAddUsers},
		{"POST /hub/admin/import", wb.adminImport},
		{"POST /hub/admin/action", wb.adminAction},
		{"POST /hub/admin/setup-codes", wb.adminSetupCodes},
		{"POST /hub/admin/image", wb.adminImage},
		{"GET /hub/admin/volumes", wb.adminVolumes},
		{"POST /hub/admin/volumes", wb.adminVolumeAction},
		{"GET /hub/admin/handout", wb.adminHandout},
		{"POST /hub/admin/handout", wb.adminHandoutPost},
		{"POST /hub/admin/collect", wb.adminCollect},
		{"GET /hub/admin/handout/events", wb.adminHandoutEvents},
		{"GET /hub/admin/logs/{name}", wb.adminServerLog},
		{"GET /hub/admin/hub-log", wb.adminHubLog},
		{"GET /hub/class", wb.classPage},
		{"GET /hub/class/events", wb.classEvents},
		{"GET /hub/token", wb.tokenPage},
		{"POST /hub/token", wb.tokenPost},
		{"GET /hub/error/{code}", wb.errorCode},
		{"GET /hub/static/{file...}", wb.static},
		// The classic notebook's page header shows the hub's logo.
		{"GET /hub/logo", logo},
		{"GET /hub/certificate", wb.certificatePage},
		{"GET /hub/ca.crt", wb.caCertFile},
		{"/hub/", wb.notFound},
		{"/", prefixRedirect},
	} {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	return mux
}

func redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }
}

// prefixRedirect sends every other path to the same path under /hub, as
// JupyterHub's default route does: a bookmark of /home or /login still
// works. The target always starts with /hub/, so it cannot leave the site.
func prefixRedirect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	target := "/hub" + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// contentSecurityPolicy allows only this hub's own files: no inline
// script or style, no framing, forms posting only here. Its form-action,
// which browsers also check on each redirect after a form is sent, adds
// the users' origins: logging in to open one's server, consent's Allow
// and Start end there. %s is " " and their source, or "".
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'%s; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (wb *Web) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		users := wb.userOrigins(r)
		if users != "" {
			users = " " + users
		}
		h.Set("Content-Security-Policy", fmt.Sprintf(contentSecurityPolicy, users))
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-JupyterHub-Version", core.Version)
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses state-changing requests (every form post) that a
// browser sends from another origin: a student's server is this host on
// another port, which browsers count as the same site but not the same
// origin. Pre-session forms (login, sign-up) have only a cookie to
// compare their token with, and a page on another port can set that
// cookie, so for them this is the defence that holds. /hub/user/ is
// left alone: it changes nothing, and the notebook's own API calls, from
// the user's server's origin, must get its 424 to offer a restart.
func (wb *Web) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hub/user/") {
			next.ServeHTTP(w, r)
			return
		}
		if err := auth.CheckOrigin(r); err != nil {
			wb.fail(w, r, http.StatusForbidden, "This form was sent from another site, or from another port of this computer, so it was refused. Open the hub's own page and send it from there.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refusePlanted answers a request with two different login cookies, one
// of which a page on another port of this host planted (auth's
// cookie.go), before any page can take it for a login or send it on to
// the login page and back: the cookies the hub did not set are expired,
// and the login page, shown in place, says what happened. The hub's own
// login stays, so reloading finds the person logged in as themselves.
// Static files answer as always: they depend on no login.
func (wb *Web) refusePlanted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hub/static/") || !wb.auth.Planted(r) {
			next.ServeHTTP(w, r)
			return
		}
		wb.auth.ExpirePlanted(w, r)
		back := ""
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			back = safeNext(r.URL.RequestURI())
		}
		v := wb.loginView(w, r, loginData{Next: back})
		v.Error = sentence(auth.ErrPlantedCookie.Error())
		wb.render(w, http.StatusForbidden, "login", v)
	})
}

// view is what every page template gets.
type view struct {
	Title string
	// Me is the logged-in user, "" on the login pages.
	Me    string
	Admin bool
	// XSRF is the _xsrf value forms send back.
	XSRF string
	// Nav names the menu entry to mark as current.
	Nav string
	// Bare leaves out the menu, for a page shown to a room.
	Bare   bool
	Error  string
	Notice string
	// Page is the page's own data.
	Page any
}

// userView starts a view for a logged-in principal.
func userView(p auth.Principal, title, nav string) view {
	return view{Title: title, Me: p.User.Name, Admin: isAdmin(p), XSRF: auth.CSRFToken(p.Session), Nav: nav}
}

// render writes the named page. It renders into a buffer first, so a
// template error is a clean 500 rather than half a page.
func (wb *Web) render(w http.ResponseWriter, status int, name string, v view) {
	t, ok := wb.pages[name]
	var buf bytes.Buffer
	var err error
	if !ok {
		err = fmt.Errorf("no page %q", name)
	} else {
		err = t.ExecuteTemplate(&buf, "base", v)
	}
	if err != nil {
		wb.log.Printf("web: render %s: %v", name, err)
		http.Error(w, "This page could not be shown; the hub's log says why.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry anti-forgery tokens and, once, new passwords and
	// tokens: never keep them in a cache.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail renders the error page with a sentence saying what to do.
func (wb *Web) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := view{Title: http.StatusText(status), Page: errorData{Code: status, Message: msg}}
	if p, ok := wb.session(r); ok {
		v = userView(p, http.StatusText(status), "")
		v.Page = errorData{Code: status, Message: msg}
	}
	wb.render(w, status, "error", v)
}

// internal logs err and answers 500 with a sentence.
func (wb *Web) internal(w http.ResponseWriter, r *http.Request, err error) {
	wb.log.Printf("web: %s %s: %v", r.Method, logPath(r), err)
	wb.fail(w, r, http.StatusInternalServerError, sentence(err.Error()))
}

// logPath is r's path as the log may show it: a login link's secret,
// which logs someone in, is left out.
func logPath(r *http.Request) string {
	if s := r.PathValue("secret"); s != "" {
		return strings.Replace(r.URL.Path, s, "…", 1)
	}
	return r.URL.Path
}

// session returns the logged-in caller, if any.
func (wb *Web) session(r *http.Request) (auth.Principal, bool) {
	p, err := wb.auth.FromSession(r.Context(), r)
	if err != nil {
		if !errors.Is(err, auth.ErrNoCredentials) && !errors.Is(err, auth.ErrBadToken) && !errors.Is(err, auth.ErrPlantedCookie) &&
			!errors.Is(err, store.ErrNotFound) {
			wb.log.Printf("web: session: %v", err)
		}
		return p, false
	}
	return p, true
}

// mustLogin returns the logged-in caller, or sends a browser to the login
// page and back.
func (wb *Web) mustLogin(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, ok := wb.session(r)
	if ok {
		return p, true
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusFound)
	} else {
		wb.fail(w, r, http.StatusForbidden, "Your login has ended. Log in again, then repeat what you were doing.")
	}
	return p, false
}

// checkCSRF refuses a form that did not come from one of our pages.
func (wb *Web) checkCSRF(w http.ResponseWriter, r *http.Request, p auth.Principal) bool {
	if auth.CheckCSRF(r, p.Session) {
		return true
	}
	wb.fail(w, r, http.StatusForbidden, "This form did not come from this hub's own page, or the page is too old. Go back, reload the page and try again.")
	return false
}

func loginURL(next string) string {
	if next == "" {
		return "/hub/login"
	}
	return "/hub/login?next=" + url.QueryEscape(next)
}

// safeNext returns next if it is a path on this site, else "". Browsers
// read "//host", "/\host" and paths with tabs or newlines in them as other
// sites, so anything of the sort is refused, as is every absolute URL.
func safeNext(next string) string {
	if next == "" || len(next) > 4096 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return ""
	}
	for _, c := range next {
		if c <= ' ' || c == 0x7f || c == '\\' || !unicode.IsPrint(c) {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return next
}

// clientAddr is the address the request came from. The hub is not behind
// another proxy (its own proxy is in-process), so forwarding headers,
// which a client can forge, are ignored.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sentence makes an error message read as a sentence: capitalized, with a
// full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// asset is an embedded static file.
type asset struct {
	data  []byte
	ctype string
	// hash versions the file's URL, so browsers may cache it for good.
	hash string
}

func loadAssets() map[string]asset {
	out := make(map[string]asset)
	fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = asset{data: data, ctype: ctype, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	return out
}

// assetURL is a static file's versioned URL.
func (wb *Web) assetURL(name string) (string, error) {
	a, ok := wb.assets[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/hub/static/" + name + "?v=" + a.hash, nil
}

func (wb *Web) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	a, ok := wb.assets[name]
	if !ok {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

// pageNames are the templates in templates/, each rendered inside
// base.html.
var pageNames = []string{"login", "signup", "setup", "password", "logout", "home", "spawn_pending", "not_running", "admin", "confirm", "consent",
	"imported", "accounts", "token", "error", "certificate", "class", "volumes", "logs", "handout"}

func (wb *Web) loadPages() map[string]*template.Template {
	funcs := template.FuncMap{
		"asset":     wb.assetURL,
		"ago":       wb.ago,
		"clock":     func(t time.Time) string { return t.Local().Format("15:04") },
		"isoTime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"serverURL": core.URL,
		"pathEscape": func(s string) string {
			return url.PathEscape(s)
		},
		"stateLabel": stateLabel,
		"logTail":    func() int { return logTail },
		"statusText": http.StatusText,
		"btn": func(xsrf, q, action, user, label string) actionButton {
			return actionButton{XSRF: xsrf, Query: q, Action: action, User: user, Label: label}
		},
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files, "templates/base.html", "templates/"+name+".html"))
	}
	return pages
}

// ago says how long ago t was, for people.
func (wb *Web) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := wb.now().Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// actionButton is one per-user button of the admin page.
type actionButton struct{ XSRF, Query, Action, User, Label string }

// errorData is the error page's.
type errorData struct {
	Code    int
	Message string
}

func (wb *Web) notFound(w http.ResponseWriter, r *http.Request) {
	wb.fail(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+". Check the address, or start from the home page.")
}
