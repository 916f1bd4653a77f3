package core

import (
	"context"
	"net"
	"net/url"
)

// ServesLoopback reports whether one of the hub's servers listens at
// hostport ("127.0.0.1:49153") on this machine: where the engine runs in
// a VM, servers publish their ports on 127.0.0.1, so a loopback address
// here may be a learner's server rather than the app of whoever's browser
// runs on the hub's machine. A stopped server's last port counts too, and
// so does the port of a start under way, which the engine publishes before
// the server answers (its owner decides when it does): the engine is asked
// for those, and an engine that cannot say counts as a yes.
func (h *Lifecycle) ServesLoopback(ctx context.Context, hostport string) bool {
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	var starting []string
	h.mu.Lock()
	for name, st := range h.servers {
		if onLoopbackPort(st.target, port) {
			h.mu.Unlock()
			return true
		}
		if st.pending == PendingSpawn {
			starting = append(starting, name)
		}
	}
	h.mu.Unlock()
	for _, name := range starting {
		sv, err := h.spawner.Status(ctx, name)
		if err != nil || onLoopbackPort(sv.Target, port) {
			return true
		}
	}
	return false
}

func onLoopbackPort(target, port string) bool {
	u, err := url.Parse(target)
	return err == nil && u.Port() == port && net.ParseIP(u.Hostname()).IsLoopback()
}
