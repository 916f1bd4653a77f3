package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateLoginLink makes a single-use secret that logs user in until ttl
// passes: the tray's "Open my notebook" puts it in the URL it opens, so the
// person at the laptop skips the login form. The database keeps its hash.
func (s *Store) CreateLoginLink(ctx context.Context, user string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("create login link for %q: lifetime %v must be positive", user, ttl)
	}
	secret := newSecret(tokenBytes)
	now := s.nowUTC()
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO login_links (hash, user_id, created, expires_at) VALUES (?, ?, ?, ?)",
			hashSecret(secret), uid, now.UnixMicro(), now.Add(ttl).UnixMicro())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create login link for %q: %w", user, err)
	}
	return secret, nil
}

// ConsumeLoginLink redeems a login link and returns whose it is. The first
// call deletes the link, so of racing callers at most one succeeds; unknown,
// used and expired links give ErrNotFound.
func (s *Store) ConsumeLoginLink(ctx context.Context, secret string) (string, error) {
	var user string
	var expires int64
	err := s.w.QueryRowContext(ctx,
		"DELETE FROM login_links WHERE hash = ? RETURNING (SELECT name FROM users WHERE id = user_id), expires_at",
		hashSecret(secret)).Scan(&user, &expires)
	if err != nil {
		return "", fmt.Errorf("consume login link: %w", classify(err))
	}
	if s.micros() >= expires {
		return "", fmt.Errorf("consume login link of %q: expired: %w", user, ErrNotFound)
	}
	return user, nil
}
