package store

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateExternalUser adds a user who logs in with the external login
// provider ("github", "oidc") and has no password, in one transaction so
// that no account exists half made. It returns ErrExists when the name is
// taken.
func (s *Store) CreateExternalUser(ctx context.Context, nu NewUser, provider string) (User, error) {
	if nu.Name == "" || provider == "" {
		return User{}, fmt.Errorf("create user %q for %q: the name or the login is empty", nu.Name, provider)
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"INSERT INTO users (name, admin, created, cookie_id) VALUES (?, ?, ?, ?) RETURNING "+userColumns,
			nu.Name, nu.Admin, s.micros(), newSecret(16)))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO external_logins (user_id, provider) VALUES (?, ?)", u.ID, provider)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q for %s login: %w", nu.Name, provider, err)
	}
	return u, nil
}

// ExternalLogin returns the provider user logs in with, "" for a user with
// a classhub password (or none yet), and ErrNotFound for no such user.
func (s *Store) ExternalLogin(ctx context.Context, user string) (string, error) {
	var provider sql.NullString
	err := s.r.QueryRowContext(ctx,
		"SELECT e.provider FROM users u LEFT JOIN external_logins e ON e.user_id = u.id WHERE u.name = ?", user).Scan(&provider)
	if err != nil {
		return "", fmt.Errorf("login of user %q: %w", user, classify(err))
	}
	return provider.String, nil
}
