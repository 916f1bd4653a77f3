package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Session is a browser's hub login. The browser holds the session's
// secret in the login cookie; the store keeps only its hash, and nothing
// returns it after CreateSession. The ID is a handle, not a credential: it
// is what JupyterHub's models call session_id, and the API shows it to the
// servers a user opens. Tokens issued through a session record its ID, so
// that ending the session revokes them.
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

// CreateSession starts a session for user that lasts ttl. It returns the
// session's secret, 256 random bits for the login cookie, which is not
// stored and cannot be read back.
func (s *Store) CreateSession(ctx context.Context, user string, ttl time.Duration) (string, Session, error) {
	if ttl <= 0 {
		return "", Session{}, fmt.Errorf("create session for %q: lifetime %v must be positive", user, ttl)
	}
	now := s.nowUTC()
	secret := newSecret(32)
	var se Session
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		id := newSecret(16)
		_, err = tx.ExecContext(ctx,
			"INSERT INTO sessions (id, secret_hash, user_id, csrf_secret, created, last_seen, expires_at, at_loopback) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
			id, hashSecret(secret), uid, newSecret(32), now.UnixMicro(), now.UnixMicro(), now.Add(ttl).UnixMicro())
		if err != nil {
			return err
		}
		se, err = scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+sessionFrom+"WHERE s.id = ?", id))
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for %q: %w", user, err)
	}
	return secret, se, nil
}

// LookupSession returns the session whose secret is secret, or ErrNotFound
// if there is none or it has expired. A use is recorded in LastSeen,
// written at most once a minute.
func (s *Store) LookupSession(ctx context.Context, secret string) (Session, error) {
	if secret == "" {
		return Session{}, fmt.Errorf("look up session: %w", ErrNotFound)
	}
	// An equality on the hash, as LookupToken's: its timing says nothing
	// useful about the secret.
	se, err := scanSession(s.r.QueryRowContext(ctx, "SELECT "+sessionColumns+sessionFrom+"WHERE s.secret_hash = ?", hashSecret(secret)))
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", classify(err))
	}
	now := s.nowUTC()
	if !now.Before(se.ExpiresAt) {
		return Session{}, fmt.Errorf("look up session %s: expired: %w", se.ID, ErrNotFound)
	}
	if now.Sub(se.LastSeen) >= activityResolution {
		_, err := s.w.ExecContext(ctx, "UPDATE sessions SET last_seen = ? WHERE id = ? AND last_seen <= ?",
			now.UnixMicro(), se.ID, now.Add(-activityResolution).UnixMicro())
		if err != nil {
			return Session{}, fmt.Errorf("look up session %s: record use: %w", se.ID, classify(err))
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

// MarkSessionAtLoopback records that the session id was taken by a
// browser at a loopback host (127.0.0.1, localhost), which sends its
// cookie to every port there.
func (s *Store) MarkSessionAtLoopback(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE sessions SET at_loopback = 1 WHERE id = ?", id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("mark session as taken at loopback: %w", err)
	}
	return nil
}

// EndLoopbackSessions ends every session taken at a loopback host (see
// MarkSessionAtLoopback), or from before sessions said where, revoking
// the tokens issued through them as logging out does, and reports how
// many there were.
func (s *Store) EndLoopbackSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) (err error) {
		n, err = endSessionsWhere(ctx, tx, "at_loopback = 1")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end the sessions taken at loopback: %w", err)
	}
	return n, nil
}

// DeleteSessionsForUser ends every session of user, revoking the tokens
// issued through them as logging out does, and reports how many sessions
// there were.
func (s *Store) DeleteSessionsForUser(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		n, err = endSessions(ctx, tx, uid)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %q: %w", user, err)
	}
	return n, nil
}

// endSessions deletes every session of the user with id uid and the tokens
// issued through them, inside tx, and reports how many sessions went.
func endSessions(ctx context.Context, tx *sql.Tx, uid int64) (int64, error) {
	return endSessionsWhere(ctx, tx, "user_id = ?", uid)
}

// endSessionsWhere deletes the sessions that cond (an SQL condition on
// sessions, with args) picks and the tokens issued through them, inside
// tx, and reports how many sessions went.
func endSessionsWhere(ctx context.Context, tx *sql.Tx, cond string, args ...any) (int64, error) {
	_, err := tx.ExecContext(ctx, "DELETE FROM api_tokens WHERE session_id IN (SELECT id FROM sessions WHERE "+cond+")", args...)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE "+cond, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
