package proxy

import (
	"net/http"
	"strings"
)

// confineSetCookies keeps the Set-Cookie headers of a user's server from
// reaching beyond that server: cookies ignore ports, so a cookie alice's
// server sets for Path=/hub/, or for a whole domain, would be sent to the
// hub and to every classmate's server on the same host. A cookie with a
// Domain attribute is dropped. A cookie whose Path is not prefix
// (/user/{name}) or under prefix/ gets Path=prefix/ instead: the classic
// notebook sets its _xsrf cookie for Path=/ and reads it back from its own
// pages, which still works there. With no Path, browsers take the
// request's directory, which is under prefix because only such requests
// are forwarded. A cookie named like one of the hub's (hubCookies) is
// dropped wherever it would go: whatever its path, it has no business in
// the browser under the hub's name.
func confineSetCookies(h http.Header, prefix string, hubCookies []string) {
	cookies := h["Set-Cookie"]
	if len(cookies) == 0 {
		return
	}
	kept := cookies[:0:0]
	for _, c := range cookies {
		name, _, _ := strings.Cut(c, "=")
		if isHubCookie(name, hubCookies) {
			continue
		}
		if c, ok := confineCookie(c, prefix); ok {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		delete(h, "Set-Cookie")
		return
	}
	h["Set-Cookie"] = kept
}

// confineCookie returns the Set-Cookie value line confined to prefix on the
// host that set it, and false when it must be dropped. Attribute names are
// case-insensitive, and a browser uses the last of repeated attributes, so
// every one counts.
func confineCookie(line, prefix string) (string, bool) {
	pair, attrs, _ := strings.Cut(line, ";")
	confined := true
	for rest := attrs; rest != ""; {
		var attr string
		attr, rest, _ = strings.Cut(rest, ";")
		name, value, _ := strings.Cut(attr, "=")
		name = strings.TrimSpace(name)
		switch {
		case strings.EqualFold(name, "Domain"):
			return "", false
		case strings.EqualFold(name, "Path"):
			confined = confined && pathUnder(strings.TrimSpace(value), prefix)
		}
	}
	if confined {
		return line, true
	}
	b := strings.Builder{}
	b.WriteString(pair)
	for rest := attrs; rest != ""; {
		var attr string
		attr, rest, _ = strings.Cut(rest, ";")
		name, _, _ := strings.Cut(attr, "=")
		if strings.EqualFold(strings.TrimSpace(name), "Path") {
			continue
		}
		b.WriteString(";")
		b.WriteString(attr)
	}
	b.WriteString("; Path=")
	b.WriteString(prefix)
	b.WriteString("/")
	return b.String(), true
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

// isHubCookie reports whether a Set-Cookie name is one of the hub's
// cookies under any prefix or case. Browsers match names exactly but read
// the __Host- and __Secure- prefixes in any case, so a server's
// "__HOST-Jupyterhub-Hub-Login" is as much an attempt at the hub's login
// as the name itself.
func isHubCookie(name string, hubCookies []string) bool {
	name = unprefixed(name)
	for _, n := range hubCookies {
		if name == unprefixed(n) {
			return true
		}
	}
	return false
}

// unprefixed is a cookie name without its __Host- or __Secure- prefix,
// in lower case.
func unprefixed(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range []string{"__host-", "__secure-"} {
		name = strings.TrimPrefix(name, p)
	}
	return name
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
