package proxy

import (
	"net"
	"net/http"
)

// setForwarded tells the user's server who asked and how, as
// configurable-http-proxy's xfwd does: X-Forwarded-For, -Proto, -Host and
// -Port. The proxy is classhub's edge, so it trusts nothing a client says
// about forwarding: Forwarded, X-Forwarded-*, X-Real-Ip and X-Scheme from
// the client are dropped (tornado, with trust_xheaders on, lets X-Real-Ip
// and X-Scheme override the others) and the values come from the
// connection. The Host header is left as the client sent it; the
// singleuser server builds its redirects from it.
func setForwarded(out, in *http.Request) {
	h := out.Header
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Real-Ip", "X-Scheme"} {
		delete(h, k)
	}
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		h.Set("X-Forwarded-For", ip)
	}
	proto, port := "http", "80"
	if in.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(in.Host); err == nil && p != "" {
		port = p
	}
	h.Set("X-Forwarded-Proto", proto)
	h.Set("X-Forwarded-Host", in.Host)
	h.Set("X-Forwarded-Port", port)
}

// dropServerHeaders removes from a user's server's response the headers
// that would reach beyond its own pages:
//   - Service-Worker-Allowed lets a service worker control more than the
//     directory of its script; without it, one from /user/NAME/ stays
//     there, whatever the origin later serves (a deleted user's port goes
//     to another user in the end).
//   - Clear-Site-Data "cookies" clears the cookies of the whole host
//     (cookies ignore ports): the hub's login and every classmate's
//     server's. A server has no need of it for its own storage, so none
//     of it is kept.
func dropServerHeaders(h http.Header) {
	delete(h, "Service-Worker-Allowed")
	delete(h, "Clear-Site-Data")
}
