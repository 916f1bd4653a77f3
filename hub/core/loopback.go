package core

import (
	"net"
	"net/url"
)

// ServesLoopback reports whether one of the hub's servers listens at
// hostport ("127.0.0.1:49153") on this machine: where the engine runs in
// a VM, servers publish their ports on 127.0.0.1, so a loopback address
// here may be a learner's server rather than the app of whoever's browser
// runs on the hub's machine. A stopped server's last port counts too.
func (h *Lifecycle) ServesLoopback(hostport string) bool {
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.servers {
		u, err := url.Parse(st.target)
		if err == nil && u.Port() == port && net.ParseIP(u.Hostname()).IsLoopback() {
			return true
		}
	}
	return false
}
