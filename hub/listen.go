package hub

import (
	"log"
	"net"
	"net/http"
	"time"
)

// listenPublic opens a listener on the public side: the public address and
// every user's port. It is the one place such listeners come from, so that
// what the public listener gets (TLS) users' ports get too.
func (h *Hub) listenPublic(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// newPublicServer is the HTTP server of a public-side listener: the public
// one and each user's port, so both get the same timeouts and limits.
func newPublicServer(handler http.Handler, logger *log.Logger) *http.Server {
	return &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
}
