package core

import (
	"context"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// A plain Jupyter server is routed through the proxy's login, with the
// token the spawner gave it, at start and when a restarted hub adopts it;
// a jupyterhub-singleuser server is not.
func TestPlainServersAreGuarded(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.sp.Mode = spawner.ModeServer
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	reqs := f.sp.Requests()
	want := spawner.JupyterToken(reqs[len(reqs)-1].APIToken)
	if got := f.router.GuardToken("alice"); got != want {
		t.Errorf("alice's route token = %q, want the server's %q", got, want)
	}

	g := newFixture(t, "alice")
	g.sp.Adoptees = []spawner.Server{{User: "alice", State: spawner.StateRunning, Target: "http://10.0.0.9:8888",
		Mode: spawner.ModeServer, JupyterToken: "kept"}}
	g.hub.Boot(ctx)
	if got := g.router.GuardToken("alice"); got != "kept" || g.router.Route("alice") != "http://10.0.0.9:8888" {
		t.Errorf("adopted plain server: route %q token %q", g.router.Route("alice"), got)
	}

	h := newFixture(t, "alice")
	h.hub.Boot(ctx)
	h.mustStart(t, "alice")
	if h.router.Route("alice") == "" || h.router.GuardToken("alice") != "" {
		t.Error("a jupyterhub-singleuser server's route is guarded, or missing")
	}
}

// A stopped plain server starts again with the token it holds, so its
// container is kept (and what the student keeps outside work with it), as
// a jupyterhub-singleuser server's is; a reset still replaces it.
func TestPlainServerKeepsItsToken(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.sp.Mode, f.sp.KeepTokens = spawner.ModeServer, true
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	reqs := f.sp.Requests()
	if len(reqs) != 2 || reqs[0].APIToken != reqs[1].APIToken {
		t.Fatalf("the second start got another token: %d starts", len(reqs))
	}
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.hub.ResetUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	f.mustStart(t, "alice")
	if reqs := f.sp.Requests(); reqs[2].APIToken == reqs[1].APIToken {
		t.Error("after a reset the server kept its token")
	}
}

// Before the culler stops a plain server as idle, it asks the server: a
// kernel computing for an hour with nobody at the browser is not idle,
// and what it reports is recorded. A time to come counts as now.
func TestCullAsksPlainServers(t *testing.T) {
	f := newFixture(t, "alice", "bob", "carol")
	ctx := context.Background()
	f.sp.Mode = spawner.ModeServer
	started := time.Now().Add(-2 * time.Hour)
	for _, u := range []string{"alice", "bob", "carol"} {
		f.sp.Adoptees = append(f.sp.Adoptees, spawner.Server{User: u, State: spawner.StateRunning, Target: "http://10.0.0.9:8888",
			Mode: spawner.ModeServer, JupyterToken: "t"})
		if _, err := f.store.PutServer(ctx, store.Server{User: u, Started: started, Ready: true}); err != nil {
			t.Fatal(err)
		}
		f.sp.SetRunning(u)
	}
	f.hub.Boot(ctx)
	cutoff := time.Now().Add(-time.Hour)
	busy := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	f.sp.SetActivity("alice", busy)                             // a kernel still running
	f.sp.SetActivity("bob", cutoff.Add(-time.Hour))             // idle for its own part too
	f.sp.SetActivity("carol", time.Now().Add(100*24*time.Hour)) // claims the future
	culled := f.hub.CullIdle(ctx, cutoff)
	if len(culled) != 1 || culled[0] != "bob" {
		t.Fatalf("culled %v, want [bob]", culled)
	}
	if rec, err := f.store.GetServer(ctx, "alice", ""); err != nil || !rec.LastActivity.Equal(busy) {
		t.Errorf("alice's recorded activity = %v, want %v (%v)", rec.LastActivity, busy, err)
	}
	if rec, _ := f.store.GetServer(ctx, "carol", ""); rec.LastActivity.After(time.Now()) || rec.LastActivity.Before(cutoff) {
		t.Errorf("carol's server recorded activity %v, want now", rec.LastActivity)
	}
	// Once its "now" is past, carol's server is idle like any other.
	if culled := f.hub.CullIdle(ctx, time.Now().Add(time.Minute)); len(culled) != 2 {
		t.Errorf("a later round culled %v, want alice and carol", culled)
	}
}

// A cancelled start whose plain server's container was made anyway keeps
// the token that container's own is derived from, as a jupyterhub one
// keeps the token it holds, so the next start reuses the container.
func TestCancelledPlainStartKeepsTheHeldToken(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.sp.Mode, f.sp.KeepTokens = spawner.ModeServer, true
	sp := &stubbornSpawner{Spawner: f.sp, entered: make(chan struct{}), cancelled: make(chan struct{}), finish: make(chan struct{})}
	f.hub.spawner = sp
	f.hub.Boot(ctx)
	f.hub.Start(ctx, "alice")
	<-sp.entered
	stopped := make(chan error, 1)
	go func() { stopped <- f.hub.Stop(ctx, "alice", false) }()
	<-sp.cancelled
	close(sp.finish)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if toks := serverTokens(t, f, "alice"); len(toks) != 1 {
		t.Errorf("server tokens %+v, want the one the kept container's token is derived from", toks)
	}
}
