package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/classhub/classhub/hub/store"
)

// OAuthTokenTTL is how long an OAuth access token lives: JupyterHub's
// cookie_max_age_days.
const OAuthTokenTTL = SessionTTL

// ErrBadCode is an authorization code that is unknown, used, expired, or
// for another client or redirect URI.
var ErrBadCode = errors.New("the code is unknown, used, expired or for another client")

// ErrBadVerifier is a PKCE code_verifier that does not answer the code's
// challenge, or one missing or extra. The code is spent all the same.
var ErrBadVerifier = errors.New("the code_verifier does not match the code's challenge")

// ExchangeCode trades an authorization code that the hub issued to
// clientID for redirectURI for an OAuth access token owned by the user who
// logged in, with the scopes the code carries. The code is spent whatever
// happens next. It is the token endpoint's work once the client has
// authenticated, and the proxy's for a server that has no login of its
// own (hub/gate), which needs no client secret since it runs in the hub.
func (a *Authenticator) ExchangeCode(ctx context.Context, clientID, code, redirectURI string) (string, store.Token, error) {
	return a.ExchangeCodePKCE(ctx, clientID, code, redirectURI, "")
}

// ExchangeCodePKCE is ExchangeCode for a code issued with a PKCE
// challenge, which only verifier redeems; a code issued without one is
// redeemed only without a verifier, so neither kind passes for the other.
func (a *Authenticator) ExchangeCodePKCE(ctx context.Context, clientID, code, redirectURI, verifier string) (string, store.Token, error) {
	c, err := a.Store.ConsumeCode(ctx, code, clientID, redirectURI)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.Token{}, ErrBadCode
	}
	if err != nil {
		return "", store.Token{}, fmt.Errorf("redeem a code for %s: %w", clientID, err)
	}
	if (c.Challenge == "") != (verifier == "") || (c.Challenge != "" && !VerifierMatches(c.Challenge, verifier)) {
		return "", store.Token{}, ErrBadVerifier
	}
	secret, tok, err := a.Store.CreateToken(ctx, store.TokenSpec{User: c.User, Kind: "oauth", Scopes: c.Scopes,
		ClientID: clientID, SessionID: c.SessionID, ExpiresIn: OAuthTokenTTL, Note: "OAuth for " + clientID})
	if err != nil {
		return "", store.Token{}, fmt.Errorf("issue an OAuth token for %s: %w", clientID, err)
	}
	return secret, tok, nil
}
