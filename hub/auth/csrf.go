package auth

import (
	"crypto/subtle"
	"net/http"

	"github.com/classhub/classhub/hub/store"
)

// XSRFHeader carries the anti-forgery token on API calls from our pages;
// forms send it as the _xsrf field, as JupyterHub's do.
const XSRFHeader = "X-XSRFToken"

// CSRFToken is the anti-forgery token pages embed for session s. It is the
// session's own random secret, which a cross-site page cannot read.
func CSRFToken(s store.Session) string { return s.CSRFSecret }

// CheckCSRF reports whether r carries session s's anti-forgery token in
// the X-XSRFToken header or the _xsrf form or query field.
func CheckCSRF(r *http.Request, s store.Session) bool {
	want := CSRFToken(s)
	if want == "" {
		return false
	}
	got := r.Header.Get(XSRFHeader)
	if got == "" {
		got = r.FormValue("_xsrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
