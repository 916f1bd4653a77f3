package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a person who can log in.
type User struct {
	// ID orders users by creation, as JupyterHub's sort=id does.
	ID      int64
	Name    string
	Admin   bool
	Created time.Time
	// LastActivity is zero when the user was never active.
	LastActivity time.Time
	// PasswordHash is the caller's bcrypt string, "" when none is set.
	PasswordHash string
	// MustSetPassword: the user has not chosen a password yet; their
	// first login chooses it, with a setup code (RedeemSetupCode) or, where
	// the class allows it, without (ClaimPassword).
	MustSetPassword bool
	// Reset is when an instructor last reset the user's credentials, zero
	// for never.
	Reset time.Time
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Name            string
	Admin           bool
	PasswordHash    string
	MustSetPassword bool
	// SetupCode, unless "", is the user's one-time setup code, valid for
	// CodeTTL (see PutSetupCode).
	SetupCode string
	CodeTTL   time.Duration
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	Name  *string
	Admin *bool
}

// User states for ListOptions.State, as GET /hub/api/users?state= names them.
const (
	// StateActive selects users with a server that is started or pending.
	StateActive = "active"
	// StateReady selects users with a server that is ready and not pending.
	StateReady = "ready"
	// StateInactive selects users with no active server.
	StateInactive = "inactive"
)

// ListOptions selects and pages users.
type ListOptions struct {
	// Offset skips this many matching users.
	Offset int
	// Limit caps the page; 0 means no cap (the API layer applies its own).
	Limit int
	// NameFilter keeps names containing it, ignoring ASCII case.
	NameFilter string
	// State is "", StateActive, StateReady or StateInactive.
	State string
	// Sort is "id" (default), "name" or "last_activity", with a leading "-"
	// for descending.
	Sort string
}

const userColumns = "id, name, admin, created, last_activity, password_hash, must_set_password, reset"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	var last, reset sql.NullInt64
	var hash sql.NullString
	err := row.Scan(&u.ID, &u.Name, &u.Admin, &created, &last, &hash, &u.MustSetPassword, &reset)
	if err != nil {
		return User{}, err
	}
	u.Created = goTime(sql.NullInt64{Int64: created, Valid: true})
	u.LastActivity = goTime(last)
	u.Reset = goTime(reset)
	u.PasswordHash = hash.String
	return u, nil
}

// CreateUser adds a user. It returns ErrExists when the name is taken.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if nu.Name == "" {
		return User{}, errors.New("create user: the name is empty")
	}
	if nu.SetupCode != "" && nu.CodeTTL <= 0 {
		return User{}, fmt.Errorf("create user %q: the setup code's lifetime %v is not positive", nu.Name, nu.CodeTTL)
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			// cookie_id is unused (see the "session secrets" migration)
			// but must be unique.
			"INSERT INTO users (name, admin, created, password_hash, must_set_password, cookie_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING "+userColumns,
			nu.Name, nu.Admin, s.micros(), nullString(nu.PasswordHash), nu.MustSetPassword, newSecret(16)))
		if err != nil || nu.SetupCode == "" {
			return err
		}
		return putSetupCode(ctx, tx, u.ID, nu.SetupCode, s.nowUTC(), nu.CodeTTL)
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", nu.Name, err)
	}
	return u, nil
}

// GetUser returns the user called name.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
	if err != nil {
		return User{}, fmt.Errorf("get user %q: %w", name, classify(err))
	}
	return u, nil
}

// ListUsers returns one page of the users opt selects and how many it
// selects in all.
func (s *Store) ListUsers(ctx context.Context, opt ListOptions) ([]User, int, error) {
	var where []string
	var args []any
	if opt.NameFilter != "" {
		where = append(where, `name LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(opt.NameFilter)+"%")
	}
	const active = "EXISTS (SELECT 1 FROM servers s WHERE s.user_id = users.id AND (s.pending <> '' OR s.started IS NOT NULL))"
	switch opt.State {
	case "":
	case StateActive:
		where = append(where, active)
	case StateReady:
		where = append(where, "EXISTS (SELECT 1 FROM servers s WHERE s.user_id = users.id AND s.ready AND s.pending = '')")
	case StateInactive:
		where = append(where, "NOT "+active)
	default:
		return nil, 0, fmt.Errorf("list users: unknown state %q; use %q, %q or %q", opt.State, StateActive, StateReady, StateInactive)
	}
	order, err := userOrder(opt.Sort)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if opt.Offset < 0 || opt.Limit < 0 {
		return nil, 0, fmt.Errorf("list users: offset %d and limit %d must not be negative", opt.Offset, opt.Limit)
	}
	limit := opt.Limit
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}

	// One read transaction, so the count and the page agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users"+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+userColumns+" FROM users"+cond+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, limit, opt.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return users, total, nil
}

func userOrder(sort string) (string, error) {
	dir := "ASC"
	key := sort
	if strings.HasPrefix(key, "-") {
		dir, key = "DESC", key[1:]
	}
	switch key {
	case "", "id":
		return "id " + dir, nil
	case "name":
		return "name " + dir, nil
	case "last_activity":
		return "last_activity " + dir + ", id " + dir, nil
	}
	return "", fmt.Errorf("unknown sort %q; use id, name or last_activity, optionally with a leading -", sort)
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateUser renames a user or changes their admin flag. Renaming onto a
// taken name returns ErrExists. An instructor never waits for a first
// password: making someone one drops their setup code and takes them off
// the list of accounts a first login may claim, so an instructor's
// account is never claimed with a code or name handed to a student. Rows that embed the name as text (an OAuth
// client id such as "jupyterhub-user-alice", a token's scopes) are the
// caller's to redo, as in JupyterHub.
func (s *Store) UpdateUser(ctx context.Context, name string, up UserUpdate) (User, error) {
	if up.Name != nil && *up.Name == "" {
		return User{}, fmt.Errorf("update user %q: the new name is empty", name)
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE users SET name = coalesce(?, name), admin = coalesce(?, admin), "+
				"must_set_password = must_set_password AND NOT coalesce(?, admin) WHERE name = ? RETURNING "+userColumns,
			up.Name, up.Admin, up.Admin, name))
		if err != nil || !u.Admin {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM setup_codes WHERE user_id = ?", u.ID)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %q: %w", name, err)
	}
	return u, nil
}

// DeleteUser deletes a user and, through the schema's cascades, their
// tokens, sessions, servers, OAuth clients (with every token issued to
// them), codes and login links. Stopping their containers is the caller's
// job, before this.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE name = ?", name)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	return nil
}

// SetPassword stores a bcrypt hash made by the caller and clears
// MustSetPassword and any setup code. An empty hash removes the password
// and sets MustSetPassword, so the next login chooses one. Either
// way every session of the user ends, with the tokens issued through them,
// which logs the user out everywhere.
func (s *Store) SetPassword(ctx context.Context, name, hash string) (User, error) {
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE users SET password_hash = ?, must_set_password = ? WHERE name = ? RETURNING "+userColumns,
			nullString(hash), hash == "", name))
		if err != nil {
			return err
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, "DELETE FROM setup_codes WHERE user_id = ?", u.ID); err != nil {
				return err
			}
		}
		_, err = endSessions(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("set password of %q: %w", name, err)
	}
	return u, nil
}

// ClaimPassword sets the first password of a student's account that is
// waiting for one (MustSetPassword, no hash), as SetPassword does, and
// reports whether it did: a class with claim_accounts lets the first
// person to type a name choose its password. An instructor's account is
// never claimed, nor one an instructor has reset: the reset's new setup
// code is then the only way in, or a reset would hand a student's files
// to whoever types the name first. The check and the write are one
// statement, so of two people claiming the same account at once exactly
// one wins; the other, like anyone naming an account that has a password,
// is an instructor's, was reset or is not waiting for one (the laptop's
// owner), gets false and changes nothing.
func (s *Store) ClaimPassword(ctx context.Context, name, hash string) (User, bool, error) {
	if hash == "" {
		return User{}, false, fmt.Errorf("claim %q: the password hash is empty", name)
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			"UPDATE users SET password_hash = ?, must_set_password = 0 "+
				"WHERE name = ? AND must_set_password AND NOT admin AND coalesce(password_hash, '') = '' AND reset IS NULL RETURNING "+userColumns,
			hash, name))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM setup_codes WHERE user_id = ?", u.ID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, fmt.Errorf("claim %q: %w", name, err)
	}
	return u, true, nil
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
