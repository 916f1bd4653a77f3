// Package auth answers "who is making this request, and what may they
// do?" for the REST API and the web pages: API tokens from the
// Authorization header, hub sessions from the login cookie, passwords and
// single-use login links.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// SessionTTL is how long a login lasts (JupyterHub's cookie_max_age_days).
// The login cookie (cookie.go) holds the hub session's secret, which
// nothing but this cookie ever carries: no API returns it, no page shows
// it, no log writes it, and no notebook server, which runs its user's
// code, is ever sent it — an admin opening a student's server must not
// hand the student their login.
const SessionTTL = 14 * 24 * time.Hour

// Principal is an authenticated caller.
type Principal struct {
	User store.User
	// Token is the API token used, zero for a session.
	Token store.Token
	// Session is the hub session used, zero for a token.
	Session store.Session
	// Scopes is what the caller may do.
	Scopes scopes.Set
}

// ViaSession reports whether the caller used the login cookie, which is
// what makes CSRF checks necessary.
func (p Principal) ViaSession() bool { return p.Session.ID != "" }

// Authenticator resolves callers against the store.
type Authenticator struct {
	Store *store.Store
	// Secure marks cookies Secure (set when served over HTTPS).
	Secure bool
	// ClaimAccounts reports whether the class lets the first person to
	// log in as a pre-created student choose its password without a setup
	// code (claim_accounts, for informal workshops); nil means no.
	ClaimAccounts func() bool
}

// Errors.
var (
	ErrNoCredentials = errors.New("no credentials")
	ErrBadToken      = errors.New("invalid or expired token")
	ErrBadLogin      = errors.New("invalid username or password")
)

// TokenFromRequest returns the token in "Authorization: token X" or
// "Authorization: bearer X". The hub never takes ?token= itself, as
// JupyterHub does not: URLs end up in logs and browser history.
func TokenFromRequest(r *http.Request) string {
	h := r.Header.Get("Authorization")
	kind, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(kind) {
	case "token", "bearer":
		return strings.TrimSpace(tok)
	}
	return ""
}

// FromToken authenticates an API token.
func (a *Authenticator) FromToken(ctx context.Context, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, ErrNoCredentials
	}
	tok, err := a.Store.LookupToken(ctx, secret)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	u, err := a.Store.GetUser(ctx, tok.User)
	if err != nil {
		return Principal{}, fmt.Errorf("token owner %s: %w", tok.User, err)
	}
	set, err := scopes.TokenScopes(tok.Scopes, scopes.Owner{User: u.Name}, scopes.UserScopes(u.Name, u.Admin))
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: u, Token: tok, Scopes: set}, nil
}

// FromSession authenticates the hub login cookie; two different ones are
// ErrPlantedCookie, never either of them.
func (a *Authenticator) FromSession(ctx context.Context, r *http.Request) (Principal, error) {
	secret, err := a.sessionSecret(r)
	if err != nil {
		return Principal{}, err
	}
	s, err := a.Store.LookupSession(ctx, secret)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	u, err := a.Store.GetUser(ctx, s.User)
	if err != nil {
		return Principal{}, fmt.Errorf("session owner %s: %w", s.User, err)
	}
	return Principal{User: u, Session: s, Scopes: scopes.UserScopes(u.Name, u.Admin)}, nil
}

// FromRequest authenticates a token if one is given, else the session.
func (a *Authenticator) FromRequest(r *http.Request) (Principal, error) {
	if tok := TokenFromRequest(r); tok != "" {
		return a.FromToken(r.Context(), tok)
	}
	return a.FromSession(r.Context(), r)
}

// Login starts a session for user and sets its cookie to the session's
// secret. It expires login cookies a page may have planted where the
// hub's pages and API would receive them (cookie.go).
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, user string) (store.Session, error) {
	secret, s, err := a.Store.CreateSession(r.Context(), user, SessionTTL)
	if err != nil {
		return s, fmt.Errorf("log in %s: %w", user, err)
	}
	if AtLoopback(r) {
		// Its cookie goes to every port of this machine's loopback,
		// where Docker may publish students' servers (hub/loopback.go).
		if err := a.Store.MarkSessionAtLoopback(r.Context(), s.ID); err != nil {
			return s, fmt.Errorf("log in %s: %w", user, err)
		}
	}
	http.SetCookie(w, a.sessionCookie(secret))
	a.expire(w, r, tossPaths)
	return s, nil
}

// Logout ends the request's session, revokes the tokens issued through it
// (so the notebook servers' cookies stop working too) and clears the
// cookie. A browser that sent two different login cookies ends both
// sessions: one is the person's, who asked to leave, and the other's
// owner planted it.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, a.sessionCookie(""))
	secrets := a.sessionSecrets(r)
	if len(secrets) > 1 {
		a.ExpirePlanted(w, r)
	}
	for _, secret := range secrets {
		s, err := a.Store.LookupSession(r.Context(), secret)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("log out: %w", err)
		}
		if _, err := a.Store.DeleteTokensBySession(r.Context(), s.ID); err != nil {
			return fmt.Errorf("log out: %w", err)
		}
		if err := a.Store.DeleteSession(r.Context(), s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("log out: %w", err)
		}
	}
	return nil
}

// PasswordRuleError is a new password that breaks a rule; its text says
// which, as a sentence to show the person typing it.
type PasswordRuleError struct{ Rule string }

func (e *PasswordRuleError) Error() string { return e.Rule }

// HashPassword returns the bcrypt hash of password, or a
// *PasswordRuleError if it is too short or too long.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", &PasswordRuleError{fmt.Sprintf("the password is too short: use at least %d characters", MinPasswordLen)}
	}
	if len(password) > 72 {
		return "", &PasswordRuleError{"the password is too long: use at most 72 bytes"}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

// CheckPassword verifies user's password. A student's account waiting for
// its first password (MustSetPassword) takes it with the setup code the
// instructor handed out (hub/core's SetUpAccount), never here, unless the
// class claims accounts (ClaimAccounts): then, as with JupyterHub's
// FirstUseAuthenticator, the first password given becomes theirs if it
// meets the rules (else a *PasswordRuleError says which), and firstLogin
// reports that case. Of two people claiming the same account at once only
// one wins; the other is checked against the winner's password like any
// later login. An instructor's account is never claimed, nor one reset
// (store.ClaimPassword says why).
func (a *Authenticator) CheckPassword(ctx context.Context, name, password string) (u store.User, firstLogin bool, err error) {
	u, err = a.Store.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so timing does not tell
		// which usernames exist.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return u, false, ErrBadLogin
	}
	if err != nil {
		return u, false, err
	}
	if u.MustSetPassword && u.PasswordHash == "" && !u.Admin && u.Reset.IsZero() && a.ClaimAccounts != nil && a.ClaimAccounts() {
		hash, err := HashPassword(password)
		if err != nil {
			return u, false, err
		}
		claimed, ok, err := a.Store.ClaimPassword(ctx, name, hash)
		if err != nil || ok {
			return claimed, ok, err
		}
		// Someone else claimed it first: their password is the one.
		if u, err = a.Store.GetUser(ctx, name); err != nil {
			return u, false, err
		}
	}
	if u.PasswordHash == "" {
		// An account without a password (the laptop's owner, who logs in
		// by login link, or one waiting for its setup code) cannot be
		// claimed by typing its name.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return u, false, ErrBadLogin
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return u, false, ErrBadLogin
	}
	return u, false, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("classhub-timing-equaliser"), bcrypt.DefaultCost)
