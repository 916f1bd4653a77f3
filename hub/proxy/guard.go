package proxy

import (
	"fmt"
	"net/http"
)

// admit asks the Guard whether r may reach rt's guarded server. A guarded
// server is forwarded to only on its own origin: the hub's origin
// redirects there before forward, and a proxy without Origins has no
// origin of the server's own for the Guard's cookies to live on.
func (p *Proxy) admit(w http.ResponseWriter, r *http.Request, rt *route) bool {
	if p.guard == nil || p.origins == nil {
		plain(w, http.StatusServiceUnavailable, fmt.Sprintf("%s's server runs an image without JupyterHub, and this hub has no login for such servers; ask the instructor to set image_mode to jupyterhub or to use an image with jupyterhub-singleuser.", rt.user))
		return false
	}
	return p.guard.Admit(w, r, rt.user)
}
