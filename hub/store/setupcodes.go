package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PutSetupCode gives user a one-time setup code, valid until ttl passes,
// replacing the one they had: their first login chooses a password with it
// (RedeemSetupCode). The caller makes the code and hands it out; the
// database keeps its hash.
func (s *Store) PutSetupCode(ctx context.Context, user, code string, ttl time.Duration) error {
	if code == "" || ttl <= 0 {
		return fmt.Errorf("set up code for %q: the code is empty or its lifetime %v is not positive", user, ttl)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		return putSetupCode(ctx, tx, uid, code, s.nowUTC(), ttl)
	})
	if err != nil {
		return fmt.Errorf("set up code for %q: %w", user, err)
	}
	return nil
}

func putSetupCode(ctx context.Context, tx *sql.Tx, uid int64, code string, now time.Time, ttl time.Duration) error {
	_, err := tx.ExecContext(ctx,
		"INSERT OR REPLACE INTO setup_codes (user_id, hash, created, expires_at) VALUES (?, ?, ?, ?)",
		uid, hashSecret(code), now.UnixMicro(), now.Add(ttl).UnixMicro())
	return err
}

// ErrBadCode is a setup code that is wrong, used, expired, or not the
// named user's.
var ErrBadCode = errors.New("wrong or expired setup code")

// RedeemSetupCode checks that code is user's setup code and, if so, sets
// their password to hash (a bcrypt string made by the caller), deletes the
// code and ends their sessions, in one transaction: of two people using the
// same code at once exactly one succeeds. Otherwise it returns ErrBadCode
// and changes nothing. An instructor has no setup code (UpdateUser drops
// it), so none is redeemed for one.
func (s *Store) RedeemSetupCode(ctx context.Context, user, code, hash string) (User, error) {
	if hash == "" {
		return User{}, fmt.Errorf("redeem the setup code of %q: the password hash is empty", user)
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var stored string
		var expires int64
		err := tx.QueryRowContext(ctx,
			"SELECT c.hash, c.expires_at FROM setup_codes c JOIN users u ON u.id = c.user_id WHERE u.name = ? AND NOT u.admin",
			user).Scan(&stored, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(hashSecret(code))) != 1 || s.micros() >= expires {
			return ErrBadCode
		}
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE users SET password_hash = ?, must_set_password = 0 WHERE name = ? RETURNING "+userColumns, hash, user))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM setup_codes WHERE user_id = ?", u.ID); err != nil {
			return err
		}
		_, err = endSessions(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("redeem the setup code of %q: %w", user, err)
	}
	return u, nil
}

// HasSetupCode reports whether user has a setup code that has not expired.
func (s *Store) HasSetupCode(ctx context.Context, user string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx,
		"SELECT count(*) FROM setup_codes c JOIN users u ON u.id = c.user_id WHERE u.name = ? AND c.expires_at > ?",
		user, s.micros()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("setup code of %q: %w", user, classify(err))
	}
	return n > 0, nil
}

// Credentials are what ResetCredentials gives a user in place of what they
// had.
type Credentials struct {
	// PasswordHash is the new password's bcrypt hash, or "" for none: the
	// user then waits for a first password (MustSetPassword).
	PasswordHash string
	// SetupCode, unless "", is the new one-time code for that first
	// password, valid for CodeTTL.
	SetupCode string
	CodeTTL   time.Duration
}

// ResetCredentials replaces user's password and setup code with c and
// takes away every way in they had: sessions, API and OAuth tokens, OAuth
// codes and login links, in one transaction. The server's own token
// (KindServer) stays, so a running server keeps running; it records the
// time in User.Reset, and a server token issued before then must not be
// reused at the next start.
func (s *Store) ResetCredentials(ctx context.Context, user string, c Credentials) (User, error) {
	if c.SetupCode != "" && c.CodeTTL <= 0 {
		return User{}, fmt.Errorf("reset %q: the setup code's lifetime %v is not positive", user, c.CodeTTL)
	}
	now := s.nowUTC()
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE users SET password_hash = ?, must_set_password = ?, reset = ? WHERE name = ? RETURNING "+userColumns,
			nullString(c.PasswordHash), c.PasswordHash == "", now.UnixMicro(), user))
		if err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, u.ID); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM api_tokens WHERE user_id = ? AND kind <> '" + KindServer + "'",
			"DELETE FROM oauth_codes WHERE user_id = ?",
			"DELETE FROM login_links WHERE user_id = ?",
			"DELETE FROM setup_codes WHERE user_id = ?",
		} {
			if _, err := tx.ExecContext(ctx, q, u.ID); err != nil {
				return err
			}
		}
		if c.SetupCode == "" {
			return nil
		}
		return putSetupCode(ctx, tx, u.ID, c.SetupCode, now, c.CodeTTL)
	})
	if err != nil {
		return User{}, fmt.Errorf("reset %q: %w", user, err)
	}
	return u, nil
}
