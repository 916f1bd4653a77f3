// Package store keeps classhub's state in one embedded SQLite file: users,
// API tokens, OAuth clients and codes, sessions, servers and login links, with
// JupyterHub's semantics (see shared/research/jupyterhub-protocol.md §2, §3,
// §5, §6). It uses the pure-Go driver modernc.org/sqlite, so classhub stays a
// single static binary.
//
// Durability: the file is in WAL mode with synchronous=FULL. WAL alone makes a
// committed transaction survive the process being killed (kill -9, a crash, the
// tray being force-quit): the commit is in the WAL file, which the OS keeps,
// and the next Open replays it. synchronous=NORMAL would give exactly that, but
// a transaction committed just before the machine loses power could be rolled
// back. classhub runs on laptops whose batteries die, and a rolled-back commit
// is not harmless here: a server container could be running with an API token
// the hub no longer knows, or a person could lose the password they just set.
// FULL costs one fsync of the WAL per commit, and the hub commits rarely (logins,
// spawns, activity coalesced to once a minute per token), so the price is
// invisible.
//
// Secrets (API tokens, OAuth client secrets and codes, login links, login
// cookies) are stored only as SHA-256 hashes. They are 256-bit random values
// generated here, so no dictionary or precomputed table can invert their
// hashes and a salt, which defends low-entropy secrets such as passwords,
// would buy nothing; leaving the hash unsalted lets a lookup be one indexed
// equality. Setup codes are shorter (about 59 bits, to be read out and typed
// off paper) and hashed the same way: the login throttle and their expiry
// keep them from being guessed. Password hashes are
// bcrypt strings made by the caller and stored as they are.
//
// Times are stored as integer microseconds since the Unix epoch and returned in
// UTC; a NULL time is returned as the zero time.Time.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound reports that the thing asked for does not exist, has expired or
// (for secrets) does not match.
var ErrNotFound = errors.New("not found")

// ErrExists reports that a thing with the same unique name or id exists.
var ErrExists = errors.New("already exists")

// busyTimeout is how long a statement waits for another connection or
// process (say `classhub users add` while the hub runs) to release the write
// lock. Transactions here are a few small statements, so waiting is far
// better than failing, and ten seconds only runs out when something is stuck.
const busyTimeout = 10 * time.Second

// readConns bounds the read pool. WAL lets readers run beside the writer, and
// a classroom never needs many at once.
const readConns = 4

// Store is classhub's state. Its methods are safe for concurrent use.
type Store struct {
	path string
	// w is the only connection that writes. Serialising writers in Go rather
	// than in SQLite's busy handler keeps them in order and fast, and every
	// transaction on it begins IMMEDIATE, so a read-then-write transaction
	// never fails to upgrade its lock.
	w *sql.DB
	// r serves reads outside transactions, alongside w.
	r *sql.DB
	// now is the clock; tests replace it.
	now func() time.Time
}

// Open opens or creates the database at path, brings its schema up to date
// and returns the Store. The file is created readable by its owner only: it
// holds password hashes.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("open classhub database: need a file path, got %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open classhub database %s: %w", path, err)
	}
	// SQLite creates the -wal and -shm files with the main file's mode, so
	// making this one private makes all three private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open classhub database %s: %w; check that the folder exists and is writable", abs, err)
	}
	f.Close()

	s := &Store{path: abs, now: time.Now}
	s.w, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("open classhub database %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.w.SetConnMaxLifetime(0)

	ctx := context.Background()
	var mode string
	if err := waitBusy(func() error { return s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode) }); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open classhub database %s: %w", abs, err)
	}
	if mode != "wal" {
		s.w.Close()
		return nil, fmt.Errorf("open classhub database %s: journal mode is %q, not wal; keep the data folder on a local disk, not a network share", abs, mode)
	}
	if err := waitBusy(func() error { return migrate(ctx, s.w, migrations) }); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open classhub database %s: %w", abs, err)
	}

	s.r, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open classhub database %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)
	return s, nil
}

// dsn builds the driver's connection string. The path is escaped because the
// "file:" form is parsed as a URI.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), OmitHost: true, RawQuery: q.Encode()}
	return u.String()
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the database. SQLite checkpoints the WAL into the main file
// when the last connection closes.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Prune deletes expired tokens, OAuth codes, sessions, login links and
// setup codes and reports how many rows went. Lookups already ignore expired rows; this only
// keeps the file small.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	now := s.micros()
	var total int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"api_tokens", "oauth_codes", "sessions", "login_links", "setup_codes"} {
			res, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE expires_at IS NOT NULL AND expires_at <= ?", now)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune expired rows: %w", err)
	}
	return total, nil
}

// write runs fn in one IMMEDIATE transaction on the writer connection and
// commits it if fn returns nil. fn must use tx only: the writer has one
// connection, so touching s.w inside fn would wait forever.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return classify(err)
	}
	return classify(tx.Commit())
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// waitBusy runs fn again while SQLite answers SQLITE_BUSY, for up to
// busyTimeout. The first connection to a new file switches it to WAL (in
// its DSN's pragmas), and SQLite answers a second connection doing the
// same at that moment (two classhub processes starting together) at once,
// without its busy handler.
func waitBusy(fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		err := fn()
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
	}
}

// classify maps SQLite's errors onto ErrExists and ErrNotFound, keeping the
// original in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: refers to something that does not exist: %w", ErrNotFound, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("the classhub database stayed locked by another process for %v; close other classhub windows or commands and try again: %w", busyTimeout, err)
		}
	}
	return err
}

// micros is the current time as stored.
func (s *Store) micros() int64 { return s.now().UnixMicro() }

// nowUTC is the current time as returned: UTC, microsecond precision.
func (s *Store) nowUTC() time.Time { return time.UnixMicro(s.micros()).UTC() }

// dbTime converts t for storage; the zero time becomes NULL.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// goTime converts a stored time back; NULL becomes the zero time.
func goTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// newSecret returns n random bytes as hex.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand.Read crashes the program instead
	return hex.EncodeToString(b)
}

// hashSecret is how secrets are stored and looked up (see the package doc).
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// encodeScopes stores a scope list as a JSON array; nil becomes [].
func encodeScopes(scopes []string) string {
	if scopes == nil {
		scopes = []string{}
	}
	b, _ := json.Marshal(scopes)
	return string(b)
}

func decodeScopes(s string) ([]string, error) {
	scopes := []string{}
	if err := json.Unmarshal([]byte(s), &scopes); err != nil {
		return nil, fmt.Errorf("stored scopes %q: %w", s, err)
	}
	return scopes, nil
}

// userID resolves a user name inside a transaction.
func userID(ctx context.Context, q querier, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT id FROM users WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return id, err
}
