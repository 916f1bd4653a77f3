package store

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	secret, se, err := s.CreateSession(ctx, "alice", 14*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UTC().Truncate(time.Microsecond)
	if b, err := hex.DecodeString(se.ID); err != nil || len(b) != 16 {
		t.Errorf("session id %q is not 32 hex characters", se.ID)
	}
	if b, err := hex.DecodeString(secret); err != nil || len(b) != 32 {
		t.Errorf("session secret %q is not 32 random bytes in hex", secret)
	}
	if b, err := hex.DecodeString(se.CSRFSecret); err != nil || len(b) != 32 {
		t.Errorf("CSRF secret %q is not 32 random bytes in hex", se.CSRFSecret)
	}
	if secret == se.ID || secret == se.CSRFSecret || strings.Contains(secret, se.ID) {
		t.Error("the session's secret is its id or its CSRF secret")
	}
	if se.User != "alice" || se.Created != now || se.LastSeen != now || se.ExpiresAt != now.Add(14*24*time.Hour) {
		t.Errorf("created %+v", se)
	}
	otherSecret, other, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == se.ID || otherSecret == secret || other.CSRFSecret == se.CSRFSecret {
		t.Error("two sessions share an id, a secret or a CSRF secret")
	}
	got, err := s.LookupSession(ctx, secret)
	if err != nil || got != se {
		t.Errorf("LookupSession = %+v, %v; want %+v", got, err, se)
	}
	// The id is a handle, never a credential.
	if _, err := s.LookupSession(ctx, se.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the session id works as its secret: %v", err)
	}

	// The secret is stored only as its hash.
	var id, hash string
	if err := s.r.QueryRow("SELECT id, secret_hash FROM sessions WHERE id = ?", se.ID).Scan(&id, &hash); err != nil {
		t.Fatal(err)
	}
	if hash != hashSecret(secret) {
		t.Errorf("stored %q, want the secret's SHA-256", hash)
	}
	if n := count(t, s, "SELECT count(*) FROM sessions WHERE id = '"+secret+"' OR csrf_secret = '"+secret+"'"); n != 0 {
		t.Error("the secret is stored in clear")
	}

	// last_seen is written at most once a minute.
	clk.Advance(59 * time.Second)
	if got, _ := s.LookupSession(ctx, secret); got.LastSeen != now {
		t.Errorf("after 59 s LastSeen = %v, want %v", got.LastSeen, now)
	}
	clk.Advance(time.Second)
	if got, _ := s.LookupSession(ctx, secret); got.LastSeen != now.Add(time.Minute) {
		t.Errorf("after 60 s LastSeen = %v", got.LastSeen)
	}
	var stored int64
	if err := s.r.QueryRow("SELECT last_seen FROM sessions WHERE id = ?", se.ID).Scan(&stored); err != nil || stored != now.Add(time.Minute).UnixMicro() {
		t.Errorf("stored last_seen %d, %v", stored, err)
	}

	clk.Advance(time.Hour - time.Minute)
	if _, err := s.LookupSession(ctx, otherSecret); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"nope", "", strings.ToUpper(secret)} {
		if _, err := s.LookupSession(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupSession(%q): %v, want ErrNotFound", bad, err)
		}
	}

	if _, _, err := s.CreateSession(ctx, "bob", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, se.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupSession(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	if err := s.DeleteSession(ctx, se.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if n, err := s.DeleteSessionsForUser(ctx, "alice"); err != nil || n != 1 {
		t.Errorf("DeleteSessionsForUser(alice) = %d, %v; want the expired one", n, err)
	}
	if n := count(t, s, "SELECT count(*) FROM sessions"); n != 1 {
		t.Errorf("%d sessions left, want bob's", n)
	}

	for _, tc := range []struct {
		name string
		err  error
		do   func() error
	}{
		{"missing user", ErrNotFound, func() error { _, _, err := s.CreateSession(ctx, "carol", time.Hour); return err }},
		{"zero lifetime", nil, func() error { _, _, err := s.CreateSession(ctx, "alice", 0); return err }},
		{"sessions of missing user", ErrNotFound, func() error { _, err := s.DeleteSessionsForUser(ctx, "carol"); return err }},
	} {
		if err := tc.do(); err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestDeleteSessionsForUserRevokesTheirTokens: ending someone's logins
// (a password reset) also ends what servers hold through them.
func TestDeleteSessionsForUserRevokesTheirTokens(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	_, sess, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, bobSess, err := s.CreateSession(ctx, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	viaSession, _, _ := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, SessionID: sess.ID})
	apiTok, _, _ := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI})
	bobs, _, _ := s.CreateToken(ctx, TokenSpec{User: "bob", Kind: KindOAuth, SessionID: bobSess.ID})
	if n, err := s.DeleteSessionsForUser(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("DeleteSessionsForUser = %d, %v", n, err)
	}
	if _, err := s.LookupToken(ctx, viaSession); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token issued through the ended session still works: %v", err)
	}
	for _, tok := range []string{apiTok, bobs} {
		if _, err := s.LookupToken(ctx, tok); err != nil {
			t.Errorf("a token of no ended session went: %v", err)
		}
	}
}

// TestSessionSecretsMigrationEndsSessions: before "session secrets" the
// login cookie was the session id, which the API handed to servers; an
// upgrade must make every such id useless, and revoke what was issued
// through them, while API and server tokens keep working.
func TestSessionSecretsMigrationEndsSessions(t *testing.T) {
	path := dbBefore(t, "session secrets",
		`INSERT INTO users (name, created, cookie_id) VALUES ('admin', 1, 'c1')`,
		`INSERT INTO oauth_clients (id, secret_hash, redirect_uri, owner_id, created) VALUES ('jupyterhub-user-admin', 'h', '/cb', 1, 1)`,
		`INSERT INTO sessions (id, user_id, csrf_secret, created, last_seen, expires_at) VALUES ('old-cookie', 1, 'x', 1, 1, 9999999999999999)`,
		`INSERT INTO api_tokens (user_id, hash, prefix, kind, client_id, session_id, created) VALUES (1, '`+hashSecret("oauth-tok")+`', 'o', 'oauth', 'jupyterhub-user-admin', 'old-cookie', 1)`,
		`INSERT INTO api_tokens (user_id, hash, prefix, kind, created) VALUES (1, '`+hashSecret("api-tok")+`', 'a', 'api', 1)`,
		`INSERT INTO api_tokens (user_id, hash, prefix, kind, created) VALUES (1, '`+hashSecret("server-tok")+`', 's', 'server', 1)`,
		`INSERT INTO oauth_codes (hash, client_id, user_id, session_id, redirect_uri, created, expires_at) VALUES ('`+hashSecret("code")+`', 'jupyterhub-user-admin', 1, 'old-cookie', '/cb', 1, 9999999999999999)`,
	)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.LookupSession(ctx, "old-cookie"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old login cookie still works: %v", err)
	}
	if n := count(t, s, "SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("%d sessions survived the upgrade", n)
	}
	if _, err := s.LookupToken(ctx, "oauth-tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token issued through an old session survived: %v", err)
	}
	if n := count(t, s, "SELECT count(*) FROM oauth_codes"); n != 0 {
		t.Errorf("%d OAuth codes of old sessions survived", n)
	}
	for _, tok := range []string{"api-tok", "server-tok"} {
		if _, err := s.LookupToken(ctx, tok); err != nil {
			t.Errorf("%s went with the sessions: %v", tok, err)
		}
	}
	if _, _, err := s.CreateSession(ctx, "admin", time.Hour); err != nil {
		t.Errorf("a new login after the upgrade: %v", err)
	}
}

// TestEndLoopbackSessions: the sessions marked as taken at loopback, and
// those from before sessions said where, end with the tokens issued
// through them; the rest stay.
func TestEndLoopbackSessions(t *testing.T) {
	path := dbBefore(t, "sessions at loopback",
		`INSERT INTO users (name, created, cookie_id) VALUES ('admin', 1, 'c1')`,
		`INSERT INTO sessions (id, secret_hash, user_id, csrf_secret, created, last_seen, expires_at) VALUES ('older', '`+hashSecret("older-secret")+`', 1, 'x', 1, 1, 9999999999999999)`,
	)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	mustUser(t, s, "bob")
	atLoopback, se, err := s.CreateSession(ctx, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSessionAtLoopback(ctx, se.ID); err != nil {
		t.Fatal(err)
	}
	viaLoopback, _, _ := s.CreateToken(ctx, TokenSpec{User: "bob", Kind: KindOAuth, SessionID: se.ID})
	elsewhere, other, err := s.CreateSession(ctx, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	viaElsewhere, _, _ := s.CreateToken(ctx, TokenSpec{User: "bob", Kind: KindOAuth, SessionID: other.ID})
	if n, err := s.EndLoopbackSessions(ctx); err != nil || n != 2 {
		t.Fatalf("EndLoopbackSessions = %d, %v; want the older one and the one at loopback", n, err)
	}
	for what, secret := range map[string]string{"the session from before": "older-secret", "the session at loopback": atLoopback} {
		if _, err := s.LookupSession(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s still works: %v", what, err)
		}
	}
	if _, err := s.LookupToken(ctx, viaLoopback); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token issued through the session at loopback still works: %v", err)
	}
	if _, err := s.LookupSession(ctx, elsewhere); err != nil {
		t.Errorf("a session taken elsewhere ended: %v", err)
	}
	if _, err := s.LookupToken(ctx, viaElsewhere); err != nil {
		t.Errorf("a token of a session taken elsewhere went: %v", err)
	}
	if n, err := s.EndLoopbackSessions(ctx); err != nil || n != 0 {
		t.Errorf("EndLoopbackSessions again = %d, %v; want none", n, err)
	}
	if err := s.MarkSessionAtLoopback(ctx, "no-such-session"); !errors.Is(err, ErrNotFound) {
		t.Errorf("marking an unknown session: %v, want ErrNotFound", err)
	}
}

// dbBefore makes a database at the schema just before the migration
// named name, with rows inserted, and returns its path: what an older
// classhub left for this one to open.
func dbBefore(t *testing.T, name string, rows ...string) string {
	t.Helper()
	step := slices.IndexFunc(migrations, func(m migration) bool { return m.name == name })
	if step < 0 {
		t.Fatalf("no migration named %q", name)
	}
	path := t.TempDir() + "/classhub.db"
	db := rawDB(t, path)
	defer db.Close()
	if err := migrate(context.Background(), db, migrations[:step]); err != nil {
		t.Fatal(err)
	}
	for _, q := range rows {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}
