package hub

import (
	"log"
	"net/http"

	"github.com/classhub/classhub/hub/web"
)

// newPages serves the hub's pages: everything under /hub/ but the API.
func newPages(h *Hub, logger *log.Logger) http.Handler {
	return web.New(web.Options{Hub: h.Hub, Auth: h.Auth, ErrorLog: logger,
		JoinCode:    func() string { return h.Config().JoinCode },
		Fingerprint: h.TLSFingerprint(), CACert: h.CACert()}).Handler()
}
