package auth

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
)

// The login cookie and cookie tossing.
//
// Cookies ignore ports, and every user's server has an origin of its own
// on the hub's host (or under its domain): so a page a student serves can
// set cookies the hub receives. Setting her own login cookie in a
// visitor's browser (cookie tossing) would make the visitor work in her
// account, their notebooks and answers landing in her server. What the
// hub does about it:
//
//   - On HTTPS the login cookie is __Host-jupyterhub-hub-login, Path=/,
//     Secure, HttpOnly, with no Domain. A __Host- cookie cannot be given
//     another path or a Domain, and no script can replace an HttpOnly
//     one, so while the visitor is logged in the page cannot shadow or
//     overwrite their login. Path=/ sends it to users' origins too: the
//     proxy strips it from every request it forwards, and drops any
//     Set-Cookie of a server that uses the hub's cookie names.
//   - Everywhere, plain HTTP included: a request carrying two login
//     cookies with different values is not logged in, never logged in as
//     one of them (browsers send the more specific path first, which is
//     the page's choice), and the hub expires every copy it did not set
//     that the request could have carried (ExpirePlanted); logging in
//     expires them at the paths the hub's pages and API use.
//
// What a student's page can still do. On HTTPS: plant her login in a
// browser that holds none (a visitor not logged in to the hub then finds
// her name at the top of every hub page), or first push the visitor's
// login out of the browser by setting enough cookies of her own to fill
// its store for the site, then plant hers. On plain HTTP, the same, and:
// plant her cookie for any path under /hub/, which logs the visitor out of
// the hub's pages (the hub refuses the request and says why) as often as
// the visitor opens her page, though never into her account while the
// visitor is logged in; and anyone on the network can read the login
// cookie itself. Only another host name that is not a subdomain of the
// hub's, which a classroom without DNS does not have, keeps a student's
// page from setting cookies for the hub at all.
const (
	// SessionCookie is the login cookie's name on plain HTTP, as
	// JupyterHub's, at SessionPath.
	SessionCookie = "jupyterhub-hub-login"
	// HostSessionCookie is its name on HTTPS, at Path=/.
	HostSessionCookie = "__Host-" + SessionCookie
	// SessionPath is the plain login cookie's path: no notebook server,
	// under /user/, is sent it.
	SessionPath = "/hub/"
)

// ErrPlantedCookie is a request with two different login cookies: the hub
// set at most one of them. Its text is for the person in that browser.
var ErrPlantedCookie = errors.New("this browser holds a login cookie that this hub did not set: a page from another port of this computer, " +
	"such as a classmate's notebook server, put it there to make you work in someone else's account. " +
	"To be safe, the hub treats you as logged out and has removed the copies it could. " +
	"Log in again; if this message comes back, clear this site's cookies in your browser for this address " +
	"(the icon left of the address, then cookies and site data) and tell your instructor which page you had opened")

// tossPaths are where a page would plant a login cookie to reach the
// hub's pages and API: logging in expires copies at each. (The paths of a
// request with planted cookies are known exactly: ExpirePlanted.)
var tossPaths = []string{"/", "/hub", "/hub/home", "/hub/admin", "/hub/token", "/hub/spawn", "/hub/spawn/", "/hub/login",
	"/hub/api", "/hub/api/", "/hub/api/user", "/hub/api/users", "/hub/api/users/", "/hub/api/oauth2/", "/hub/api/oauth2/authorize"}

// maxExpired caps the paths one response expires copies at.
const maxExpired = 24

// CookieName is the login cookie's name: HostSessionCookie on HTTPS.
func (a *Authenticator) CookieName() string {
	if a.Secure {
		return HostSessionCookie
	}
	return SessionCookie
}

// cookiePath is where the hub sets its login cookie.
func (a *Authenticator) cookiePath() string {
	if a.Secure {
		return "/"
	}
	return SessionPath
}

// sessionCookie is the login cookie carrying secret, or expiring it when
// secret is "".
func (a *Authenticator) sessionCookie(secret string) *http.Cookie {
	c := &http.Cookie{Name: a.CookieName(), Value: secret, Path: a.cookiePath(), HttpOnly: true,
		Secure: a.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(SessionTTL.Seconds())}
	if secret == "" {
		c.MaxAge = -1
	}
	return c
}

// sessionSecrets returns the distinct values of r's login cookies.
func (a *Authenticator) sessionSecrets(r *http.Request) []string {
	var secrets []string
	for _, c := range r.CookiesNamed(a.CookieName()) {
		if c.Value != "" && !slices.Contains(secrets, c.Value) {
			secrets = append(secrets, c.Value)
		}
	}
	return secrets
}

// sessionSecret returns r's login cookie: ErrNoCredentials without one,
// ErrPlantedCookie with two different ones.
func (a *Authenticator) sessionSecret(r *http.Request) (string, error) {
	switch secrets := a.sessionSecrets(r); len(secrets) {
	case 0:
		return "", ErrNoCredentials
	case 1:
		return secrets[0], nil
	default:
		return "", ErrPlantedCookie
	}
}

// Planted reports whether r carries two different login cookies.
func (a *Authenticator) Planted(r *http.Request) bool {
	_, err := a.sessionSecret(r)
	return errors.Is(err, ErrPlantedCookie)
}

// ExpirePlanted expires in w every login cookie the hub did not set that
// r could carry: one for a path r's path is under, host-only or for a
// Domain r's host is in. The hub's own (host-only, at its path) stays: no
// script can replace it, so it is the visitor's, and keeps them logged in
// once the planted ones are gone. On HTTPS there is nothing to expire: a
// __Host- cookie has one path and no Domain, and the plain name is not
// read.
func (a *Authenticator) ExpirePlanted(w http.ResponseWriter, r *http.Request) {
	a.expire(w, r, pathsOf(r.URL.EscapedPath()))
}

// expire expires in w the login cookie at each of paths (the first
// maxExpired), host-only and for each Domain r's host is in, but the
// hub's own.
func (a *Authenticator) expire(w http.ResponseWriter, r *http.Request, paths []string) {
	if a.Secure {
		return
	}
	parents := domainsOf(r.Host)
	domains := append([]string{""}, parents...)
	var done []string
	for _, p := range paths {
		if len(done) == maxExpired {
			break
		}
		if slices.Contains(done, p) {
			continue
		}
		done = append(done, p)
		for _, d := range domains {
			// The hub's own cookie, and one for Domain=host at its path,
			// which a jar that follows RFC 6265 to the letter (Go's)
			// stores in the same place (browsers keep them apart).
			if p == a.cookiePath() && (d == "" || len(parents) > 0 && d == parents[0]) {
				continue
			}
			c := a.sessionCookie("")
			c.Path, c.Domain = p, d
			http.SetCookie(w, c)
		}
	}
}

// pathsOf lists the cookie paths a browser sends with a request for p: p
// itself and each prefix of it that ends at or just before a slash.
func pathsOf(p string) []string {
	paths := []string{"/"}
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			paths = append(paths, p[:i], p[:i+1])
		}
	}
	if p != "/" && !strings.HasSuffix(p, "/") {
		paths = append(paths, p)
	}
	return paths
}

// domainsOf lists the Domain attributes a page on host could give a
// cookie the hub receives: host and each parent with two labels or more.
// An IP address has none (a Domain equal to it is host-only).
func domainsOf(hostport string) []string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "" || net.ParseIP(strings.Trim(host, "[]")) != nil {
		return nil
	}
	var out []string
	for strings.Contains(host, ".") {
		out = append(out, host)
		_, host, _ = strings.Cut(host, ".")
	}
	return out
}

// LoopbackHost reports whether a browser reaches host on this machine's
// loopback: localhost and names under it, loopback addresses, and the
// unspecified ones (0.0.0.0, ::), which browsers other than Chrome connect
// to this machine with and which the dashboard and `classhub serve` show
// as the address the hub listens on.
func LoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// AtLoopback reports whether r was sent to a loopback host (LoopbackHost),
// with or without a port.
func AtLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	return LoopbackHost(host)
}
