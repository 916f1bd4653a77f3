package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRecordActivity(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	if _, err := s.PutServer(ctx, Server{User: "alice", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 10, 31, 7, 123456000, time.UTC)
	check := func(step string, wantUser, wantServer time.Time) {
		t.Helper()
		u, err := s.GetUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		sv, err := s.GetServer(ctx, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		if !u.LastActivity.Equal(wantUser) || !sv.LastActivity.Equal(wantServer) {
			t.Errorf("%s: user %v, server %v; want %v, %v", step, u.LastActivity, sv.LastActivity, wantUser, wantServer)
		}
	}
	for _, step := range []struct {
		name               string
		do                 func() error
		wantUser, wantServ time.Time
	}{
		{"first report", func() error { return s.RecordActivity(ctx, "alice", "", t0) }, t0, t0},
		{"older report", func() error { return s.RecordActivity(ctx, "alice", "", t0.Add(-time.Hour)) }, t0, t0},
		{"same time", func() error { return s.RecordActivity(ctx, "alice", "", t0) }, t0, t0},
		{"newer by 1µs", func() error { return s.RecordActivity(ctx, "alice", "", t0.Add(time.Microsecond)) }, t0.Add(time.Microsecond), t0.Add(time.Microsecond)},
		{"user only", func() error { return s.RecordUserActivity(ctx, "alice", t0.Add(time.Hour)) }, t0.Add(time.Hour), t0.Add(time.Microsecond)},
		{"server behind user", func() error { return s.RecordActivity(ctx, "alice", "", t0.Add(time.Minute)) }, t0.Add(time.Hour), t0.Add(time.Minute)},
		{"user only, older", func() error { return s.RecordUserActivity(ctx, "alice", t0) }, t0.Add(time.Hour), t0.Add(time.Minute)},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		check(step.name, step.wantUser, step.wantServ)
	}

	// An unknown server changes nothing, not even the user.
	if err := s.RecordActivity(ctx, "alice", "gpu", t0.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown server: %v, want ErrNotFound", err)
	}
	check("after unknown server", t0.Add(time.Hour), t0.Add(time.Minute))
	if err := s.RecordActivity(ctx, "bob", "", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if err := s.RecordUserActivity(ctx, "bob", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}

	// A time in another zone is the same instant.
	later := t0.Add(3 * time.Hour).In(time.FixedZone("X", -7*3600))
	if err := s.RecordActivity(ctx, "alice", "", later); err != nil {
		t.Fatal(err)
	}
	check("zoned time", later, later)
}
