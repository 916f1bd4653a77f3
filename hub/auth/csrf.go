package auth

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/classhub/classhub/hub/store"
)

// XSRFHeader carries the anti-forgery token on API calls from our pages;
// forms send it as the _xsrf field, as JupyterHub's do.
const XSRFHeader = "X-XSRFToken"

// CSRFToken is the anti-forgery token pages embed for session s. It is the
// session's own random secret, kept in the store with the login and never
// in a cookie, so a page on another port of this host (cookies ignore
// ports) can neither read it nor plant one of its own.
func CSRFToken(s store.Session) string { return s.CSRFSecret }

// CheckCSRF reports whether r carries session s's anti-forgery token in
// the X-XSRFToken header or the _xsrf query or form field. It reads an
// urlencoded form (the hub bounds every body) but never parses a
// multipart one, which FormValue would read into 32 MiB of memory and
// temporary files on any cookie-authenticated call: a handler that takes
// multipart forms (the roster import) parses its own with its own limit
// first, and the field is then found there.
func CheckCSRF(r *http.Request, s store.Session) bool {
	want := CSRFToken(s)
	if want == "" {
		return false
	}
	got := r.Header.Get(XSRFHeader)
	if got == "" {
		r.ParseForm()
		got = r.Form.Get("_xsrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// NeedsCSRF reports whether a request authenticated by the login cookie
// must carry the anti-forgery token: every one, GETs included, except a
// top-level navigation the person started on the hub itself. This is
// JupyterHub 4.1's rule for its API (_needs_check_xsrf), made stricter in
// two ways: a navigation from another site or another port counts as
// forged, and a request without Sec-Fetch-Mode (browsers send it only to
// secure origins) needs the token, where JupyterHub lets it through with
// a warning.
func NeedsCSRF(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	return r.Header.Get("Sec-Fetch-Mode") != "navigate" || !fromHubSite(r.Header.Get("Sec-Fetch-Site"))
}

// fromHubSite reports whether a Sec-Fetch-Site value means this origin
// itself, or the person (typed address, bookmark, another application).
func fromHubSite(site string) bool { return site == "same-origin" || site == "none" }

// Intended reports whether the browser says the person asked for r on
// the hub itself: a page of this origin made it (a link or form of ours),
// or they typed or bookmarked it. GET requests that change something
// (logging out, starting someone else's server) ask first otherwise.
// Browsers send Sec-Fetch-Site only to secure origins (HTTPS, loopback);
// over plain HTTP on a LAN the Referer stands in, which the hub's pages
// send to their own origin (Referrer-Policy: same-origin) and a page on
// another port either names itself in or leaves out.
func Intended(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return fromHubSite(site)
	}
	ref, err := url.Parse(r.Header.Get("Referer"))
	return err == nil && ref.Host != "" && strings.EqualFold(ref.Host, r.Host)
}

// crossOrigin is the hub's one cross-origin policy: Go's implementation
// of the browsers' Sec-Fetch-Site and Origin headers, with no exemptions.
var crossOrigin = http.NewCrossOriginProtection()

// CheckOrigin refuses a state-changing request (any method but GET, HEAD
// and OPTIONS) that a browser sent from another origin. A student's
// server is the hub's host on another port: same site, other origin, so
// refused. Requests without Sec-Fetch-Site and Origin (curl, the CLI,
// notebook servers) pass: they are not a browser acting for someone.
func CheckOrigin(r *http.Request) error { return crossOrigin.Check(r) }
