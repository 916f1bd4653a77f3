package store

import (
	"context"
	"testing"
	"time"
)

func TestStudentsCountsThoseWhoCameIn(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	check := func(step string, wantStudents, wantJoined int) {
		t.Helper()
		students, joined, err := s.Students(ctx)
		if err != nil || students != wantStudents || joined != wantJoined {
			t.Errorf("%s: %d students, %d joined, %v; want %d, %d", step, students, joined, err, wantStudents, wantJoined)
		}
	}
	check("empty", 0, 0)
	if _, err := s.CreateUser(ctx, NewUser{Name: "teacher", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateSession(ctx, "teacher", time.Hour); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustUser(t, s, "carol")
	check("an instructor logged in, no student", 3, 0)

	if _, _, err := s.CreateSession(ctx, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateSession(ctx, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	check("alice logged in twice", 3, 1)
	if err := s.RecordUserActivity(ctx, "bob", time.Now()); err != nil {
		t.Fatal(err)
	}
	check("bob used his server", 3, 2)
	if _, err := s.DeleteSessionsForUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	check("alice logged out", 3, 1)
}
