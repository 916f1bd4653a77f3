package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// VisitTokenTTL is how long a visit token lives (see Visits): long enough
// that a script visiting a server does not make one per request, short
// enough that one outlives the token it was made for only briefly.
const VisitTokenTTL = time.Hour

// maxVisits bounds the visit tokens Visits keeps for reuse.
const maxVisits = 4096

// Visits trades a hub token that a visitor sends to someone else's server
// for a visit token: one of the visitor's own, issued to that server's
// OAuth client, which may only identify the visitor and use that server,
// as the token the browser's login to the server gives. The server's owner
// controls everything the server reads, so the visitor's own token, which
// may do all the visitor may (an instructor's: everything), never reaches
// it. It is the proxy's Tokens.
type Visits struct {
	Auth *Authenticator
	// ClientID is the OAuth client of user's server.
	ClientID func(user string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	made map[visitKey]visit
}

// visitKey is a token, by its secret's hash, visiting a server.
type visitKey struct {
	secret [sha256.Size]byte
	server string
}

// visit is a visit token made for a visitKey, until it expires.
type visit struct {
	secret  string
	expires time.Time
	// last is whether it ends when the token it stands for does: a
	// visit token made later would end then too.
	last bool
}

// ForServer is what user's server is sent in place of secret: secret
// itself when it is user's own token or was issued for this server; a
// visit token when it is another's token that may use the server; and ""
// for a secret the hub does not know, or a token that may not use the
// server, which the server would refuse anyway.
func (v *Visits) ForServer(ctx context.Context, user, secret string) (string, error) {
	p, err := v.Auth.FromToken(ctx, secret)
	if errors.Is(err, ErrBadToken) || errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look the token up: %w", err)
	}
	client := v.ClientID(user)
	switch {
	case p.User.Name == user, p.Token.ClientID == client:
		return secret, nil
	case !scopes.Allows(p.Scopes, "access:servers", scopes.OnServer(user, "")):
		return "", nil
	}
	key := visitKey{sha256.Sum256([]byte(secret)), user}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if s, ok := v.reuse(ctx, key, now); ok {
		return s, nil
	}
	ttl, last := VisitTokenTTL, false
	if exp := p.Token.ExpiresAt; !exp.IsZero() && exp.Sub(now) < ttl {
		ttl, last = exp.Sub(now), true
	}
	if ttl <= 0 {
		// It expired as it was looked up; and a lifetime of 0 would be
		// one that never ends.
		return "", nil
	}
	s, _, err := v.Auth.Store.CreateToken(ctx, store.TokenSpec{
		User:   p.User.Name,
		Kind:   store.KindOAuth,
		Scopes: append([]string{scopes.ServerAccessScope(user, "")}, scopes.IdentifyScopes(p.User.Name)...),
		// Logging out ends it with the token it stands for, if that
		// came from a login.
		SessionID: p.Token.SessionID,
		ClientID:  client,
		ExpiresIn: ttl,
		Note:      "Visit of " + user + "'s server with token " + p.Token.Prefix + "…",
	})
	if err != nil {
		return "", fmt.Errorf("make a visit token: %w", err)
	}
	v.keep(key, visit{s, now.Add(ttl), last}, now)
	return s, nil
}

// reuse returns the visit token made earlier for key, while it has a
// quarter of its life left, or it ends with the token it stands for (a
// new one would end then too: one per request for a token's last quarter
// hour), and still exists: the server it was given to may delete it, and
// logging out revokes it.
func (v *Visits) reuse(ctx context.Context, key visitKey, now time.Time) (string, bool) {
	v.mu.Lock()
	m, ok := v.made[key]
	v.mu.Unlock()
	if !ok || !m.last && m.expires.Sub(now) < VisitTokenTTL/4 {
		return "", false
	}
	if _, err := v.Auth.Store.LookupToken(ctx, m.secret); err != nil {
		return "", false
	}
	return m.secret, true
}

// keep remembers m for key, in a cache of at most maxVisits.
func (v *Visits) keep(key visitKey, m visit, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.made == nil {
		v.made = make(map[visitKey]visit)
	}
	limit.MakeRoom(v.made, maxVisits, func(old visit) bool { return !now.Before(old.expires) })
	v.made[key] = m
}
