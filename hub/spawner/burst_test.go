package spawner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/classhub/classhub/hub/events"
)

// TestBurst: ten users starting at once all become ready. With every slot
// held at first, all ten queue and each is told its place, which proves a
// class arriving together waits visibly instead of failing.
func TestBurst(t *testing.T) {
	e := newTestEnv(t)
	got := collect(t, e.bus, func(ev events.Event) bool { return ev.Kind == events.SpawnProgress })
	// Hold every slot so the starts queue in a known state.
	var held []func()
	for i := 0; i < e.cfg.SpawnConcurrency; i++ {
		r, err := e.d.pool.acquire(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	const n = 10
	users := make([]string, n)
	results := make([]Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = e.user(fmt.Sprintf("s%02d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.d.Start(e.ctx, e.req(users[i], "tok"))
		}()
	}
	waitFor(t, "all starts to queue", func() bool { _, q := e.d.Load(); return q == n })
	ahead := map[string]bool{}
	for _, ev := range got.all() {
		if strings.HasPrefix(ev.Message, "Queued, ") {
			ahead[ev.Message] = true
		}
	}
	for i := 0; i < n; i++ {
		if !ahead[fmt.Sprintf("Queued, %d ahead", i)] {
			t.Errorf("no start was told it had %d ahead (saw %v)", i, ahead)
		}
	}
	for _, r := range held {
		r()
	}
	wg.Wait()

	ids := map[string]bool{}
	for i, s := range results {
		if errs[i] != nil {
			t.Errorf("start %s: %v", users[i], errs[i])
			continue
		}
		if ids[s.ID] {
			t.Errorf("%s shares a container", users[i])
		}
		ids[s.ID] = true
		if code := httpStatus(t, s.Target+s.Prefix+"api"); code != 200 {
			t.Errorf("%s answers %d", users[i], code)
		}
	}
	if running, queued := e.d.Load(); running != 0 || queued != 0 {
		t.Errorf("pool after the burst: %d running, %d queued", running, queued)
	}
	// Stopping during a queued start interrupts it instead of waiting.
	r, _ := e.d.pool.acquire(e.ctx, nil)
	defer r()
	for i := 1; i < e.cfg.SpawnConcurrency; i++ {
		ri, _ := e.d.pool.acquire(e.ctx, nil)
		defer ri()
	}
	late := e.user("late")
	errc := make(chan error, 1)
	go func() { _, err := e.d.Start(e.ctx, e.req(late, "tok")); errc <- err }()
	waitFor(t, "the late start to queue", func() bool { _, q := e.d.Load(); return q == 1 })
	if err := e.d.Stop(e.ctx, late); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("the interrupted start returned %v", err)
	}
}

// TestStartCancelledInQueue: a start waiting for a slot gives up as soon as
// its context ends, leaves the queue and makes no container, so the hub
// can cancel a start stuck behind a class burst.
func TestStartCancelledInQueue(t *testing.T) {
	e := newTestEnv(t)
	for i := 0; i < e.cfg.SpawnConcurrency; i++ {
		r, err := e.d.pool.acquire(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r()
	}
	user := e.user("queued")
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { _, err := e.d.Start(ctx, e.req(user, "tok")); errc <- err }()
	waitFor(t, "the start to queue", func() bool { _, q := e.d.Load(); return q == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled start returned %v, want context.Canceled", err)
	}
	if running, queued := e.d.Load(); running != e.cfg.SpawnConcurrency || queued != 0 {
		t.Errorf("pool after the cancel: %d running, %d queued", running, queued)
	}
	if s, err := e.d.Status(e.ctx, user); err != nil || s.State != StateMissing {
		t.Errorf("status after the cancel = %+v, %v; want no container", s, err)
	}
}
