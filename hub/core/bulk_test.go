package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStartManyReportsFailuresNotRunningOrCancelledStarts(t *testing.T) {
	f := newFixture(t, "alice", "bob", "carol", "dave")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	f.sp.FailWith("bob", errors.New("no such image"))
	out := f.hub.StartMany(ctx, []string{"alice", "bob", "carol", "nobody"})
	for i, want := range []string{"", "no such image", "", "no such user"} {
		o := out[i]
		if want == "" && o.Err != nil || want != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), want)) {
			t.Errorf("%s: %v, want %q", o.User, o.Err, want)
		}
	}
	if s, _ := f.hub.Status(ctx, "carol"); !s.Ready {
		t.Errorf("carol after StartMany: %+v, want ready", s)
	}
	if s, _ := f.hub.Status(ctx, "dave"); s.Active() {
		t.Errorf("dave was not asked, yet %+v", s)
	}
}

func TestStartManyLeavesSlowStartsGoingWhenCtxEnds(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.slowSpawn = time.Minute
	ctx := context.Background()
	f.hub.Boot(ctx)
	release := f.sp.Hold("alice")
	wait, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if out := f.hub.StartMany(wait, []string{"alice"}); out[0].Err != nil {
		t.Errorf("a start still under way failed: %v", out[0].Err)
	}
	release()
	if s, err := f.hub.Wait(ctx, "alice"); err != nil || !s.Ready {
		t.Errorf("alice's start did not go on: %+v, %v", s, err)
	}
}

func TestStopManyTakesAStopUnderWayForDone(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	f.mustStart(t, "bob")
	release := f.sp.HoldStop("bob")
	stopped := make(chan error, 1)
	go func() { stopped <- f.hub.Stop(ctx, "bob", false) }()
	for s, _ := f.hub.Status(ctx, "bob"); s.Pending != PendingStop; s, _ = f.hub.Status(ctx, "bob") {
		time.Sleep(time.Millisecond)
	}
	out := f.hub.StopMany(ctx, []string{"alice", "bob"})
	if err := Errors(out); err != nil {
		t.Errorf("StopMany = %v, want no failure", err)
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		if s, _ := f.hub.Status(ctx, name); s.Active() {
			t.Errorf("%s after StopMany: %+v", name, s)
		}
	}
}

func TestStartAllAsksEveryStoppedServer(t *testing.T) {
	f := newFixture(t, "alice", "bob", "carol")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	n, err := f.hub.StartAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("StartAll = %d, %v; want 2", n, err)
	}
	// StartAll does not wait: the starts reach the spawner in the
	// background.
	f.waitSpawnerStarts(t, "bob", 1)
	f.waitSpawnerStarts(t, "carol", 1)
	if f.sp.Starts("alice") != 1 {
		t.Errorf("alice's running server was started again")
	}
}
