package core

import (
	"context"
	"testing"
	"time"
)

func TestClassCountsStudentsWhoJoinedAndRunningServers(t *testing.T) {
	f := newFixture(t, "alice", "bob", "carol")
	ctx := context.Background()
	if _, err := f.hub.AddUsers(ctx, []string{"teacher"}, true); err != nil {
		t.Fatal(err)
	}
	check := func(step string, want Class) {
		t.Helper()
		if got, err := f.hub.Class(ctx); err != nil || got != want {
			t.Errorf("%s: Class() = %+v, %v; want %+v", step, got, err, want)
		}
	}
	check("nobody in", Class{Students: 3})
	if _, _, err := f.store.CreateSession(ctx, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	check("alice logged in", Class{Students: 3, Joined: 1})
	f.mustStart(t, "alice")
	f.mustStart(t, "teacher")
	check("two servers running", Class{Students: 3, Joined: 1, Running: 2})
	if err := f.hub.Stop(ctx, "teacher", false); err != nil {
		t.Fatal(err)
	}
	check("the instructor's stopped", Class{Students: 3, Joined: 1, Running: 1})
}
