package proxy

import (
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// route is one user's entry in the routing table. It is never modified after
// SetRoute publishes it, except for lastActivity.
type route struct {
	user   string
	target *url.URL // scheme and host only
	rp     *httputil.ReverseProxy
	// prefix is /user/{escaped user}, the path the server's cookies must
	// stay under.
	prefix string
	// label is user's DNS label under Origins.SubdomainHost, if set.
	label string
	// guarded routes forward only what the Guard admits, with
	// Authorization: token <token> in place of anything the client sent.
	guarded bool
	token   string
	// lastActivity is the UnixNano time of the last Activity report for this
	// route, for rate limiting; 0 before the first.
	lastActivity atomic.Int64
}

// SetRoute sends /user/{user}/… to target from now on, replacing any earlier
// route for user. Only target's scheme and host (with port) are used: the
// request path is forwarded unchanged, as configurable-http-proxy does. A nil
// target removes the route. Requests already in flight finish on the route
// they started on.
func (p *Proxy) SetRoute(user string, target *url.URL) { p.setRoute(user, target, false, "") }

// SetGuardedRoute is SetRoute for a server that logs nobody in by itself,
// a plain Jupyter server that trusts whoever brings token: only requests
// the Guard admits reach it, without the client's Authorization header
// and with "Authorization: token <token>" instead.
func (p *Proxy) SetGuardedRoute(user string, target *url.URL, token string) {
	p.setRoute(user, target, true, token)
}

func (p *Proxy) setRoute(user string, target *url.URL, guarded bool, token string) {
	if target == nil {
		p.RemoveRoute(user)
		return
	}
	rt := &route{user: user, target: &url.URL{Scheme: target.Scheme, Host: target.Host},
		prefix: userPrefix + url.PathEscape(user), guarded: guarded, token: token}
	if p.subdomainSuffix != "" {
		rt.label = p.origins.Label(user)
	}
	rt.rp = p.newReverseProxy(rt)
	p.mu.Lock()
	p.routes[user] = rt
	p.mu.Unlock()
}

// RemoveRoute stops routing user's requests; they go to the NotRunning hook.
// Open connections (websockets, downloads) are not cut.
func (p *Proxy) RemoveRoute(user string) {
	p.mu.Lock()
	delete(p.routes, user)
	p.mu.Unlock()
}

// Route returns a copy of user's target and whether user has a route.
func (p *Proxy) Route(user string) (*url.URL, bool) {
	rt := p.lookup(user)
	if rt == nil {
		return nil, false
	}
	u := *rt.target
	return &u, true
}

// Routes returns a copy of the routing table: user → target.
func (p *Proxy) Routes() map[string]*url.URL {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := make(map[string]*url.URL, len(p.routes))
	for user, rt := range p.routes {
		u := *rt.target
		m[user] = &u
	}
	return m
}

func (p *Proxy) lookup(user string) *route {
	p.mu.RLock()
	rt := p.routes[user]
	p.mu.RUnlock()
	return rt
}
