package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawDB opens path with the writer's settings but without migrating.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// schema is the database's DDL, to compare two databases' shapes.
func schema(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, ddl string
		if err := rows.Scan(&typ, &name, &ddl); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, ddl)
	}
	return b.String()
}

func TestUpgradeFromEveryOlderVersion(t *testing.T) {
	fresh := openTest(t)
	want := schema(t, fresh.w)

	for from := 0; from < len(migrations); from++ {
		t.Run(fmt.Sprintf("from v%d", from), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "classhub.db")
			db := rawDB(t, path)
			if err := migrate(context.Background(), db, migrations[:from]); err != nil {
				t.Fatal(err)
			}
			if got := userVersion(t, db); got != from {
				t.Fatalf("user_version = %d after %d steps", got, from)
			}
			// Data written by the older version, with its own SQL.
			if from >= 1 {
				_, err := db.Exec(`INSERT INTO users (name, admin, created, password_hash, must_set_password, cookie_id)
					VALUES ('alice', 1, 1714554000123456, '$2a$10$hash', 1, 'cookie-alice')`)
				if err != nil {
					t.Fatal(err)
				}
				_, err = db.Exec(`INSERT INTO api_tokens (user_id, hash, prefix, kind, scopes, created)
					VALUES (1, ?, 'abcd', 'api', '["read:users"]', 1714554000123456)`, hashSecret("old-secret"))
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := userVersion(t, s.w); got != len(migrations) {
				t.Fatalf("user_version = %d after Open, want %d", got, len(migrations))
			}
			if got := schema(t, s.w); got != want {
				t.Errorf("upgraded schema differs from a fresh one:\n%s\nwant:\n%s", got, want)
			}
			ctx := context.Background()
			if from >= 1 {
				u, err := s.GetUser(ctx, "alice")
				if err != nil {
					t.Fatal(err)
				}
				wantCreated := time.Date(2024, 5, 1, 9, 0, 0, 123456000, time.UTC)
				// An instructor waiting for a first password, whom anyone
				// could claim before setup codes, waits no more. (Versions
				// from setup codes on never write such a row.)
				claimable := u.MustSetPassword && from <= migrationIndex(t, "setup codes")
				if !u.Admin || u.PasswordHash != "$2a$10$hash" || !u.Created.Equal(wantCreated) || claimable {
					t.Errorf("alice after upgrade: %+v", u)
				}
				tok, err := s.LookupToken(ctx, "old-secret")
				if err != nil || tok.User != "alice" || len(tok.Scopes) != 1 {
					t.Errorf("old token after upgrade: %+v, %v", tok, err)
				}
			} else {
				mustUser(t, s, "alice")
			}
			// The tables of later versions work with the old rows.
			if _, err := s.PutServer(ctx, Server{User: "alice", URL: "http://172.18.0.2:8888"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateLoginLink(ctx, "alice", time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenTwiceIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, s, "alice")
	before := schema(t, s.w)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := schema(t, s.w); got != before {
		t.Errorf("schema changed on the second Open:\n%s\nwas:\n%s", got, before)
	}
	if v := userVersion(t, s.w); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	again, err := s.GetUser(context.Background(), "alice")
	if err != nil || again != u {
		t.Errorf("alice after reopening: %+v, %v; want %+v", again, err, u)
	}
}

// TestOpenConcurrently opens one new file from several goroutines at once,
// as two classhub processes starting together would: every step must run
// exactly once.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.db")
	const n = 4
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(path)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		defer stores[i].Close()
	}
	if v := userVersion(t, stores[0].w); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	mustUser(t, stores[1], "alice")
	if _, err := stores[2].GetUser(context.Background(), "alice"); err != nil {
		t.Error(err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.db")
	db := rawDB(t, path)
	defer db.Close()
	steps := append(migrations[:len(migrations):len(migrations)],
		migration{name: "broken", sql: "CREATE TABLE half_done (a); INSERT INTO no_such_table VALUES (1);"})
	err := migrate(context.Background(), db, steps)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("migrate with a broken last step: %v", err)
	}
	if v := userVersion(t, db); v != len(migrations) {
		t.Errorf("user_version = %d after the failed step, want %d", v, len(migrations))
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed step left its table behind (%d, %v)", n, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer classhub")
	}
	if !strings.Contains(err.Error(), "newer classhub") {
		t.Errorf("error does not say what happened: %v", err)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) {
		t.Errorf("error wrongly classified: %v", err)
	}
}

// migrationIndex is the position of the migration called name.
func migrationIndex(t *testing.T, name string) int {
	t.Helper()
	for i, m := range migrations {
		if m.name == name {
			return i
		}
	}
	t.Fatalf("no migration called %q", name)
	return -1
}
