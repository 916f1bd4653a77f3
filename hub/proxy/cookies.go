package proxy

import (
	"net/http"
	"strings"
)

// dropForeignSetCookies removes the Set-Cookie headers of a user's server
// that could reach beyond that server: cookies ignore ports, so a cookie
// alice's server sets for Path=/hub/, or for a whole domain, would be sent
// to the hub and to every classmate's server on the same host. A cookie
// stays only when it has no Domain attribute and every Path attribute is
// prefix (/user/{name}) or lies under prefix/ with no dot-segments. With no
// Path, browsers take the request's directory, which is under prefix
// because only such requests are forwarded.
func dropForeignSetCookies(h http.Header, prefix string) {
	cookies := h["Set-Cookie"]
	if len(cookies) == 0 {
		return
	}
	kept := cookies[:0:0]
	for _, c := range cookies {
		if cookieStaysUnder(c, prefix) {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		delete(h, "Set-Cookie")
		return
	}
	h["Set-Cookie"] = kept
}

// cookieStaysUnder reports whether the Set-Cookie value line is confined to
// prefix on the host that set it. Attribute names are case-insensitive,
// and a browser uses the last of repeated attributes, so every one counts.
func cookieStaysUnder(line, prefix string) bool {
	_, attrs, _ := strings.Cut(line, ";")
	for attrs != "" {
		var attr string
		attr, attrs, _ = strings.Cut(attrs, ";")
		name, value, _ := strings.Cut(attr, "=")
		name = strings.TrimSpace(name)
		switch {
		case strings.EqualFold(name, "Domain"):
			return false
		case strings.EqualFold(name, "Path"):
			if !pathUnder(strings.TrimSpace(value), prefix) {
				return false
			}
		}
	}
	return true
}

// pathUnder reports whether the cookie path p is prefix or below prefix/,
// with nothing a browser might read as another directory: no dot-segments,
// escapes or backslashes.
func pathUnder(p, prefix string) bool {
	if p == prefix {
		return true
	}
	rest, ok := strings.CutPrefix(p, prefix+"/")
	if !ok || strings.ContainsAny(rest, `%\`) {
		return false
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// stripCookies removes the named cookies (the hub's login) from the Cookie
// header of a request forwarded to a user's server: the server must never
// see a credential of the hub's, whatever path the browser sent it for.
// Headers that do not mention a name are left as they are.
func stripCookies(h http.Header, names []string) {
	lines := h["Cookie"]
	for i, line := range lines {
		if !mentionsAny(line, names) {
			continue
		}
		var b strings.Builder
		for pair := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(pair, "=")
			if isOneOf(strings.TrimSpace(name), names) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(strings.TrimSpace(pair))
		}
		lines[i] = b.String()
	}
	kept := lines[:0]
	for _, line := range lines {
		if line != "" {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		delete(h, "Cookie")
	} else if len(kept) != len(lines) {
		h["Cookie"] = kept
	}
}

func mentionsAny(s string, names []string) bool {
	for _, n := range names {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

func isOneOf(s string, names []string) bool {
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}
