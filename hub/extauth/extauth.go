// Package extauth logs people in with an account elsewhere (GitHub, a school's OpenID Connect
// provider): each Provider turns a callback's code into an Identity; hub/web runs the flow.
package extauth

import (
	"context"
	"errors"
)

// Identity is who a provider says the person is, already checked against its allow-lists.
type Identity struct {
	Name  string // the classhub user name it maps to, lower-cased; hub/web validates it like any name
	Admin bool   // the provider's settings make them an instructor
}

// Provider is one external login.
type Provider interface {
	// ID names it in URLs and settings: "github", "oidc".
	ID() string
	// Title is the login button's text, e.g. "Log in with GitHub".
	Title() string
	// AuthCodeURL is where the browser goes to log in; state and the PKCE verifier are the hub's.
	AuthCodeURL(state, verifier string) string
	// Exchange trades the callback's code for the person's identity, or an error whose text
	// says what went wrong as a sentence for the person (not allowed, e-mail not verified, ...).
	Exchange(ctx context.Context, code, verifier string) (Identity, error)
}

// ErrNotAllowed is wrapped by Exchange when the person is known to the provider but not let in.
var ErrNotAllowed = errors.New("not allowed to log in to this hub")
