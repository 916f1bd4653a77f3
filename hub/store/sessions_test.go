package store

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	se, err := s.CreateSession(ctx, "alice", 14*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UTC().Truncate(time.Microsecond)
	if b, err := hex.DecodeString(se.ID); err != nil || len(b) != 16 {
		t.Errorf("session id %q is not 32 hex characters", se.ID)
	}
	if b, err := hex.DecodeString(se.CSRFSecret); err != nil || len(b) != 32 {
		t.Errorf("CSRF secret %q is not 32 random bytes in hex", se.CSRFSecret)
	}
	if se.User != "alice" || se.Created != now || se.LastSeen != now || se.ExpiresAt != now.Add(14*24*time.Hour) {
		t.Errorf("created %+v", se)
	}
	other, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == se.ID || other.CSRFSecret == se.CSRFSecret {
		t.Error("two sessions share an id or CSRF secret")
	}
	got, err := s.GetSession(ctx, se.ID)
	if err != nil || got != se {
		t.Errorf("GetSession = %+v, %v; want %+v", got, err, se)
	}

	// last_seen is written at most once a minute.
	clk.Advance(59 * time.Second)
	if got, _ := s.GetSession(ctx, se.ID); got.LastSeen != now {
		t.Errorf("after 59 s LastSeen = %v, want %v", got.LastSeen, now)
	}
	clk.Advance(time.Second)
	if got, _ := s.GetSession(ctx, se.ID); got.LastSeen != now.Add(time.Minute) {
		t.Errorf("after 60 s LastSeen = %v", got.LastSeen)
	}
	var stored int64
	if err := s.r.QueryRow("SELECT last_seen FROM sessions WHERE id = ?", se.ID).Scan(&stored); err != nil || stored != now.Add(time.Minute).UnixMicro() {
		t.Errorf("stored last_seen %d, %v", stored, err)
	}

	clk.Advance(time.Hour - time.Minute)
	if _, err := s.GetSession(ctx, other.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}

	if _, err := s.CreateSession(ctx, "bob", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, se.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, se.ID); !errors.Is(err, ErrNotFound) {
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
		{"missing user", ErrNotFound, func() error { _, err := s.CreateSession(ctx, "carol", time.Hour); return err }},
		{"zero lifetime", nil, func() error { _, err := s.CreateSession(ctx, "alice", 0); return err }},
		{"sessions of missing user", ErrNotFound, func() error { _, err := s.DeleteSessionsForUser(ctx, "carol"); return err }},
	} {
		if err := tc.do(); err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
