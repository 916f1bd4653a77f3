package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CodeTTL is how long an OAuth authorization code stays good, as in
// JupyterHub.
const CodeTTL = 300 * time.Second

// OAuthClient is a party that may ask the hub for a user's identity: for a
// server, "jupyterhub-user-<name>", whose secret is the server's API token.
type OAuthClient struct {
	ID          string
	RedirectURI string
	// Owner is the user the client belongs to, "" for none. Deleting the
	// owner deletes the client.
	Owner         string
	Description   string
	AllowedScopes []string
	Created       time.Time
}

// Code is an authorization code's grant, as ConsumeCode hands it back.
type Code struct {
	ClientID    string
	User        string
	SessionID   string
	RedirectURI string
	Scopes      []string
	// Challenge is the PKCE S256 code challenge the code was issued
	// with, "" for none.
	Challenge string
	Created   time.Time
	ExpiresAt time.Time
}

// CodeSpec is what CreateCode needs.
type CodeSpec struct {
	ClientID    string
	User        string
	SessionID   string
	RedirectURI string
	Scopes      []string
	// Challenge is the PKCE code challenge whose verifier the token
	// request must present; "" for none.
	Challenge string
	// TTL is the code's lifetime; 0 means CodeTTL.
	TTL time.Duration
}

const clientColumns = "c.id, c.redirect_uri, coalesce(u.name, ''), c.description, c.allowed_scopes, c.created"

const clientFrom = " FROM oauth_clients c LEFT JOIN users u ON u.id = c.owner_id "

func scanClient(row interface{ Scan(...any) error }) (OAuthClient, error) {
	var c OAuthClient
	var scopes string
	var created int64
	if err := row.Scan(&c.ID, &c.RedirectURI, &c.Owner, &c.Description, &scopes, &created); err != nil {
		return OAuthClient{}, err
	}
	var err error
	if c.AllowedScopes, err = decodeScopes(scopes); err != nil {
		return OAuthClient{}, err
	}
	c.Created = goTime(sql.NullInt64{Int64: created, Valid: true})
	return c, nil
}

// PutOAuthClient creates the client or replaces everything about it but its
// id and creation time. secret is stored hashed. Tokens already issued to
// the client stay valid: updating is not revoking.
func (s *Store) PutOAuthClient(ctx context.Context, c OAuthClient, secret string) (OAuthClient, error) {
	if c.ID == "" {
		return OAuthClient{}, errors.New("put OAuth client: the id is empty")
	}
	// An empty secret would be matched by an empty client_secret.
	if secret == "" {
		return OAuthClient{}, fmt.Errorf("put OAuth client %s: the secret is empty", c.ID)
	}
	var out OAuthClient
	err := s.write(ctx, func(tx *sql.Tx) error {
		var owner sql.NullInt64
		if c.Owner != "" {
			id, err := userID(ctx, tx, c.Owner)
			if err != nil {
				return err
			}
			owner = sql.NullInt64{Int64: id, Valid: true}
		}
		// ON CONFLICT DO UPDATE, never INSERT OR REPLACE: REPLACE deletes
		// the row first, and the delete would cascade to the client's tokens.
		_, err := tx.ExecContext(ctx,
			`INSERT INTO oauth_clients (id, secret_hash, redirect_uri, owner_id, description, allowed_scopes, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, redirect_uri = excluded.redirect_uri,
			   owner_id = excluded.owner_id, description = excluded.description, allowed_scopes = excluded.allowed_scopes`,
			c.ID, hashSecret(secret), c.RedirectURI, owner, c.Description, encodeScopes(c.AllowedScopes), s.micros())
		if err != nil {
			return err
		}
		out, err = scanClient(tx.QueryRowContext(ctx, "SELECT "+clientColumns+clientFrom+"WHERE c.id = ?", c.ID))
		return err
	})
	if err != nil {
		return OAuthClient{}, fmt.Errorf("put OAuth client %s: %w", c.ID, err)
	}
	return out, nil
}

// GetOAuthClient returns the client id.
func (s *Store) GetOAuthClient(ctx context.Context, id string) (OAuthClient, error) {
	c, err := scanClient(s.r.QueryRowContext(ctx, "SELECT "+clientColumns+clientFrom+"WHERE c.id = ?", id))
	if err != nil {
		return OAuthClient{}, fmt.Errorf("get OAuth client %s: %w", id, classify(err))
	}
	return c, nil
}

// AuthenticateOAuthClient returns the client id if secret is its secret, and
// ErrNotFound if the client does not exist or the secret is wrong.
func (s *Store) AuthenticateOAuthClient(ctx context.Context, id, secret string) (OAuthClient, error) {
	var hash string
	err := s.r.QueryRowContext(ctx, "SELECT secret_hash FROM oauth_clients WHERE id = ?", id).Scan(&hash)
	if err != nil {
		return OAuthClient{}, fmt.Errorf("authenticate OAuth client %s: %w", id, classify(err))
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(hash), []byte(hashSecret(secret))) != 1 {
		return OAuthClient{}, fmt.Errorf("authenticate OAuth client %s: wrong secret: %w", id, ErrNotFound)
	}
	return s.GetOAuthClient(ctx, id)
}

// DeleteOAuthClient deletes the client with its codes and every token issued
// to it.
func (s *Store) DeleteOAuthClient(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM oauth_clients WHERE id = ?", id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("delete OAuth client %s: %w", id, err)
	}
	return nil
}

// CreateCode issues an authorization code and returns it; the database
// keeps its hash.
func (s *Store) CreateCode(ctx context.Context, spec CodeSpec) (string, error) {
	ttl := spec.TTL
	if ttl == 0 {
		ttl = CodeTTL
	}
	if ttl < 0 {
		return "", fmt.Errorf("create OAuth code for %q: lifetime %v is in the past", spec.User, ttl)
	}
	code := newSecret(tokenBytes)
	now := s.nowUTC()
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, spec.User)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO oauth_codes (hash, client_id, user_id, session_id, redirect_uri, scopes, code_challenge, created, expires_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			hashSecret(code), spec.ClientID, uid, spec.SessionID, spec.RedirectURI, encodeScopes(spec.Scopes),
			spec.Challenge, now.UnixMicro(), now.Add(ttl).UnixMicro())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create OAuth code for %q and client %s: %w", spec.User, spec.ClientID, err)
	}
	return code, nil
}

// ConsumeCode redeems an authorization code: it returns the grant if the
// code exists, has not expired, was issued to clientID and with exactly
// redirectURI, and ErrNotFound otherwise. A code can be presented once: the
// first presentation deletes it, even one that fails, so of any number of
// racing callers at most one succeeds, and a code that leaked to the wrong
// client is dead too.
func (s *Store) ConsumeCode(ctx context.Context, code, clientID, redirectURI string) (Code, error) {
	var c Code
	var scopes string
	var created, expires int64
	// DELETE … RETURNING is one statement, so the check and the burning
	// of the code cannot be pulled apart.
	err := s.w.QueryRowContext(ctx,
		`DELETE FROM oauth_codes WHERE hash = ?
		 RETURNING client_id, (SELECT name FROM users WHERE id = user_id), session_id, redirect_uri, scopes, code_challenge, created, expires_at`,
		hashSecret(code)).Scan(&c.ClientID, &c.User, &c.SessionID, &c.RedirectURI, &scopes, &c.Challenge, &created, &expires)
	if err != nil {
		return Code{}, fmt.Errorf("consume OAuth code for client %s: %w", clientID, classify(err))
	}
	c.Created = goTime(sql.NullInt64{Int64: created, Valid: true})
	c.ExpiresAt = goTime(sql.NullInt64{Int64: expires, Valid: true})
	switch {
	case !s.nowUTC().Before(c.ExpiresAt):
		return Code{}, fmt.Errorf("consume OAuth code for client %s: expired at %s: %w", clientID, c.ExpiresAt.Format(time.RFC3339), ErrNotFound)
	case c.ClientID != clientID:
		return Code{}, fmt.Errorf("consume OAuth code for client %s: it was issued to another client: %w", clientID, ErrNotFound)
	case c.RedirectURI != redirectURI:
		return Code{}, fmt.Errorf("consume OAuth code for client %s: redirect_uri %q is not the %q it was issued with: %w", clientID, redirectURI, c.RedirectURI, ErrNotFound)
	}
	if c.Scopes, err = decodeScopes(scopes); err != nil {
		return Code{}, fmt.Errorf("consume OAuth code for client %s: %w", clientID, err)
	}
	return c, nil
}
