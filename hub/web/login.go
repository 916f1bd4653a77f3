package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/store"
)

// formCookie carries the anti-forgery token of the forms shown before
// there is a session (login, sign-up), as JupyterHub's _xsrf cookie does:
// the form must echo it, which a page on another site cannot, so nobody
// can log a browser into an account of their choosing.
const formCookie = "_xsrf"

// formToken returns the browser's pre-session form token, setting a new
// one if it has none.
func (wb *Web) formToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: tok, Path: auth.SessionPath, HttpOnly: true,
		Secure: wb.auth.Secure, SameSite: http.SameSiteLaxMode})
	return tok
}

// checkFormToken reports whether a pre-session form echoes its cookie.
func checkFormToken(r *http.Request) bool {
	c, err := r.Cookie(formCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("_xsrf")), []byte(c.Value)) == 1
}

// loginData is the login page's.
type loginData struct {
	Username string
	Next     string
	// Signup links to the sign-up page when a join code is set.
	Signup bool
	// Claim says the class claims accounts: a pre-created student's
	// first password is the first one typed here.
	Claim bool
	Min   int
	// Fingerprint is the hub's certificate fingerprint to compare with the
	// projector; "" on plain HTTP.
	Fingerprint string
	// Providers are the buttons of the external logins.
	Providers []loginButton
	// Passwords shows the username and password form.
	Passwords bool
}

// loginButton is an external login on the login page.
type loginButton struct{ ID, Title string }

func (wb *Web) loginView(w http.ResponseWriter, r *http.Request, d loginData) view {
	d.Signup = wb.joinCode != ""
	d.Passwords = !wb.noPasswords
	for _, p := range wb.providers {
		d.Providers = append(d.Providers, loginButton{ID: p.ID(), Title: p.Title()})
	}
	d.Claim = wb.auth.ClaimAccounts != nil && wb.auth.ClaimAccounts()
	d.Min = auth.MinPasswordLen
	d.Fingerprint = wb.fingerprint
	return view{Title: "Log in", XSRF: wb.formToken(w, r), Page: d}
}

func (wb *Web) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.FormValue("next"))
	if _, ok := wb.session(r); ok {
		http.Redirect(w, r, orDefault(next, "/hub/"), http.StatusFound)
		return
	}
	wb.render(w, http.StatusOK, "login", wb.loginView(w, r, loginData{Next: next}))
}

// typedName reads the username typed into a form: normalized, and put
// back into *typed so that a page shown again holds it as the hub reads
// it. A name that cannot be one is refused through again, saying why.
func typedName(typed *string, again func(status int, msg string)) (string, bool) {
	name := core.NormalizeName(*typed)
	if err := core.ValidateName(name); err != nil {
		again(http.StatusBadRequest, sentence(err.Error()))
		return "", false
	}
	*typed = name
	return name, true
}

func (wb *Web) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	r.ParseForm()
	next := safeNext(r.FormValue("next"))
	d := loginData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: next}
	again := func(status int, msg string) {
		v := wb.loginView(w, r, d)
		v.Error = msg
		wb.render(w, status, "login", v)
	}
	if wb.noPasswords {
		again(http.StatusForbidden, "Logging in with a password is off on this hub. Use one of the buttons on this page.")
		return
	}
	if !checkFormToken(r) {
		again(http.StatusForbidden, "The login form was too old or came from another site. Please log in again.")
		return
	}
	name, ok := typedName(&d.Username, again)
	if !ok {
		return
	}
	done := wb.beginTry(w, r, name, "Too many failed logins for "+name+" or from this computer.", again)
	if done == nil {
		return
	}
	// Where the class claims accounts, a student's account an instructor
	// created takes the first password typed here, as JupyterHub's
	// FirstUseAuthenticator does; elsewhere it waits for its setup code.
	u, first, err := wb.checkPassword(r.Context(), name, r.PostFormValue("password"))
	done(!errors.Is(err, auth.ErrBadLogin))
	var rule *auth.PasswordRuleError
	switch {
	case errors.Is(err, auth.ErrBadLogin):
		again(http.StatusForbidden, "Invalid username or password.")
		return
	case errors.As(err, &rule):
		again(http.StatusBadRequest, "This is your first login as "+name+", so the password you type becomes your password. "+sentence(rule.Rule))
		return
	case err != nil:
		wb.internal(w, r, err)
		return
	}
	if !wb.startSession(w, r, u.Name) {
		return
	}
	if first {
		wb.log.Printf("web: %s set their password at first login", u.Name)
	}
	http.Redirect(w, r, orDefault(next, "/hub/"), http.StatusFound)
}

// startSession ends the browser's current session, if any, and logs user
// in.
func (wb *Web) startSession(w http.ResponseWriter, r *http.Request, user string) bool {
	if c, err := r.Cookie(wb.auth.CookieName()); err == nil && c.Value != "" {
		if err := wb.auth.Logout(w, r); err != nil {
			wb.log.Printf("web: end the previous session: %v", err)
		}
	}
	if _, err := wb.auth.Login(w, r, user); err != nil {
		wb.internal(w, r, err)
		return false
	}
	return true
}

// tooMany sets Retry-After for a 429.
func (wb *Web) tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
}

// beginTry reserves a try at a secret (a password, a code, a login link)
// for key from r's address, before the secret is checked. When the
// throttle says to wait, it sets Retry-After, has refuse answer with why
// and when to try again, and returns nil.
func (wb *Web) beginTry(w http.ResponseWriter, r *http.Request, key, why string, refuse func(status int, msg string)) (done func(ok bool)) {
	done, wait := wb.throttle.Begin(key, clientAddr(r))
	if done == nil {
		wb.tooMany(w, wait)
		refuse(http.StatusTooManyRequests, wb.retrySentence(why, wait))
	}
	return done
}

// retrySentence says when to try again: in seconds when it is soon, else
// at a time of the hub's clock.
func (wb *Web) retrySentence(why string, wait time.Duration) string {
	if wait < time.Minute {
		return fmt.Sprintf("%s Try again in %s.", why, plural(max(int(math.Ceil(wait.Seconds())), 1), "second"))
	}
	at := wb.now().Add(wait)
	return fmt.Sprintf("%s Try again at %s (in %s).", why, at.Local().Format("15:04"), plural(int(math.Ceil(wait.Minutes())), "minute"))
}

// logout ends the session. A GET that the browser does not say came from
// the hub itself (a student's page can link or embed /hub/logout) asks
// first, with a form that posts back here.
func (wb *Web) logout(w http.ResponseWriter, r *http.Request) {
	if p, ok := wb.session(r); ok {
		if r.Method != http.MethodPost && !auth.Intended(r) { // GET and HEAD
			wb.render(w, http.StatusOK, "logout", userView(p, "Log out", ""))
			return
		}
		if r.Method == http.MethodPost && !wb.checkCSRF(w, r, p) {
			return
		}
	}
	if err := wb.auth.Logout(w, r); err != nil {
		wb.log.Printf("web: %v", err)
	}
	http.Redirect(w, r, "/hub/login", http.StatusFound)
}

// loginLink redeems a single-use link from the tray: the person at the
// laptop lands in their notebook without typing a password.
func (wb *Web) loginLink(w http.ResponseWriter, r *http.Request) {
	done := wb.beginTry(w, r, loginLinkKey, "Too many failed logins from this computer.", func(status int, msg string) { wb.fail(w, r, status, msg) })
	if done == nil {
		return
	}
	user, err := wb.store.ConsumeLoginLink(r.Context(), r.PathValue("secret"))
	done(!errors.Is(err, store.ErrNotFound))
	if errors.Is(err, store.ErrNotFound) {
		wb.fail(w, r, http.StatusForbidden, "This login link was already used or has expired. Log in with your password, or open a new link from the classhub tray icon.")
		return
	} else if err != nil {
		wb.internal(w, r, err)
		return
	}
	if !wb.startSession(w, r, user) {
		return
	}
	http.Redirect(w, r, orDefault(safeNext(r.FormValue("next")), "/hub/spawn/"+pathEscape(user)), http.StatusFound)
}

// signupData is the sign-up page's.
type signupData struct {
	Code     string
	Username string
	Next     string
	Min      int
}

func (wb *Web) signupPage(w http.ResponseWriter, r *http.Request) {
	if wb.joinCode == "" {
		wb.fail(w, r, http.StatusNotFound, "Signing up is off on this hub. Ask your teacher for an account.")
		return
	}
	code := r.FormValue("code") // a join link may carry the code
	wb.render(w, http.StatusOK, "signup", view{Title: "Join the class", XSRF: wb.formToken(w, r),
		Page: signupData{Code: code, Next: safeNext(r.FormValue("next")), Min: auth.MinPasswordLen}})
}

func (wb *Web) signupPost(w http.ResponseWriter, r *http.Request) {
	want := wb.joinCode
	if want == "" {
		wb.fail(w, r, http.StatusNotFound, "Signing up is off on this hub. Ask your teacher for an account.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	r.ParseForm()
	d := signupData{Code: strings.TrimSpace(r.PostFormValue("code")), Username: strings.TrimSpace(r.PostFormValue("username")),
		Next: safeNext(r.FormValue("next")), Min: auth.MinPasswordLen}
	again := func(status int, msg string) {
		wb.render(w, status, "signup", view{Title: "Join the class", XSRF: wb.formToken(w, r), Error: msg, Page: d})
	}
	if !checkFormToken(r) {
		again(http.StatusForbidden, "The form was too old or came from another site. Please try again.")
		return
	}
	done := wb.beginTry(w, r, joinCodeKey, "Too many wrong class codes from this computer.", again)
	if done == nil {
		return
	}
	ok := sameCode(d.Code, want)
	done(ok)
	if !ok {
		d.Code = ""
		again(http.StatusForbidden, "That class code is not right. Check it with your teacher and type it again.")
		return
	}
	name, ok := typedName(&d.Username, again)
	if !ok {
		return
	}
	if err := core.ExternalName(wb.hub.Config(), name); err != nil {
		again(http.StatusConflict, sentence(err.Error()))
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		again(http.StatusBadRequest, "The two passwords are not the same. Type the same password in both fields.")
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		again(http.StatusBadRequest, sentence(err.Error()))
		return
	}
	if _, err := wb.store.CreateUser(r.Context(), store.NewUser{Name: name, PasswordHash: hash}); errors.Is(err, store.ErrExists) {
		again(http.StatusConflict, "The username "+name+" is taken. Pick another one, or log in if it is yours.")
		return
	} else if err != nil {
		wb.internal(w, r, err)
		return
	}
	wb.log.Printf("web: %s joined with the class code", name)
	if !wb.startSession(w, r, name) {
		return
	}
	http.Redirect(w, r, orDefault(d.Next, "/hub/spawn/"+pathEscape(name)), http.StatusFound)
}

// sameCode compares join codes as people type them off a projector: case
// and spaces do not matter.
func sameCode(got, want string) bool {
	norm := func(s string) []byte {
		return []byte(strings.ToUpper(strings.Join(strings.Fields(s), "")))
	}
	return subtle.ConstantTimeCompare(norm(got), norm(want)) == 1
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
