package spawner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/docker/docker/api/types/container"
	dockerevents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/client"
)

// noEvents is an engine whose event stream is broken, a fault the real
// engine does not produce on demand: Watch must fall back to polling.
type noEvents struct{ client.APIClient }

func (noEvents) Events(ctx context.Context, _ dockerevents.ListOptions) (<-chan dockerevents.Message, <-chan error) {
	errs := make(chan error, 1)
	errs <- errors.New("event stream unavailable")
	return make(chan dockerevents.Message), errs
}

func TestWatchEvents(t *testing.T) {
	testWatch(t, false)
}

func TestWatchPollingFallback(t *testing.T) {
	testWatch(t, true)
}

// testWatch kills one adopted server and removes another behind the hub's
// back, and expects both reported; the hub's own stop is not reported as
// a surprise.
func testWatch(t *testing.T, broken bool) {
	e := newTestEnv(t)
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	a := e.start(alice, "tok")
	b := e.start(bob, "tok")
	e.start(carol, "tok")

	bus := events.NewBus(1000)
	var cli client.APIClient = e.cli
	poll := time.Hour // only events can report in time
	if broken {
		cli, poll = noEvents{e.cli}, 200*time.Millisecond
	}
	d2 := New(cli, Options{Config: e.cfg, Bus: bus, PollInterval: poll, StopTimeout: 3 * time.Second})
	if _, err := d2.Adopt(e.ctx); err != nil {
		t.Fatal(err)
	}
	got := collect(t, bus, nil)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- d2.Watch(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v", err)
		}
	})
	// No need to wait for Watch to subscribe: its first look after
	// subscribing catches whatever happened before.
	if err := d2.Stop(e.ctx, carol); err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerKill(e.ctx, a.ID, "KILL"); err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerRemove(e.ctx, b.ID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	has := func(user string, kind events.Kind, state, text string) func() bool {
		return func() bool {
			for _, ev := range got.all() {
				if ev.User == user && ev.Kind == kind && (state == "" || ev.State == state) && strings.Contains(ev.Message, text) {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, "alice's kill to be reported", has(alice, events.Notice, "", "stopped outside classhub (exit code 137)"))
	waitFor(t, "alice's state", has(alice, events.ServerState, string(StateStopped), ""))
	waitFor(t, "bob's removal to be reported", has(bob, events.Notice, "", "removed outside classhub"))
	waitFor(t, "bob's state", has(bob, events.ServerState, string(StateMissing), ""))
	// Carol was stopped by the hub itself: a state change, no notice.
	if has(carol, events.Notice, "", "")() {
		t.Errorf("the hub's own stop was reported as a surprise: %+v", got.all())
	}
	if !has(carol, events.ServerState, string(StateStopped), "Stopped")() {
		t.Error("carol's stop was not published")
	}
}
