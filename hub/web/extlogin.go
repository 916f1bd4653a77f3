package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/store"
)

// StateCookie binds an external login under way to the browser that
// started it: the callback must come with the state the cookie holds, so
// nobody can send a victim's browser back with a code of their own. On
// plain HTTP only the callback gets it; on HTTPS it is HostStateCookie.
const StateCookie = "classhub-oauth-state"

// HostStateCookie is the state cookie on HTTPS: a __Host- cookie has
// Path=/ and no Domain, so a user's origin under the hub's domain cannot
// set it for the hub (one on another port of the hub's host still can:
// switchesUser says what holds then), and the proxy strips it from what
// servers get.
const HostStateCookie = "__Host-" + StateCookie

const callbackPath = "/hub/oauth_callback"

const (
	// extLoginTTL is how long someone has to log in at the provider.
	extLoginTTL = 10 * time.Minute
	// maxExtLogins and maxExtLoginsPerAddr bound the logins under way, so
	// that nobody fills the hub's memory by starting logins.
	maxExtLogins        = 1000
	maxExtLoginsPerAddr = 30
	// maxExchanges bounds the calls to providers at once: the callback is
	// no way to hammer GitHub from the hub.
	maxExchanges = 4
)

// pendingLogin is an external login under way, kept by its state until
// the provider sends the browser back, and used once.
type pendingLogin struct {
	provider extauth.Provider
	verifier string
	next     string
	addr     string
	expires  time.Time
}

// extLogins are the external logins under way.
type extLogins struct {
	mu        sync.Mutex
	pending   map[string]pendingLogin // by state
	exchanges chan struct{}
}

func newExtLogins() *extLogins {
	return &extLogins{pending: make(map[string]pendingLogin), exchanges: make(chan struct{}, maxExchanges)}
}

// add keeps p under a new state, or returns "" when too many logins are
// under way.
func (l *extLogins) add(p pendingLogin, now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	fromAddr := 0
	for s, q := range l.pending {
		if !now.Before(q.expires) {
			delete(l.pending, s)
		} else if q.addr == p.addr {
			fromAddr++
		}
	}
	if len(l.pending) >= maxExtLogins || fromAddr >= maxExtLoginsPerAddr {
		return ""
	}
	b := make([]byte, 32)
	rand.Read(b)
	state := hex.EncodeToString(b)
	l.pending[state] = p
	return state
}

// take removes and returns the login under way with state.
func (l *extLogins) take(state string, now time.Time) (pendingLogin, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pending[state]
	delete(l.pending, state)
	return p, ok && now.Before(p.expires)
}

// provider returns the external login called id, nil if none.
func (wb *Web) provider(id string) extauth.Provider {
	for _, p := range wb.providers {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

// oauthLogin sends the browser to the provider's login, as JupyterHub's
// /hub/oauth_login does.
func (wb *Web) oauthLogin(w http.ResponseWriter, r *http.Request) {
	p := wb.provider(r.FormValue("provider"))
	if p == nil {
		wb.fail(w, r, http.StatusNotFound, "This hub has no such login. Go back to the login page and pick one of its buttons.")
		return
	}
	// The provider sends the browser back to the callback's address; the
	// state cookie must be set there, so a browser that came by another
	// address (the laptop's name rather than its IP) goes there first.
	if origin := callbackOrigin(p); origin != nil && origin.Host != r.Host {
		http.Redirect(w, r, origin.Scheme+"://"+origin.Host+"/hub/oauth_login?"+url.Values{
			"provider": {p.ID()}, "next": {safeNext(r.FormValue("next"))}}.Encode(), http.StatusFound)
		return
	}
	now := wb.now()
	verifier := oauth2.GenerateVerifier()
	state := wb.extLogins.add(pendingLogin{provider: p, verifier: verifier, next: safeNext(r.FormValue("next")),
		addr: clientAddr(r), expires: now.Add(extLoginTTL)}, now)
	if state == "" {
		wb.fail(w, r, http.StatusTooManyRequests, "Too many logins are under way from this computer. Finish one, or wait ten minutes and try again.")
		return
	}
	http.SetCookie(w, wb.stateCookie(state))
	http.Redirect(w, r, p.AuthCodeURL(state, verifier), http.StatusFound)
}

// stateCookie is the state cookie carrying state, or expiring it when
// state is "".
func (wb *Web) stateCookie(state string) *http.Cookie {
	c := &http.Cookie{Name: StateCookie, Value: state, Path: callbackPath, HttpOnly: true,
		Secure: wb.auth.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(extLoginTTL / time.Second)}
	if wb.auth.Secure {
		c.Name, c.Path = HostStateCookie, "/"
	}
	if state == "" {
		c.MaxAge = -1
	}
	return c
}

// callbackOrigin is the scheme and host of the address p sends browsers
// back to, nil if it names none.
func callbackOrigin(p extauth.Provider) *url.URL {
	u, err := url.Parse(p.AuthCodeURL("", ""))
	if err != nil {
		return nil
	}
	back, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || back.Host == "" {
		return nil
	}
	return back
}

// oauthCallback finishes an external login: the state must be the one
// this browser was given and not used before, the provider must vouch for
// the code, and the name must be free or already this provider's.
// Anything else shows a page saying what to do, and changes nothing.
func (wb *Web) oauthCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, wb.stateCookie(""))
	// The state is used up by any callback that names it, matched or not:
	// a code and state copied from a callback that failed in one browser
	// cannot be tried again in another.
	state := r.FormValue("state")
	pl, ok := wb.extLogins.take(state, wb.now())
	c, err := r.Cookie(wb.stateCookie("").Name)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		wb.fail(w, r, http.StatusBadRequest, "This login was not started in this browser, or it was already used. Go back to the login page and log in again.")
		return
	}
	if !ok {
		wb.fail(w, r, http.StatusBadRequest, "This login has expired or was already used. Go back to the login page and log in again.")
		return
	}
	if e := r.FormValue("error"); e != "" {
		wb.fail(w, r, http.StatusForbidden, fmt.Sprintf("The login was cancelled or refused (%s). Go back to the login page to try again.", shorten(e)))
		return
	}
	code := r.FormValue("code")
	if code == "" {
		wb.fail(w, r, http.StatusBadRequest, "The login came back without a code. Go back to the login page and log in again.")
		return
	}
	id, err := wb.exchange(r.Context(), pl, code)
	switch {
	case errors.Is(err, extauth.ErrNotAllowed):
		wb.log.Printf("web: %s login refused: %v", pl.provider.ID(), err)
		wb.fail(w, r, http.StatusForbidden, sentence(err.Error()))
		return
	case err != nil:
		wb.log.Printf("web: %s login failed: %v", pl.provider.ID(), err)
		wb.fail(w, r, http.StatusBadGateway, sentence(err.Error()))
		return
	}
	if msg := wb.switchesUser(r, pl.provider, core.NormalizeName(id.Name)); msg != "" {
		wb.log.Printf("web: %s login as %q refused: %s", pl.provider.ID(), id.Name, msg)
		wb.fail(w, r, http.StatusConflict, msg)
		return
	}
	name, status, msg, err := wb.externalUser(r.Context(), pl.provider, id)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	if msg != "" {
		wb.log.Printf("web: %s login as %q refused: %s", pl.provider.ID(), id.Name, msg)
		wb.fail(w, r, status, msg)
		return
	}
	if !wb.startSession(w, r, name) {
		return
	}
	wb.log.Printf("web: %s logged in with %s", name, pl.provider.ID())
	http.Redirect(w, r, orDefault(pl.next, "/hub/"), http.StatusFound)
}

// switchesUser says why the callback must not log this browser in as
// name, "" if it may.
//
// Cookies ignore ports, so a page a student serves can plant the state
// cookie of a login she started and send a visitor to the callback with
// her code and state: the visitor's browser would come back logged in as
// her, their work landing in her account. A browser logged in as someone
// else is therefore never switched: they log out first. (A login cookie
// planted beside theirs to hide their login never gets here: refusePlanted
// answers first.) A browser with no login can still be logged in as her
// this way: that is the login fixation hub/auth/cookie.go accepts for a
// planted login cookie, which she could plant as well; the visitor sees
// her name at the top of every hub page.
func (wb *Web) switchesUser(r *http.Request, p extauth.Provider, name string) string {
	if cur, ok := wb.session(r); ok && cur.User.Name != name {
		then := "log in with " + p.ID()
		if title := p.Title(); title != "" {
			then = strings.ToLower(title[:1]) + title[1:]
		}
		return "You are logged in as " + cur.User.Name + ": log out first, then " + then + "."
	}
	return ""
}

// exchange asks the provider about code, a few logins at a time.
func (wb *Web) exchange(ctx context.Context, pl pendingLogin, code string) (extauth.Identity, error) {
	select {
	case wb.extLogins.exchanges <- struct{}{}:
		defer func() { <-wb.extLogins.exchanges }()
	case <-ctx.Done():
		return extauth.Identity{}, ctx.Err()
	}
	return pl.provider.Exchange(ctx, code, pl.verifier)
}

// externalUser returns the classhub user id is, creating them on their
// first login. An account that logs in another way (a classhub password,
// a setup code, the tray's links, another provider) is never taken over:
// that is refused with a status and a message for the person.
func (wb *Web) externalUser(ctx context.Context, p extauth.Provider, id extauth.Identity) (name string, status int, msg string, err error) {
	name = core.NormalizeName(id.Name)
	if err := core.ValidateName(name); err != nil {
		return "", http.StatusBadRequest, sentence(err.Error()) + " Your account elsewhere has a name this hub cannot use: ask your teacher for a classhub account.", nil
	}
	for range 2 { // a second time if a parallel first login made the user
		u, err := wb.store.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			_, err = wb.store.CreateExternalUser(ctx, store.NewUser{Name: name, Admin: id.Admin}, p.ID())
			if errors.Is(err, store.ErrExists) {
				continue
			}
			if err == nil {
				wb.log.Printf("web: %s joined with %s (admin %v)", name, p.ID(), id.Admin)
			}
			return name, 0, "", err
		} else if err != nil {
			return "", 0, "", err
		}
		kind, err := wb.store.ExternalLogin(ctx, name)
		if err != nil {
			return "", 0, "", err
		}
		if kind != p.ID() {
			return "", http.StatusConflict, "The username " + name + " on this hub belongs to an account that logs in another way, so this login cannot use it. Log in the way you did before, or ask your teacher to rename one of the accounts.", nil
		}
		if id.Admin && !u.Admin {
			admin := true
			if _, err := wb.store.UpdateUser(ctx, name, store.UserUpdate{Admin: &admin}); err != nil {
				return "", 0, "", err
			}
		}
		return name, 0, "", nil
	}
	return "", http.StatusConflict, "Someone logged in as " + name + " at the same moment. Go back to the login page and try again.", nil
}

// shorten keeps a provider's error code fit for a page.
func shorten(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
