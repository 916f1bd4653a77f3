package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/classhub/classhub/internal/testclock"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openTest opens a store in a fresh directory, closed at cleanup.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "classhub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// openClocked is openTest with a fake clock, starting at a time with a
// non-zero microsecond part so that precision loss would show.
func openClocked(t *testing.T) (*Store, *testclock.Clock) {
	t.Helper()
	s := openTest(t)
	c := testclock.New(time.Date(2024, 5, 1, 9, 0, 0, 123456789, time.FixedZone("CEST", 2*3600)))
	s.now = c.Now
	return s, c
}

func mustUser(t *testing.T, s *Store, name string) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenSettings(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "10000"},
		{"writer", "query_only", "0"},
		{"reader", "journal_mode", "wal"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "10000"},
		{"reader", "query_only", "1"},
		{"writer", "user_version", fmt.Sprint(len(migrations))},
	} {
		db := s.w
		if tc.pool == "reader" {
			db = s.r
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("the read pool accepted a write")
	}
	// The WAL exists once something was written; all files are private.
	mustUser(t, s, "alice")
	for _, p := range []string{s.Path(), s.Path() + "-wal", s.Path() + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), perm)
		}
	}
}

func TestOpenPathNeedsNoEscapingByCaller(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my class #1 ?50% off")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state?.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "state?.db" {
		t.Fatalf("files in the folder: %q, want just state?.db", names)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", filepath.Join(t.TempDir(), "missing", "x.db")} {
		if s, err := Open(path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestPrune(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "c", RedirectURI: "/cb", Owner: "alice"}, "sec"); err != nil {
		t.Fatal(err)
	}
	// One of each that expires in a minute, one of each that lives on.
	for _, ttl := range []time.Duration{time.Minute, time.Hour} {
		if _, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI, ExpiresIn: ttl}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCode(ctx, CodeSpec{ClientID: "c", User: "alice", RedirectURI: "/cb", TTL: ttl}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateSession(ctx, "alice", ttl); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateLoginLink(ctx, "alice", ttl); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI}); err != nil { // never expires
		t.Fatal(err)
	}
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune before anything expired = %d, %v; want 0", n, err)
	}
	clk.Advance(time.Minute)
	if n, err := s.Prune(ctx); err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4", n, err)
	}
	for table, want := range map[string]int{"api_tokens": 2, "oauth_codes": 1, "sessions": 1, "login_links": 1} {
		if got := count(t, s, "SELECT count(*) FROM "+table); got != want {
			t.Errorf("%s has %d rows after Prune, want %d", table, got, want)
		}
	}
}

// TestSecretsNotStoredInPlaintext greps every file of the database, before
// and after the WAL is checkpointed, for the secrets the store handed out.
func TestSecretsNotStoredInPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustUser(t, s, "alice")
	const note = "note-marker-7d1e"
	apiSecret, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI, Note: note})
	if err != nil {
		t.Fatal(err)
	}
	serverSecret, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	// As in JupyterHub, the server's token is also its OAuth client secret.
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "jupyterhub-user-alice", RedirectURI: "/user/alice/oauth_callback", Owner: "alice"}, serverSecret); err != nil {
		t.Fatal(err)
	}
	code, err := s.CreateCode(ctx, CodeSpec{ClientID: "jupyterhub-user-alice", User: "alice", RedirectURI: "/user/alice/oauth_callback"})
	if err != nil {
		t.Fatal(err)
	}
	oauthSecret, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, ClientID: "jupyterhub-user-alice"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := s.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const setupCode = "K7MQX3PHW9RT"
	if err := s.PutSetupCode(ctx, "alice", setupCode, time.Hour); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"api token": apiSecret, "server token": serverSecret, "oauth token": oauthSecret, "code": code,
		"login link": link, "setup code": setupCode}

	check := func(when string) {
		t.Helper()
		var all []byte
		for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		for what, secret := range secrets {
			raw, err := hex.DecodeString(secret)
			if bytes.Contains(all, []byte(secret)) || bytes.Contains(all, bytes.ToUpper([]byte(secret))) || err == nil && bytes.Contains(all, raw) {
				t.Errorf("%s: the %s is in the database files in plain text", when, what)
			}
		}
		// The check must be able to see stored data at all.
		if !bytes.Contains(all, []byte(note)) || !bytes.Contains(all, []byte(hashSecret(apiSecret))) {
			t.Errorf("%s: the files hold neither the note nor the token's hash; the grep looks in the wrong place", when)
		}
	}
	check("with the WAL")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after checkpoint")
}

const kill9Env = "CLASSHUB_STORE_KILL9_CHILD"

// TestKill9Durability runs a child process that commits rows and reports
// each commit on stdout, SIGKILLs it mid-stream, and checks that every
// reported commit survived.
func TestKill9Durability(t *testing.T) {
	if path := os.Getenv(kill9Env); path != "" {
		kill9Child(path)
		return
	}
	path := filepath.Join(t.TempDir(), "classhub.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Durability$")
	cmd.Env = append(os.Environ(), kill9Env+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	var secret string
	var users []string
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(users) < 40 {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "token "):
			secret = strings.TrimPrefix(line, "token ")
		case strings.HasPrefix(line, "user "):
			users = append(users, strings.TrimPrefix(line, "user "))
		}
	}
	if secret == "" || len(users) < 40 {
		t.Fatalf("the child reported token %q and %d users before stopping; stderr:\n%s", secret, len(users), stderr.String())
	}
	// The child is still writing when it dies.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)
	err = cmd.Wait()
	killed = true
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
	}
	// Nothing checkpointed the WAL, so reopening must replay it.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL left behind by the killed child (%v); the test would not exercise recovery", err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var integrity string
	if err := s.w.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	tok, err := s.LookupToken(ctx, secret)
	if err != nil || tok.User != "teacher" {
		t.Fatalf("token committed before the kill: %+v, %v", tok, err)
	}
	for _, name := range users {
		if _, err := s.GetUser(ctx, name); err != nil {
			t.Errorf("user committed before the kill: %v", err)
		}
	}
}

// kill9Child writes until it is killed; a parent that goes away kills it
// too (SIGPIPE on stdout), and a deadline stops it should both fail.
func kill9Child(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, NewUser{Name: "teacher", Admin: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	secret, _, err := s.CreateToken(ctx, TokenSpec{User: "teacher", Kind: KindAPI})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("token %s\n", secret)
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		name := fmt.Sprintf("student%05d", i)
		if _, err := s.CreateUser(ctx, NewUser{Name: name}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("user %s\n", name)
	}
	os.Exit(3)
}
