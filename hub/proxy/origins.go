package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Origins gives each user's server an origin of its own, so that nothing a
// student's server serves can read the hub's pages or another student's
// with the visitor's credentials. A user's origin is either a port of their
// own on the hub's host name (Port) or, with SubdomainHost, a host name of
// their own on the public port.
//
// The rule, both ways: the hub's origin never forwards /user/{name}/…; it
// redirects to name's origin. A user's origin forwards only its own user's
// /user/{name}/… and redirects everything else (/hub/…, other users) to
// the hub's origin. So the singleuser's relative redirects (to
// /hub/api/oauth2/authorize, and the hub's back to /user/{name}/oauth_callback)
// each land on the right origin with no change to the singleuser.
type Origins struct {
	// PublicPort is the hub origin's port: a user's port redirects there.
	PublicPort int
	// Port returns the port of user's origin, false while they have none.
	// It is asked only for redirects, never for forwarded requests.
	Port func(user string) (int, bool)
	// SubdomainHost, when set, puts users' origins at
	// Label(user).SubdomainHost on the public listener instead of on ports.
	SubdomainHost string
	// Label is user's DNS label under SubdomainHost: injective, lowercase.
	Label func(user string) string
}

// userOrigin is the handler of one user's port.
type userOrigin struct {
	p    *Proxy
	user string
}

// UserOrigin returns the handler for the listener on user's own port: it
// forwards /user/{user}/… to user's server, and sends every other request
// to the hub's origin without forwarding it.
func (p *Proxy) UserOrigin(user string) http.Handler { return &userOrigin{p: p, user: user} }

func (o *userOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := classify(r.URL)
	if d.user != o.user {
		o.p.toHubOrigin(w, r)
		return
	}
	if d.verdict == toCanonical {
		notCanonical(w, r, d.location)
		return
	}
	rt := o.p.lookup(d.user)
	if rt == nil {
		// The hub's origin has the page for a server that is not running.
		o.p.toHubOrigin(w, r)
		return
	}
	o.p.forwardOwnOrigin(w, r, rt)
}

// serveSubdomain answers a request whose host is label.SubdomainHost, as
// userOrigin does for a port: only the user whose label it is is forwarded.
func (p *Proxy) serveSubdomain(w http.ResponseWriter, r *http.Request, label string) {
	d := classify(r.URL)
	if d.verdict == toHub {
		p.toHubOrigin(w, r)
		return
	}
	rt := p.lookup(d.user)
	switch {
	case d.verdict == toCanonical && p.origins.Label(d.user) == label:
		notCanonical(w, r, d.location)
	case d.verdict == toUser && rt != nil && rt.label == label:
		p.forwardOwnOrigin(w, r, rt)
	default:
		p.toHubOrigin(w, r)
	}
}

// subdomainLabel returns the label of host when it is a user's host under
// SubdomainHost.
func (p *Proxy) subdomainLabel(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, ok := strings.CutSuffix(strings.ToLower(host), p.subdomainSuffix)
	if !ok || label == "" || strings.Contains(label, ".") {
		return "", false
	}
	return label, true
}

// forwardOwnOrigin forwards a request that arrived on rt's own origin,
// after the checks only a user's origin makes: a state-changing request
// must come from that origin (http.CrossOriginProtection compares
// Sec-Fetch-Site or Origin with Host, and lets safe methods through at
// once), and so must a websocket, whose handshake is a GET; another
// origin's page may only open the server in a tab (fromAnotherPage).
func (p *Proxy) forwardOwnOrigin(w http.ResponseWriter, r *http.Request, rt *route) {
	if err := p.crossOrigin.Check(r); err != nil || fromAnotherPage(r) {
		plain(w, http.StatusForbidden, fmt.Sprintf("This request to %s's server came from another site's page and was refused.", rt.user))
		return
	}
	if isUpgrade(r) && !sameOrigin(r) {
		plain(w, http.StatusForbidden, fmt.Sprintf("This websocket to %s's server was opened by another site's page and was refused.", rt.user))
		return
	}
	p.forward(w, r, rt)
}

// fromAnotherPage reports whether the browser says another origin's page
// made r for something other than opening a page in a tab: a script,
// image, fetch or frame from a classmate's server, which is this host on
// another port (same site, so a visitor's login cookie for this server,
// the hub's gate's or jupyterhub-singleuser's own, goes with it, whatever
// SameSite says), opened by the instructor who is logged in here too.
// Such a request would use the instructor's login for this server to run
// its files as scripts in the classmate's page, tell its files apart by
// what loads, frame it under a decoy, or set off what a GET does
// (jupyterhub-singleuser 4.1 and later refuse these themselves; 3.0, in
// the classic image, does not). Like http.CrossOriginProtection it
// believes browsers, which send Sec-Fetch-Site to secure origins (HTTPS,
// loopback) only; websocket handshakes are sameOrigin's.
func fromAnotherPage(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site == "" || site == "same-origin" || site == "none" {
		return false
	}
	dest := r.Header.Get("Sec-Fetch-Dest")
	return r.Header.Get("Sec-Fetch-Mode") != "navigate" || dest != "" && dest != "document"
}

// sameOrigin reports whether r's Origin, if any, is the host r was sent to.
// Browsers always send Origin on a websocket handshake; other clients may
// not, and are not browsers carrying a visitor's cookies.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// toUserOrigin redirects a request for user's server that reached the
// hub's origin to the same path and query on user's origin.
func (p *Proxy) toUserOrigin(w http.ResponseWriter, r *http.Request, user string) {
	host, port := splitHost(r.Host)
	if p.origins.SubdomainHost != "" {
		host = p.origins.Label(user) + "." + p.origins.SubdomainHost
	} else {
		n, ok := p.origins.Port(user)
		if !ok {
			p.unavailable(w, r, user, fmt.Errorf("%s's server is running but has no port of its own", user))
			return
		}
		port = strconv.Itoa(n)
	}
	redirect(w, r, originURL(r, host, port)+r.URL.RequestURI())
}

// toHubOrigin redirects a request that reached a user's origin but is not
// for that user's server to the same path and query on the hub's origin.
func (p *Proxy) toHubOrigin(w http.ResponseWriter, r *http.Request) {
	host, port := splitHost(r.Host)
	if p.origins.SubdomainHost != "" {
		host = p.origins.SubdomainHost
	} else {
		port = strconv.Itoa(p.origins.PublicPort)
	}
	redirect(w, r, originURL(r, host, port)+r.URL.RequestURI())
}

// redirect sends GET and HEAD on with 302 and other methods with 307,
// which keeps the method and body, as the hub's not-running redirect does.
func redirect(w http.ResponseWriter, r *http.Request, location string) {
	code := http.StatusFound
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusTemporaryRedirect
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
}

// UserOriginsSource is the Content-Security-Policy source expression that
// matches every user's origin as r, a request to the hub's origin, would
// be redirected there: the same scheme and host on any port, or any host
// under SubdomainHost on r's port. The hub's pages allow it in
// form-action, because browsers check form-action on each redirect after
// a form is sent, and the hub's forms that open a server (login with a
// next, consent's Allow, Start) end on its origin. It is "" without
// origins, and for a host a policy cannot name (an IPv6 literal, or
// anything but letters, digits, dots and dashes, which keeps a crafted
// Host header out of the policy).
func (p *Proxy) UserOriginsSource(r *http.Request) string {
	if p.origins == nil {
		return ""
	}
	host, port := splitHost(r.Host)
	if p.origins.SubdomainHost != "" {
		host = "*." + p.origins.SubdomainHost
	} else {
		port = "*"
	}
	if !policyHost(strings.TrimPrefix(host, "*.")) || strings.Trim(port, "0123456789") != "" && port != "*" {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// policyHost reports whether host can stand in a policy's source
// expression as it is: a name or IPv4 address.
func policyHost(host string) bool {
	if host == "" {
		return false
	}
	for _, c := range host {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// splitHost splits a Host header into host name and port ("" if none).
func splitHost(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
}

// originURL is scheme://host[:port] for r's scheme.
func originURL(r *http.Request, host, port string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
