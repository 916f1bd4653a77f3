package web

import (
	"errors"
	"net/http"

	"github.com/classhub/classhub/hub/auth"
)

// passwordData is the change-password page's.
type passwordData struct {
	Min int
	// HasPassword is false for an account that logs in by login link
	// only (the laptop's owner): there is no current password to type.
	HasPassword bool
}

func (wb *Web) passwordView(p auth.Principal) view {
	v := userView(p, "Change your password", "password")
	v.Page = passwordData{Min: auth.MinPasswordLen, HasPassword: p.User.PasswordHash != ""}
	return v
}

// passwordPage lets anyone logged in change their password.
func (wb *Web) passwordPage(w http.ResponseWriter, r *http.Request) {
	if wb.noPasswords {
		wb.passwordsOff(w, r)
		return
	}
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	v := wb.passwordView(p)
	if r.URL.Query().Get("changed") != "" {
		v.Notice = "Your password is changed. You were logged out everywhere else."
	}
	wb.render(w, http.StatusOK, "password", v)
}

// passwordPost checks the current password, as a login does (a stolen
// session must not turn into the password), and sets the new one. Every
// session of the user ends with the change; this browser gets a new one.
func (wb *Web) passwordPost(w http.ResponseWriter, r *http.Request) {
	if wb.noPasswords {
		wb.passwordsOff(w, r)
		return
	}
	p, ok := wb.mustLogin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	again := func(status int, msg string) {
		v := wb.passwordView(p)
		v.Error = msg
		wb.render(w, status, "password", v)
	}
	name := p.User.Name
	if p.User.PasswordHash == "" {
		again(http.StatusBadRequest, "Your account has no password to change: you log in with the classhub tray icon. Set a password in classhub's Settings or with `classhub users passwd "+name+"`.")
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		again(http.StatusBadRequest, "The two new passwords are not the same. Type the same password in both fields.")
		return
	}
	done := wb.beginTry(w, r, name, "Too many wrong passwords for "+name+" or from this computer.", again)
	if done == nil {
		return
	}
	_, _, err := wb.checkPassword(r.Context(), name, r.PostFormValue("old"))
	done(!errors.Is(err, auth.ErrBadLogin))
	if errors.Is(err, auth.ErrBadLogin) {
		again(http.StatusForbidden, "Your current password is not right. Type it again; if you forgot it, ask your teacher to reset it.")
		return
	} else if err != nil {
		wb.internal(w, r, err)
		return
	}
	var rule *auth.PasswordRuleError
	if err := wb.hub.SetPassword(r.Context(), name, password); errors.As(err, &rule) {
		again(http.StatusBadRequest, sentence(rule.Rule))
		return
	} else if err != nil {
		wb.internal(w, r, err)
		return
	}
	if !wb.startSession(w, r, name) {
		return
	}
	http.Redirect(w, r, "/hub/password?changed=1", http.StatusSeeOther)
}
