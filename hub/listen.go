package hub

import "net"

// listenPublic opens a listener on the public side: the public address and
// every user's port. It is the one place such listeners come from, so that
// what the public listener gets (TLS) users' ports get too.
func (h *Hub) listenPublic(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}
