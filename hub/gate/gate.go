// Package gate logs visitors in at the proxy for notebook servers that have
// no login of their own: a plain Jupyter server (spawner.ModeServer) lets
// in whoever brings its token, and only the hub holds that. The gate is
// the proxy's Guard for such servers. It does for them what
// jupyterhub-singleuser does for itself (jupyterhub-protocol.md §2.2): a
// browser without a login for the server is sent through the hub's OAuth
// authorization endpoint, with the server's own OAuth client and its
// redirect_uri, so the consent page for anyone but the owner applies
// unchanged; the callback on the server's origin, which the gate answers
// and never forwards, trades the code for an OAuth access token in the
// hub's own process and keeps it in an HttpOnly cookie under the server's
// path. Every request is checked against that token, which a logout or a
// reset revokes. The proxy then takes the cookie and any Authorization
// header out and adds the server's token, so neither the visitor's
// credential nor the server's ever crosses to the other side.
package gate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// Cookies the gate sets on a server's origin, under the server's path.
// Both must be among the proxy's HubCookies: no server may read them or
// set them.
const (
	// LoginCookie holds the visitor's OAuth access token for the server.
	LoginCookie = "classhub-server-login"
	// StateCookie binds a login under way to the browser that began it.
	StateCookie = "classhub-server-state"
)

// DefaultCacheTTL is how long a checked token is believed without asking
// the store again, as JupyterHub's HubAuth caches for its servers: a
// logout or a revoked token stops working within this time.
const DefaultCacheTTL = 30 * time.Second

// stateTTL is how long a login may take between leaving the server and
// coming back with a code: a person typing their password on the way.
const stateTTL = 10 * time.Minute

// Logins is what the gate needs of the hub's authentication;
// *auth.Authenticator is one.
type Logins interface {
	FromToken(ctx context.Context, secret string) (auth.Principal, error)
	ExchangeCode(ctx context.Context, clientID, code, redirectURI string) (string, store.Token, error)
}

// Options configure a Gate.
type Options struct {
	Logins Logins
	// CacheTTL is how long a checked token is believed; zero means
	// DefaultCacheTTL.
	CacheTTL time.Duration
	// ErrorLog receives the gate's errors; nil means the log package's
	// standard logger. Nothing secret is ever written to it.
	ErrorLog *log.Logger
}

// Gate is the proxy's Guard for servers without a login of their own. It
// is safe for concurrent use.
type Gate struct {
	logins   Logins
	cacheTTL time.Duration
	log      *log.Logger
	now      func() time.Time // replaced in tests

	mu    sync.Mutex
	cache map[cacheKey]verdict
}

// cacheKey is a token, hashed so the cache holds no secret, and the
// server it was checked for.
type cacheKey struct {
	token [sha256.Size]byte
	user  string
}

type verdict struct {
	ok    bool
	until time.Time
}

// maxLogins bounds the login cookies of one request that are looked up:
// a browser sends one for each path above the request's that holds one,
// while a request anyone can make may carry thousands of made-up ones
// (net/http reads up to 3000), each a lookup in the store.
const maxLogins = 32

// maxCache bounds the cache: a flood of made-up tokens empties it rather
// than growing it.
const maxCache = 4096

// New returns a Gate.
func New(opts Options) *Gate {
	g := &Gate{logins: opts.Logins, cacheTTL: opts.CacheTTL, log: opts.ErrorLog, now: time.Now, cache: map[cacheKey]verdict{}}
	if g.cacheTTL <= 0 {
		g.cacheTTL = DefaultCacheTTL
	}
	return g
}

// Admit is proxy.Guard.Admit: r goes on to user's server when one of its
// login cookies holds a token the hub issued for that server, to someone
// allowed on it. The OAuth callback is answered here, never forwarded. A
// browser navigating without such a cookie is sent to log in; anything
// else is refused, since a script or a websocket cannot log in. What
// another origin's page had the browser send never gets here: the proxy
// refuses it on every server's origin (proxy.fromAnotherPage).
func (g *Gate) Admit(w http.ResponseWriter, r *http.Request, user string) bool {
	// The proxy forwards only paths whose user segment decodes to user,
	// and the rest as sent: the callback is also found behind dot
	// segments or doubled slashes, which the server might resolve.
	if path.Clean(r.URL.Path) == "/user/"+user+"/oauth_callback" {
		g.callback(w, r, user)
		return false
	}
	for i, c := range r.CookiesNamed(LoginCookie) {
		if i == maxLogins {
			break
		}
		if g.allowed(r.Context(), c.Value, user) {
			return true
		}
	}
	if !proxy.Navigation(r) {
		refuse(w, http.StatusForbidden, fmt.Sprintf("This request to %s's server has no login for it; open the server from the hub's home page.", user))
		return false
	}
	g.login(w, r, user)
	return false
}

// login sends the browser to the hub's authorization endpoint for user's
// server, with a state bound to this browser by a short-lived cookie that
// also holds where to come back to. The address is relative: on the
// server's origin, the proxy sends /hub/… on to the hub's origin.
func (g *Gate) login(w http.ResponseWriter, r *http.Request, user string) {
	state := rand.Text()
	next := base64.RawURLEncoding.EncodeToString([]byte(r.URL.RequestURI()))
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: state + "." + next, Path: core.URL(user),
		MaxAge: int(stateTTL.Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	q := url.Values{"client_id": {core.OAuthClientID(user)}, "redirect_uri": {core.OAuthCallback(user)},
		"response_type": {"code"}, "state": {state}}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, api.AuthorizePath+"?"+q.Encode(), http.StatusFound)
}

// callback finishes a login: the state must be the one this browser's
// state cookie holds, and the code one the hub issued for user's server
// and its redirect_uri; it is traded here, in the hub's process, for an
// OAuth token that goes into the login cookie and nowhere else.
func (g *Gate) callback(w http.ResponseWriter, r *http.Request, user string) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	again := fmt.Sprintf("Open %s's server again from the hub's home page.", user)
	next, ok := checkState(r, q.Get("state"), core.URL(user))
	// The state is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: "", Path: core.URL(user), MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		refuse(w, http.StatusForbidden, fmt.Sprintf("The hub did not log you in to %s's server (%s). %s", user, oauthErrorText(e), again))
		return
	}
	if !ok {
		refuse(w, http.StatusForbidden, fmt.Sprintf("This login to %s's server did not begin in this browser, or took too long. %s", user, again))
		return
	}
	token, _, err := g.logins.ExchangeCode(r.Context(), core.OAuthClientID(user), q.Get("code"), core.OAuthCallback(user))
	if errors.Is(err, auth.ErrBadCode) {
		refuse(w, http.StatusForbidden, fmt.Sprintf("This login to %s's server was already used or has expired. %s", user, again))
		return
	}
	if err != nil {
		g.logf("gate: log in to %s's server: %v", user, err)
		refuse(w, http.StatusInternalServerError, fmt.Sprintf("The hub could not log you in to %s's server; its log says why. %s", user, again))
		return
	}
	if !g.allowed(r.Context(), token, user) {
		refuse(w, http.StatusForbidden, fmt.Sprintf("You may not use %s's server.", user))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: token, Path: core.URL(user), HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusFound)
}

// checkState compares state with the one in r's state cookie and returns
// where the login began, which must be under prefix: the cookie is a
// browser's to change, and a page on another port of this host can set
// one for this path (cookies ignore ports), so it must lead nowhere else.
func checkState(r *http.Request, state, prefix string) (next string, ok bool) {
	if state == "" {
		return "", false
	}
	for _, c := range r.CookiesNamed(StateCookie) {
		want, enc, _ := strings.Cut(c.Value, ".")
		if subtle.ConstantTimeCompare([]byte(want), []byte(state)) != 1 {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(enc)
		next = string(b)
		if err != nil || !under(next, prefix) {
			next = prefix
		}
		return next, true
	}
	return "", false
}

// under reports whether next is a path on this origin below prefix, with
// nothing a browser would read as another host or directory.
func under(next, prefix string) bool {
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, prefix) && strings.HasPrefix(next, prefix) &&
		!strings.ContainsAny(next, "\\\r\n") && !strings.Contains(u.Path, "/../") && !strings.HasSuffix(u.Path, "/..") &&
		!strings.Contains(u.Path, "//")
}

// allowed reports whether token is an OAuth token the hub issued for
// user's server, still valid, to someone who may use that server now.
// Answers are believed for the cache's time.
func (g *Gate) allowed(ctx context.Context, token, user string) bool {
	if token == "" {
		return false
	}
	key := cacheKey{token: sha256.Sum256([]byte(token)), user: user}
	now := g.now()
	g.mu.Lock()
	v, ok := g.cache[key]
	g.mu.Unlock()
	if ok && now.Before(v.until) {
		return v.ok
	}
	p, err := g.logins.FromToken(ctx, token)
	switch {
	case err == nil:
		v.ok = p.Token.Kind == "oauth" && p.Token.ClientID == core.OAuthClientID(user) &&
			scopes.Allows(p.Scopes, "access:servers", scopes.OnServer(user, ""))
	case errors.Is(err, auth.ErrBadToken), errors.Is(err, auth.ErrNoCredentials):
		v.ok = false
	default:
		// The store failing is no verdict on the token: not cached.
		g.logf("gate: check a login for %s's server: %v", user, err)
		return false
	}
	v.until = now.Add(g.cacheTTL)
	g.mu.Lock()
	limit.MakeRoom(g.cache, maxCache, func(old verdict) bool { return !now.Before(old.until) })
	g.cache[key] = v
	g.mu.Unlock()
	return v.ok
}

// oauthErrorText says in words what an OAuth error code from the hub
// means; a code the hub never sends is not repeated, since anyone can put
// one in the address.
func oauthErrorText(code string) string {
	switch code {
	case "access_denied":
		return "access was denied"
	case "unsupported_response_type":
		return "the login link was malformed"
	}
	return "the login failed"
}

func refuse(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

func (g *Gate) logf(format string, args ...any) {
	if g.log != nil {
		g.log.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
