package hub

import (
	"log"

	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/web"
)

// newPages is the hub's pages: everything under /hub/ but the API, and
// the API's consent page.
func newPages(h *Hub, logger *log.Logger, streams *limit.PerKey, providers []extauth.Provider) *web.Web {
	return web.New(web.Options{Hub: h.Lifecycle, Auth: h.Auth, ErrorLog: logger, Streams: streams,
		JoinCode:    h.Config().JoinCode,
		Fingerprint: h.TLSFingerprint(), CACert: h.CACert(), UserOrigins: h.Proxy.UserOriginsSource,
		Providers: providers, PasswordsOff: !h.Config().LocalLogins})
}
