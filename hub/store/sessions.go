package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Session is a browser's hub session, the jupyterhub-session-id cookie.
//
// The id is stored in clear, because it is not a credential: JupyterHub
// sends the cookie on path / to every single-user server the browser visits
// and hands it back in GET /hub/api/user, so servers see it. Authenticate
// browsers with the signed hub login cookie (User.CookieID); use the session
// for its CSRF secret, for expiry, and to revoke what was issued through it.
type Session struct {
	// ID is 32 hex characters, like JupyterHub's uuid4 hex.
	ID   string
	User string
	// CSRFSecret keys the session's anti-forgery tokens.
	CSRFSecret string
	Created    time.Time
	// LastSeen is written at most once a minute.
	LastSeen  time.Time
	ExpiresAt time.Time
}

const sessionColumns = "s.id, u.name, s.csrf_secret, s.created, s.last_seen, s.expires_at"

const sessionFrom = " FROM sessions s JOIN users u ON u.id = s.user_id "

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var se Session
	var created, seen, expires int64
	if err := row.Scan(&se.ID, &se.User, &se.CSRFSecret, &created, &seen, &expires); err != nil {
		return Session{}, err
	}
	se.Created = goTime(sql.NullInt64{Int64: created, Valid: true})
	se.LastSeen = goTime(sql.NullInt64{Int64: seen, Valid: true})
	se.ExpiresAt = goTime(sql.NullInt64{Int64: expires, Valid: true})
	return se, nil
}

// CreateSession starts a session for user that lasts ttl.
func (s *Store) CreateSession(ctx context.Context, user string, ttl time.Duration) (Session, error) {
	if ttl <= 0 {
		return Session{}, fmt.Errorf("create session for %q: lifetime %v must be positive", user, ttl)
	}
	now := s.nowUTC()
	var se Session
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		id := newSecret(16)
		_, err = tx.ExecContext(ctx,
			"INSERT INTO sessions (id, user_id, csrf_secret, created, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			id, uid, newSecret(32), now.UnixMicro(), now.UnixMicro(), now.Add(ttl).UnixMicro())
		if err != nil {
			return err
		}
		se, err = scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+sessionFrom+"WHERE s.id = ?", id))
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("create session for %q: %w", user, err)
	}
	return se, nil
}

// GetSession returns the session id, or ErrNotFound if it does not exist or
// has expired. A use is recorded in LastSeen, written at most once a minute.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	se, err := scanSession(s.r.QueryRowContext(ctx, "SELECT "+sessionColumns+sessionFrom+"WHERE s.id = ?", id))
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", classify(err))
	}
	now := s.nowUTC()
	if !now.Before(se.ExpiresAt) {
		return Session{}, fmt.Errorf("get session: expired: %w", ErrNotFound)
	}
	if now.Sub(se.LastSeen) >= activityResolution {
		_, err := s.w.ExecContext(ctx, "UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen <= ?",
			now.UnixMicro(), id, now.Add(-activityResolution).UnixMicro())
		if err != nil {
			return Session{}, fmt.Errorf("get session: record use: %w", classify(err))
		}
		se.LastSeen = now
	}
	return se, nil
}

// DeleteSession ends the session id. Tokens issued through it stay until
// DeleteTokensBySession revokes them; logging out does both.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsForUser ends every session of user and reports how many
// there were.
func (s *Store) DeleteSessionsForUser(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", uid)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %q: %w", user, err)
	}
	return n, nil
}
