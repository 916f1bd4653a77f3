package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
)

// setupData is the first-login page's: name, setup code and a new
// password. The code is never put back into the page.
type setupData struct {
	Username string
	Next     string
	Min      int
}

// setupPage is a pre-created student's first login: the setup code their
// instructor handed out lets them choose their password.
func (wb *Web) setupPage(w http.ResponseWriter, r *http.Request) {
	if wb.noPasswords {
		wb.passwordsOff(w, r)
		return
	}
	d := setupData{Username: core.NormalizeName(r.FormValue("username")), Next: safeNext(r.FormValue("next")), Min: auth.MinPasswordLen}
	if core.ValidateName(d.Username) != nil {
		d.Username = ""
	}
	wb.render(w, http.StatusOK, "setup", view{Title: "Set up your account", XSRF: wb.formToken(w, r), Page: d})
}

func (wb *Web) setupPost(w http.ResponseWriter, r *http.Request) {
	if wb.noPasswords {
		wb.passwordsOff(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	r.ParseForm()
	d := setupData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: safeNext(r.FormValue("next")), Min: auth.MinPasswordLen}
	again := func(status int, msg string) {
		wb.render(w, status, "setup", view{Title: "Set up your account", XSRF: wb.formToken(w, r), Error: msg, Page: d})
	}
	if !checkFormToken(r) {
		again(http.StatusForbidden, "The form was too old or came from another site. Please try again.")
		return
	}
	name, ok := typedName(&d.Username, again)
	if !ok {
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		again(http.StatusBadRequest, "The two passwords are not the same. Type the same password in both fields.")
		return
	}
	// A wrong code is a guess like a wrong password: the login throttle
	// counts it against the name and the address.
	done := wb.beginTry(w, r, name, "Too many wrong setup codes for "+name+" or from this computer.", again)
	if done == nil {
		return
	}
	u, err := wb.hub.SetUpAccount(r.Context(), name, r.PostFormValue("code"), password)
	done(!errors.Is(err, core.ErrBadSetupCode))
	var rule *auth.PasswordRuleError
	switch {
	case errors.As(err, &rule):
		again(http.StatusBadRequest, sentence(rule.Rule))
		return
	case errors.Is(err, core.ErrBadSetupCode):
		again(http.StatusForbidden, "That username and setup code do not match, or the code was already used or has expired. "+
			"Check both against the paper from your teacher; if it still fails, ask them for a new code.")
		return
	case err != nil:
		wb.internal(w, r, err)
		return
	}
	wb.log.Printf("web: %s set their password with their setup code", u.Name)
	if !wb.startSession(w, r, u.Name) {
		return
	}
	http.Redirect(w, r, orDefault(d.Next, "/hub/spawn/"+pathEscape(u.Name)), http.StatusFound)
}

// passwordsOff answers the pages that set a classhub password when the hub
// has them off: a setup code or a new password must not become a way in
// that the login form refuses.
func (wb *Web) passwordsOff(w http.ResponseWriter, r *http.Request) {
	wb.fail(w, r, http.StatusNotFound, "Passwords are off on this hub: log in with one of the buttons on the login page.")
}
