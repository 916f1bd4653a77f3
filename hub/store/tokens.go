package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Token kinds.
const (
	// KindAPI is a token a person made (POST /users/{name}/tokens).
	KindAPI = "api"
	// KindServer is a server's JUPYTERHUB_API_TOKEN.
	KindServer = "server"
	// KindOAuth is an access token issued by the OAuth token endpoint.
	KindOAuth = "oauth"
)

// tokenBytes is the secret's length in random bytes; hex doubles it. 256
// bits is more than JupyterHub's uuid4 (122) and costs nothing.
const tokenBytes = 32

// prefixLen is how much of a secret is kept in clear for display, as
// JupyterHub keeps 4 characters. 16 of 256 bits tell an attacker nothing.
const prefixLen = 4

// activityResolution is how stale a token's or session's last_activity may
// get before a use writes it again. It turns a burst of API calls into at most
// one write a minute.
const activityResolution = time.Minute

// Token is an API token without its secret, which is never stored.
type Token struct {
	// ID is exposed as "a<ID>" (see APIID).
	ID   int64
	User string
	// Prefix is the secret's first characters, for people to tell tokens
	// apart.
	Prefix string
	Kind   string
	Scopes []string
	Note   string
	// ClientID is the OAuth client the token was issued to, "" for none.
	ClientID string
	// SessionID is the hub session the token was issued through, "" for
	// none; logging out revokes the session's tokens.
	SessionID    string
	Created      time.Time
	LastActivity time.Time
	// ExpiresAt is zero for a token that never expires.
	ExpiresAt time.Time
}

// APIID is the id the REST API shows, e.g. "a42".
func (t Token) APIID() string { return "a" + strconv.FormatInt(t.ID, 10) }

// ParseTokenID turns an API id such as "a42" back into Token.ID.
func ParseTokenID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "a"), 10, 64)
	if err != nil || !strings.HasPrefix(s, "a") || n <= 0 {
		return 0, fmt.Errorf("token id %q: want a followed by a number, like a42: %w", s, ErrNotFound)
	}
	return n, nil
}

// TokenSpec is what CreateToken needs.
type TokenSpec struct {
	User   string
	Kind   string
	Scopes []string
	Note   string
	// ClientID must name an existing OAuth client, or be "".
	ClientID  string
	SessionID string
	// ExpiresIn is the lifetime; 0 means the token never expires.
	ExpiresIn time.Duration
}

const tokenColumns = `t.id, u.name, t.prefix, t.kind, t.scopes, t.note, t.client_id, t.session_id,
	t.created, t.last_activity, t.expires_at`

const tokenFrom = " FROM api_tokens t JOIN users u ON u.id = t.user_id "

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var scopes string
	var client, session sql.NullString
	var created int64
	var last, expires sql.NullInt64
	err := row.Scan(&t.ID, &t.User, &t.Prefix, &t.Kind, &scopes, &t.Note, &client, &session, &created, &last, &expires)
	if err != nil {
		return Token{}, err
	}
	if t.Scopes, err = decodeScopes(scopes); err != nil {
		return Token{}, err
	}
	t.ClientID, t.SessionID = client.String, session.String
	t.Created = goTime(sql.NullInt64{Int64: created, Valid: true})
	t.LastActivity, t.ExpiresAt = goTime(last), goTime(expires)
	return t, nil
}

// CreateToken makes a token for spec.User and returns its secret, which
// exists only in the return value: the database keeps its hash. The secret
// is 64 hex characters.
func (s *Store) CreateToken(ctx context.Context, spec TokenSpec) (string, Token, error) {
	switch spec.Kind {
	case KindAPI, KindServer, KindOAuth:
	default:
		return "", Token{}, fmt.Errorf("create token for %q: unknown kind %q; use %q, %q or %q", spec.User, spec.Kind, KindAPI, KindServer, KindOAuth)
	}
	if spec.ExpiresIn < 0 {
		return "", Token{}, fmt.Errorf("create token for %q: expiry %v is in the past", spec.User, spec.ExpiresIn)
	}
	secret := newSecret(tokenBytes)
	now := s.nowUTC()
	var expires time.Time
	if spec.ExpiresIn > 0 {
		expires = now.Add(spec.ExpiresIn)
	}
	var tok Token
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, spec.User)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx,
			`INSERT INTO api_tokens (user_id, hash, prefix, kind, scopes, note, client_id, session_id, created, expires_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			uid, hashSecret(secret), secret[:prefixLen], spec.Kind, encodeScopes(spec.Scopes), spec.Note,
			nullString(spec.ClientID), nullString(spec.SessionID), now.UnixMicro(), dbTime(expires)).Scan(&id)
		if err != nil {
			return err
		}
		tok, err = scanToken(tx.QueryRowContext(ctx, "SELECT "+tokenColumns+tokenFrom+"WHERE t.id = ?", id))
		return err
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("create %s token for %q: %w", spec.Kind, spec.User, err)
	}
	return secret, tok, nil
}

// LookupToken returns the token whose secret this is. Unknown and expired
// secrets give ErrNotFound. A use is recorded in LastActivity, written at
// most once a minute per token.
func (s *Store) LookupToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, fmt.Errorf("look up token: %w", ErrNotFound)
	}
	// The lookup is an equality on the hash, so its timing says nothing
	// useful about the secret: finding a secret with a chosen hash prefix
	// is as hard as inverting SHA-256.
	tok, err := scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+tokenFrom+"WHERE t.hash = ?", hashSecret(secret)))
	if err != nil {
		return Token{}, fmt.Errorf("look up token: %w", classify(err))
	}
	now := s.nowUTC()
	if !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt) {
		return Token{}, fmt.Errorf("look up token %s: expired: %w", tok.APIID(), ErrNotFound)
	}
	if tok.LastActivity.IsZero() || now.Sub(tok.LastActivity) >= activityResolution {
		// The condition makes racing lookups write once, and never moves
		// the time backwards.
		_, err := s.w.ExecContext(ctx,
			"UPDATE api_tokens SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity <= ?)",
			now.UnixMicro(), tok.ID, now.Add(-activityResolution).UnixMicro())
		if err != nil {
			return Token{}, fmt.Errorf("look up token %s: record use: %w", tok.APIID(), classify(err))
		}
		tok.LastActivity = now
	}
	return tok, nil
}

// GetToken returns user's token id.
func (s *Store) GetToken(ctx context.Context, user string, id int64) (Token, error) {
	tok, err := scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+tokenFrom+"WHERE u.name = ? AND t.id = ?", user, id))
	if err != nil {
		return Token{}, fmt.Errorf("get token a%d of %q: %w", id, user, classify(err))
	}
	return tok, nil
}

// ListTokens returns user's unexpired tokens, oldest first. It returns an
// empty list, not ErrNotFound, for a user that does not exist; check the
// user first where that matters.
func (s *Store) ListTokens(ctx context.Context, user string) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+tokenColumns+tokenFrom+
		"WHERE u.name = ? AND (t.expires_at IS NULL OR t.expires_at > ?) ORDER BY t.id", user, s.micros())
	if err != nil {
		return nil, fmt.Errorf("list tokens of %q: %w", user, err)
	}
	defer rows.Close()
	toks := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens of %q: %w", user, err)
		}
		toks = append(toks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens of %q: %w", user, err)
	}
	return toks, nil
}

// DeleteToken revokes user's token id. A server whose token it was keeps
// running with no token id (see Server.TokenID).
func (s *Store) DeleteToken(ctx context.Context, user string, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"DELETE FROM api_tokens WHERE id = ? AND user_id = (SELECT id FROM users WHERE name = ?)", id, user)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("delete token a%d of %q: %w", id, user, err)
	}
	return nil
}

// DeleteTokensBySession revokes every token issued through the hub session
// sessionID, which is what logging out does to the OAuth tokens held in
// server cookies. It reports how many went; none is not an error.
func (s *Store) DeleteTokensBySession(ctx context.Context, sessionID string) (int64, error) {
	if sessionID == "" {
		return 0, errors.New("delete tokens by session: the session id is empty")
	}
	n, err := s.deleteTokensWhere(ctx, "session_id = ?", sessionID)
	if err != nil {
		return 0, fmt.Errorf("delete tokens of session %s: %w", sessionID, err)
	}
	return n, nil
}

// DeleteTokensByClient revokes every token issued to the OAuth client. It
// reports how many went; none is not an error.
func (s *Store) DeleteTokensByClient(ctx context.Context, clientID string) (int64, error) {
	if clientID == "" {
		return 0, errors.New("delete tokens by client: the client id is empty")
	}
	n, err := s.deleteTokensWhere(ctx, "client_id = ?", clientID)
	if err != nil {
		return 0, fmt.Errorf("delete tokens of client %s: %w", clientID, err)
	}
	return n, nil
}

func (s *Store) deleteTokensWhere(ctx context.Context, cond string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM api_tokens WHERE "+cond, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
