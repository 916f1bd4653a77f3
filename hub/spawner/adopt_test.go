package spawner

import (
	"testing"

	"github.com/classhub/classhub/hub/events"
)

// TestAdoptAfterRestart: a new Spawner (a restarted hub) finds the running
// and stopped servers of the old one and reuses the running container.
func TestAdoptAfterRestart(t *testing.T) {
	e := newTestEnv(t)
	alice, bob := e.user("alice"), e.user("bob")
	a := e.start(alice, "tok-a")
	b := e.start(bob, "tok-b")
	if err := e.d.Stop(e.ctx, bob); err != nil {
		t.Fatal(err)
	}

	bus := events.NewBus(100)
	d2 := New(e.cli, Options{Config: e.cfg, Bus: bus})
	list, err := d2.Adopt(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]Server{}
	for _, s := range list {
		byUser[s.User] = s
	}
	if len(byUser) != len(list) {
		t.Errorf("a user is listed twice: %+v", list)
	}
	ga, gb := byUser[alice], byUser[bob]
	if ga.State != StateRunning || ga.ID != a.ID || ga.Target != a.Target || ga.APIToken != "tok-a" || ga.Prefix != a.Prefix {
		t.Errorf("adopted alice = %+v, want running at %s", ga, a.Target)
	}
	if gb.State != StateStopped || gb.ID != b.ID || gb.Target != "" {
		t.Errorf("adopted bob = %+v, want stopped", gb)
	}
	// The adopted server is reused, not recreated.
	again, err := d2.Start(e.ctx, e.req(alice, "tok-a"))
	if err != nil || again.ID != a.ID {
		t.Errorf("Start after adoption = %+v, %v", again, err)
	}
	// A hub that came back on another port: the running server could no
	// longer reach it, so it is restarted rather than kept.
	hub2 := startStubHub(t, e.net.BindAddr)
	got := collect(t, bus, func(ev events.Event) bool { return ev.Kind == events.Notice && ev.User == alice })
	req := e.req(alice, "tok-a")
	req.HubPort = hub2.port
	moved, err := d2.Start(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if moved.ID == a.ID {
		t.Error("a running server kept the old hub address")
	}
	if _, ok := got.find(events.Notice, "hub's address changed"); !ok {
		t.Errorf("no notice about the hub's address: %+v", got.all())
	}
	// List agrees (others' servers may run on this engine too).
	l2, err := d2.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, s := range l2 {
		if s.User == alice || s.User == bob {
			mine++
		}
	}
	if mine != 2 {
		t.Errorf("List has %d of this test's servers, want 2", mine)
	}
}
