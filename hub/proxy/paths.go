package proxy

import (
	"net/url"
	"path"
	"strings"
)

// userPrefix starts every path that belongs to a user's server.
const userPrefix = "/user/"

// verdict says what ServeHTTP does with a request path.
type verdict uint8

const (
	// toHub hands the request, unchanged, to the hub (the catch-all route).
	toHub verdict = iota
	// toUser forwards the request, path unchanged, to the named user's server.
	toUser
	// toCanonical answers with a redirect to the canonical path (GET and
	// HEAD) or 400; nothing is forwarded.
	toCanonical
)

// decision is the outcome of classify.
type decision struct {
	verdict verdict
	// user is the decoded user name for toUser and toCanonical.
	user string
	// location is the escaped canonical path (without query) for toCanonical.
	location string
}

// classify decides where a request for u goes. The policy, which exists so
// that a browser's cookies for one user's server never reach another's:
//
//   - Who gets a request is decided on the cleaned, percent-decoded path:
//     escapes decoded (%2F is a slash, %2E a dot), backslashes read as
//     slashes (browsers do so), dot-segments resolved, repeated slashes
//     collapsed. A cleaned path outside /user/{name}/ goes to the hub
//     unchanged, as under configurable-http-proxy's default route.
//   - A request is forwarded to {name}'s server only if the path as sent
//     already names {name} as its second segment: the raw segment after
//     /user/ must decode to exactly the name the cleaned path yields (percent-
//     encoded characters are fine; encoded slashes or backslashes are not).
//     The forwarded path is the request's own escaped path, byte for byte
//     as sent unless net/url re-escapes a character it considers invalid,
//     so its user segment is the routed user. What follows the user segment
//     is the server's business and is not rewritten.
//   - Anything else whose cleaned path lies under /user/{name} — dot-segments
//     or encoded separators that move the user segment (/user/bob/../alice/,
//     /user/bob/%2e%2e%2Falice/, /hub/..%2Fuser/alice/), double slashes
//     before the name, /user/alice without its trailing slash — is never
//     forwarded. ServeHTTP redirects GET and HEAD to the canonical path
//     (the browser then sends the cookies that belong to that path) and
//     rejects other methods with 400.
func classify(u *url.URL) decision {
	if u.Opaque != "" {
		return decision{verdict: toHub}
	}
	clean := cleanPath(u.Path)
	rest, ok := strings.CutPrefix(clean, userPrefix)
	if !ok {
		return decision{verdict: toHub}
	}
	name, tail, slash := strings.Cut(rest, "/")
	if name == "" {
		// "/user/": there is no server to name; the hub answers.
		return decision{verdict: toHub}
	}
	canonical := userPrefix + url.PathEscape(name) + "/"
	if !slash {
		return decision{verdict: toCanonical, user: name, location: canonical}
	}
	// EscapedPath is what ReverseProxy sends; RawPath, when set, is what
	// the client sent. They differ only when net/url re-escapes characters
	// it considers invalid (a raw "|" or "{"), and both must name the user.
	if rawUser(u.EscapedPath()) == name && (u.RawPath == "" || rawUser(u.RawPath) == name) {
		return decision{verdict: toUser, user: name}
	}
	return decision{verdict: toCanonical, user: name, location: canonical + escapePath(tail)}
}

// rawUser returns the decoded segment after /user/ in an escaped path, or ""
// when the path does not start with /user/{segment}/ or the segment does not
// decode. Encoded slashes decode into the result, so they never match a name
// taken from a cleaned path.
func rawUser(escaped string) string {
	rest, ok := strings.CutPrefix(escaped, userPrefix)
	if !ok {
		return ""
	}
	seg, _, slash := strings.Cut(rest, "/")
	if !slash {
		return ""
	}
	name, err := url.PathUnescape(seg)
	if err != nil {
		return ""
	}
	return name
}

// cleanPath resolves a decoded request path the way the routing decision
// sees it: backslashes are separators, dot-segments and repeated slashes are
// gone, and a trailing slash survives.
func cleanPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// escapePath escapes a decoded path for use in a Location header.
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}
