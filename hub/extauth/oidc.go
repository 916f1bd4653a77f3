package extauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/classhub/classhub/hub/config"
)

// providerTimeout bounds each call to the provider, so a provider that
// hangs fails a login with a sentence instead of holding it open.
const providerTimeout = 15 * time.Second

// oidcProvider logs people in with a school's OpenID Connect provider: the
// authorization code flow with PKCE and a nonce, an ID token verified
// against the provider's keys, then the [oidc] allow-lists.
type oidcProvider struct {
	cfg      config.OIDC
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// NewOIDC discovers the provider at cfg.Issuer and returns it as a
// Provider whose callback is callbackURL. It fails, with a sentence saying
// what to check, when the issuer cannot be reached or is not an OpenID
// Connect provider.
func NewOIDC(ctx context.Context, cfg config.OIDC, callbackURL string) (Provider, error) {
	client := &http.Client{Timeout: providerTimeout}
	issuer := strings.TrimSpace(cfg.Issuer)
	discovered, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		return nil, fmt.Errorf("the school login's issuer %s did not answer as an OpenID Connect provider: check the oidc issuer "+
			"setting (it must serve %s/.well-known/openid-configuration) and that this laptop can reach it: %w",
			issuer, strings.TrimSuffix(issuer, "/"), err)
	}
	return &oidcProvider{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: string(cfg.ClientSecret),
			Endpoint:     discovered.Endpoint(),
			RedirectURL:  callbackURL,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		// The verifier checks the signature against the provider's
		// published keys, the issuer, that the token is for this client
		// (audience) and that it has not expired.
		verifier: discovered.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		client:   client,
	}, nil
}

func (p *oidcProvider) ID() string    { return "oidc" }
func (p *oidcProvider) Title() string { return p.cfg.ButtonTitle() }

// AuthCodeURL asks for the code with the PKCE challenge of verifier and a
// nonce derived from it. The nonce binds the ID token to this login
// attempt: the provider copies it into the token, and Exchange, which gets
// the same verifier from the hub's flow, recomputes and compares it, so a
// token minted for another attempt (another browser's, or replayed) is
// refused. Deriving it from the verifier, which never leaves the hub
// before the token request, means the hub's flow keeps nothing extra; the
// hash is labelled so that it never equals the S256 challenge.
func (p *oidcProvider) AuthCodeURL(state, verifier string) string {
	return p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonceFor(verifier)))
}

func nonceFor(verifier string) string {
	sum := sha256.Sum256([]byte("classhub oidc nonce\x00" + verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Exchange trades the code for an ID token, verifies it and its nonce, and
// maps its claims to a classhub user through the allow-lists.
func (p *oidcProvider) Exchange(ctx context.Context, code, verifier string) (Identity, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("the school login did not accept this login's code (it may have been used already or be too old): "+
			"start again from the login page: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errors.New("the school login sent no ID token: ask your instructor to check that classhub's client " +
			"at the provider is an OpenID Connect client")
	}
	idToken, err := p.verifier.Verify(oidc.ClientContext(ctx, p.client), raw)
	if err != nil {
		return Identity{}, fmt.Errorf("the school login's answer could not be verified, so it was not trusted: start again from the "+
			"login page, and if it keeps happening ask your instructor to check the oidc settings: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(nonceFor(verifier))) != 1 {
		return Identity{}, errors.New("the school login's answer belongs to another login attempt: start again from the login page")
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("the school login's answer could not be read: %w", err)
	}
	// A token for several clients must name this one as the party it was
	// issued to (OpenID Connect Core 3.1.3.7), or another client of the
	// provider could pass on a token that merely lists classhub.
	if azp, ok := claims["azp"]; ok || len(idToken.Audience) > 1 {
		if azp != p.oauth.ClientID {
			return Identity{}, errors.New("the school login's answer was issued to another application: start again from the " +
				"login page, and if it keeps happening ask your instructor to check the oidc client_id")
		}
	}
	return p.identify(claims)
}

// identify is the allow-list policy: admin users and admin groups are let
// in as instructors; others need a verified e-mail address at an allowed
// domain or an allowed group. An e-mail address decides nothing until the
// provider says it is verified, since on some providers a person can type
// any address into their profile.
func (p *oidcProvider) identify(claims map[string]any) (Identity, error) {
	claim := p.cfg.NameClaim()
	name, _ := claims[claim].(string)
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return Identity{}, fmt.Errorf("the school login did not say who you are (its answer has no %q): ask your instructor to set "+
			"the oidc username_claim to a claim your provider sends, e.g. \"preferred_username\" or \"sub\"", claim)
	}
	email, _ := claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	verified := claims["email_verified"] == true || claims["email_verified"] == "true"
	if claim == "email" && !verified {
		return Identity{}, fmt.Errorf("%s is %w until the school login has verified that e-mail address: verify it there, then log in again",
			name, ErrNotAllowed)
	}
	groups := stringList(claims[p.cfg.GroupClaim()])
	inAny := func(allowed []string) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(allowed, g) })
	}
	admin := slices.ContainsFunc(p.cfg.AdminUsers, func(u string) bool { return strings.EqualFold(strings.TrimSpace(u), name) }) ||
		inAny(p.cfg.AdminGroups)
	if admin || inAny(p.cfg.AllowedGroups) {
		return Identity{Name: name, Admin: admin}, nil
	}
	if at := strings.LastIndex(email, "@"); at > 0 {
		domain := email[at+1:]
		if slices.ContainsFunc(p.cfg.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			if !verified {
				return Identity{}, fmt.Errorf("%s is %w until the school login has verified that e-mail address: verify it there, then log in again",
					email, ErrNotAllowed)
			}
			return Identity{Name: name}, nil
		}
	}
	return Identity{}, fmt.Errorf("%s is %w: this class lets in %s; ask your instructor if you should be in it",
		name, ErrNotAllowed, p.whoIsAllowed())
}

// whoIsAllowed words the allow-lists for the person who is not on them.
func (p *oidcProvider) whoIsAllowed() string {
	var who []string
	if len(p.cfg.AllowedDomains) > 0 {
		who = append(who, "e-mail addresses at "+strings.Join(p.cfg.AllowedDomains, ", "))
	}
	if len(p.cfg.AllowedGroups) > 0 {
		who = append(who, "members of "+strings.Join(p.cfg.AllowedGroups, ", "))
	}
	if len(who) == 0 {
		return "only its instructors"
	}
	return strings.Join(who, " and ")
}

// stringList reads a groups claim: a list of strings, or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
