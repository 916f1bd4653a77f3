package spawner

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image/imagetest"
)

// TestSilentRegistryFailsThePull: a registry that takes connections and
// never answers (a captive portal, a firewall that holds them) fails the
// start with the image's sentence once the engine gives up, instead of
// holding it until someone cancels. The registry is a listener on
// loopback; nothing leaves the machine.
func TestSilentRegistryFailsThePull(t *testing.T) {
	e := newTestEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	ref := ln.Addr().String() + "/classhub-test-" + e.id + "/silent:1"
	cfg := e.cfg
	cfg.Image = ref
	d := e.spawner(cfg)
	user := e.user("sal")
	got := collect(t, e.bus, events.ForUser(user))
	// The deadline only stops a hang; the engine gives up long before.
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Minute)
	defer cancel()
	_, err = d.Start(ctx, e.req(user, "tok"))
	if ctx.Err() != nil {
		t.Fatalf("the start waited for a silent registry until the test gave up: %v", err)
	}
	if !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "registry is reachable") {
		t.Fatalf("Start = %v, want the image's sentence", err)
	}
	if ev, ok := got.find(events.SpawnProgress, ref); !ok || !ev.Failed {
		t.Errorf("no failed step names the image: %v", got.all())
	}
	mu.Lock()
	n := len(held)
	mu.Unlock()
	if n == 0 {
		t.Error("the engine never reached the silent registry, so this test proved nothing")
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(user)); err == nil {
		t.Error("a start that had no image made the user a volume")
	}
}

// TestImageWithoutItsEntrypoint: an image whose entrypoint is not in it
// fails the start with a sentence that names the image and what to check,
// and a classmate's server runs on.
func TestImageWithoutItsEntrypoint(t *testing.T) {
	e := newTestEnv(t)
	bob := e.user("bob")
	other := e.start(bob, "tok-bob")
	broken := imagetest.Derive(t, e.cli, imagetest.Spec{Base: imagetest.Classic(t, e.cli), Script: "true", Entrypoint: []string{"no-such-program"}})
	cfg := e.cfg
	cfg.Image = broken
	user := e.user("eve")
	_, err := e.spawner(cfg).Start(e.ctx, e.req(user, "tok"))
	if err == nil || !strings.Contains(err.Error(), "the notebook image "+broken+" has no program at its entrypoint or command") ||
		!strings.Contains(err.Error(), "no-such-program") {
		t.Fatalf("Start = %v, want a sentence naming the image and its missing program", err)
	}
	if code := httpStatus(t, other.Target+other.Prefix+"api"); code != 200 {
		t.Errorf("bob's server answers %d after eve's start failed, want 200", code)
	}
	if _, err := e.cli.VolumeInspect(e.ctx, VolumeName(user)); err != nil {
		t.Errorf("eve's work volume: %v", err)
	}
}
