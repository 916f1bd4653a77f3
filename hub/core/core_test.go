package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

type fixture struct {
	hub    *Lifecycle
	sp     *spawnertest.Spawner
	router *spawnertest.Router
	store  *store.Store
}

func newFixture(t *testing.T, users ...string) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp := spawnertest.New()
	sp.Target = "http://10.0.0.2:8888"
	f := &fixture{sp: sp, router: spawnertest.NewRouter(), store: st}
	cfg := config.Default()
	f.hub = New(Options{Config: cfg, Store: st, Spawner: f.sp, Router: f.router, Bus: events.NewBus(64), HubPort: 8081,
		SlowSpawn: 200 * time.Millisecond})
	t.Cleanup(f.hub.Close)
	if _, err := f.hub.AddUsers(context.Background(), users, false); err != nil {
		t.Fatal(err)
	}
	return f
}

// startWait starts name's server and waits for the start to end. Start
// alone stops waiting after SlowSpawn, which a loaded machine's SQLite
// writes can outlast, leaving the server pending when a test expects it
// running.
func (f *fixture) startWait(t *testing.T, name string) (ServerStatus, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := f.hub.Start(ctx, name)
	if err == nil && s.Pending == PendingSpawn {
		s, err = f.hub.Wait(ctx, name)
	}
	return s, err
}

// waitSpawnerStarts waits until the spawner has been asked n times to
// start name's server: a pending start reaches it in the background.
func (f *fixture) waitSpawnerStarts(t *testing.T, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.sp.Starts(name) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the spawner was asked %d times to start %s, want %d", f.sp.Starts(name), name, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustStart is startWait for tests that need the server running.
func (f *fixture) mustStart(t *testing.T, name string) {
	t.Helper()
	if s, err := f.startWait(t, name); err != nil || !s.Ready {
		t.Fatalf("Start(%s) = %+v, %v; want ready", name, s, err)
	}
}

func TestStartRoutesAndRecordsTheServer(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	if err := f.hub.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := f.startWait(t, "alice")
	if err != nil || !s.Ready {
		t.Fatalf("Start = %+v, %v; want ready", s, err)
	}
	if got := f.router.Route("alice"); got != "http://10.0.0.2:8888" {
		t.Errorf("route = %q", got)
	}
	rec, err := f.store.GetServer(ctx, "alice", "")
	if err != nil || !rec.Ready || rec.URL != "http://10.0.0.2:8888" || rec.TokenID == 0 {
		t.Errorf("stored server = %+v, %v", rec, err)
	}
	req := f.sp.Requests()[0]
	tok, err := f.store.LookupToken(ctx, req.APIToken)
	if err != nil || tok.Kind != "server" || tok.User != "alice" || req.HubPort != 8081 {
		t.Errorf("server token %+v (%v), request %+v", tok, err, req)
	}
	if _, err := f.store.AuthenticateOAuthClient(ctx, "jupyterhub-user-alice", req.APIToken); err != nil {
		t.Errorf("OAuth client secret is not the server token: %v", err)
	}
	if _, err := f.hub.Start(ctx, "alice"); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Start = %v, want ErrAlreadyRunning", err)
	}
}

func TestSlowStartIsPendingAndReportsProgress(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	release := f.sp.Hold("alice")
	s, err := f.hub.Start(ctx, "alice")
	if err != nil || s.Ready || s.Pending != PendingSpawn {
		t.Fatalf("slow Start = %+v, %v; want pending", s, err)
	}
	// A second request while pending joins the same spawn.
	if s, err := f.hub.Start(ctx, "alice"); err != nil || s.Pending != PendingSpawn {
		t.Fatalf("Start while pending = %+v, %v", s, err)
	}
	// The spawner reports its own steps to the start.
	waitProgress(t, f, "alice", func(e events.Event) bool { return e.Message == "Starting container" })
	release()
	if s, err := f.hub.Wait(ctx, "alice"); err != nil || !s.Ready {
		t.Fatalf("Wait = %+v, %v", s, err)
	}
	if n := f.sp.Starts("alice"); n != 1 {
		t.Errorf("spawner started %d times, want 1", n)
	}
	evs, _, finished := f.hub.Progress("alice", 0)
	if !finished || len(evs) < 2 {
		t.Fatalf("progress = %+v, finished %v", evs, finished)
	}
	if first, last := evs[0], evs[len(evs)-1]; first.Message != "Server requested" || last.Progress != 100 || last.State != "ready" {
		t.Errorf("progress runs from %+v to %+v", first, last)
	}
	var sawSpawner bool
	for i, e := range evs {
		sawSpawner = sawSpawner || e.Message == "Starting container"
		if i > 0 && e.Progress < evs[i-1].Progress {
			t.Errorf("progress went back: %d after %d", e.Progress, evs[i-1].Progress)
		}
	}
	if !sawSpawner {
		t.Errorf("the spawner's progress was not recorded: %+v", evs)
	}
}

func TestFailedStartSaysWhy(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.sp.FailWith("alice", errors.New("image classhub/notebook:latest is missing: build it with `classhub image build`"))
	s, err := f.startWait(t, "alice")
	if err != nil || s.Ready || !strings.Contains(s.Failed, "classhub image build") {
		t.Fatalf("Start = %+v, %v; want a failure naming the fix", s, err)
	}
	evs, _, _ := f.hub.Progress("alice", 0)
	if last := evs[len(evs)-1]; !last.Failed || !strings.HasPrefix(last.Message, "Spawn failed: ") {
		t.Errorf("last progress event = %+v", last)
	}
	if f.router.Route("alice") != "" {
		t.Error("a failed server got a route")
	}
	// The next start tries again.
	f.sp.FailWith("alice", nil)
	if s, err := f.startWait(t, "alice"); err != nil || !s.Ready {
		t.Errorf("retry = %+v, %v", s, err)
	}
}

func TestStopAndRemove(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	if err := f.hub.Stop(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if f.router.Route("alice") != "" {
		t.Error("stopped server keeps its route")
	}
	if _, err := f.sp.Status(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if sv, _ := f.sp.Status(ctx, "alice"); sv.State != spawner.StateMissing {
		t.Errorf("remove left the container: %+v", sv)
	}
	if s, _ := f.hub.Status(ctx, "alice"); s.Active() {
		t.Errorf("status after stop = %+v", s)
	}
	if err := f.hub.Stop(ctx, "nobody", false); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("Stop(nobody) = %v", err)
	}
}

func TestServerDyingBehindTheHubsBackLosesItsRoute(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	f.sp.Stop(ctx, "alice") // someone ran `docker stop`
	f.sp.Outside(events.Event{Kind: events.ServerState, User: "alice", State: string(spawner.StateStopped)})
	deadline := time.Now().Add(10 * time.Second)
	for f.router.Route("alice") != "" {
		if time.Now().After(deadline) {
			t.Fatal("route kept after the container stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s, _ := f.hub.Status(ctx, "alice"); s.Ready {
		t.Errorf("status still ready: %+v", s)
	}
}

func TestStaleStopEventDoesNotUnrouteARunningServer(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	sub := f.hub.Bus().Subscribe(8, false, func(e events.Event) bool { return e.Message == "stale" })
	defer sub.Close()
	f.sp.Outside(events.Event{Kind: events.ServerState, User: "alice", State: string(spawner.StateStopped), Message: "stale"})
	<-sub.C // published, so handled
	if f.router.Route("alice") == "" {
		t.Error("a late event about an old container removed a running server's route")
	}
}

func TestBootAdoptsRunningServers(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.store.PutServer(ctx, store.Server{User: "bob", Started: time.Now(), Ready: true, URL: "http://10.0.0.9:8888"})
	f.sp.Adoptees = []spawner.Server{{User: "alice", State: spawner.StateRunning, Target: "http://10.0.0.3:8888"}}
	if err := f.hub.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.router.Route("alice"); got != "http://10.0.0.3:8888" {
		t.Errorf("alice's route after boot = %q", got)
	}
	if s, _ := f.hub.Status(ctx, "alice"); !s.Ready {
		t.Errorf("alice not ready after adoption: %+v", s)
	}
	if rec, _ := f.store.GetServer(ctx, "bob", ""); rec.Ready {
		t.Errorf("bob's server is gone but the store says ready: %+v", rec)
	}
}

func TestCullIdleStopsOnlyIdleServers(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.hub.Boot(ctx)
	f.mustStart(t, "alice")
	f.mustStart(t, "bob")
	// Both started before the cutoff; only bob was active after it.
	cutoff := time.Now().Add(time.Second)
	f.store.RecordActivity(ctx, "bob", "", cutoff.Add(time.Second))
	culled := f.hub.CullIdle(ctx, cutoff)
	if len(culled) != 1 || culled[0] != "alice" {
		t.Fatalf("culled %v, want [alice]", culled)
	}
	if s, _ := f.hub.Status(ctx, "bob"); !s.Ready {
		t.Error("bob was active and got culled")
	}
}

func TestAddUsersValidatesAndNormalizes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created, err := f.hub.AddUsers(ctx, []string{" Alice ", "alice", "bob@school.example"}, false)
	if err != nil || len(created) != 2 || created[0].Name != "alice" {
		t.Fatalf("AddUsers = %+v, %v", created, err)
	}
	for _, bad := range []string{"", "-x", "a b", "a/b", strings.Repeat("a", MaxNameLen+1)} {
		if _, err := f.hub.AddUsers(ctx, []string{"carol", bad}, false); !errors.Is(err, ErrBadName) {
			t.Errorf("AddUsers(%q) = %v, want ErrBadName", bad, err)
		}
	}
	if _, err := f.store.GetUser(ctx, "carol"); err == nil {
		t.Error("a bad name in the batch still created carol")
	}
}

func TestImagePullProgressReachesEveryPendingSpawn(t *testing.T) {
	f := newFixture(t, "alice", "bob")
	ctx := context.Background()
	f.hub.Boot(ctx)
	releaseAlice, releaseBob := f.sp.Hold("alice"), f.sp.Hold("bob")
	defer releaseAlice()
	defer releaseBob()
	f.hub.Start(ctx, "alice")
	f.hub.Start(ctx, "bob")
	// The Docker spawner reports one pull to every start waiting for it.
	pull := events.Event{Kind: events.ImageProgress, Progress: 40, Current: 4 << 20, Total: 10 << 20, Message: "Pulling"}
	f.sp.Progress("alice", pull)
	f.sp.Progress("bob", pull)
	for _, name := range []string{"alice", "bob"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, more, _ := f.hub.Progress(name, 0)
			found := false
			for _, e := range evs {
				found = found || (e.Kind == events.ImageProgress && e.Current == 4<<20 && e.User == name)
			}
			if found {
				break
			}
			select {
			case <-more:
			case <-time.After(time.Until(deadline)):
				t.Fatalf("%s's progress lacks the pull: %+v", name, evs)
			}
		}
	}
}

func TestEventsAboutStrangersAreDropped(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	sub := f.hub.Bus().Subscribe(8, false, func(e events.Event) bool { return e.Kind == events.Notice })
	defer sub.Close()
	f.sp.Outside(events.Event{Kind: events.Notice, User: "stranger", Message: "removed outside classhub"})
	f.sp.Outside(events.Event{Kind: events.Notice, User: "alice", Message: "removed outside classhub"})
	if e := <-sub.C; e.User != "alice" {
		t.Errorf("published a notice about %q, a user this hub does not have", e.User)
	}
}

// waitProgress blocks until name's progress holds an event matching ok.
func waitProgress(t *testing.T, f *fixture, name string, ok func(events.Event) bool) []events.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		evs, more, _ := f.hub.Progress(name, 0)
		for _, e := range evs {
			if ok(e) {
				return evs
			}
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("%s's progress never got the awaited step: %+v", name, evs)
		}
	}
}

func isCancelled(e events.Event) bool { return e.Reason == events.ReasonCancelled }

// serverTokens returns name's server tokens.
func serverTokens(t *testing.T, f *fixture, name string) []store.Token {
	t.Helper()
	toks, err := f.store.ListTokens(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Token
	for _, tok := range toks {
		if tok.Kind == "server" {
			out = append(out, tok)
		}
	}
	return out
}

func TestStopCancelsAPendingStart(t *testing.T) {
	for _, remove := range []bool{false, true} {
		t.Run(map[bool]string{false: "stop", true: "remove"}[remove], func(t *testing.T) {
			f := newFixture(t, "alice")
			ctx := context.Background()
			f.hub.Boot(ctx)
			defer f.sp.Hold("alice")() // the start stays queued until cancelled
			sub := f.hub.Bus().Subscribe(64, false, func(e events.Event) bool {
				return e.User == "alice" && e.Kind == events.ServerState
			})
			defer sub.Close()
			if s, err := f.hub.Start(ctx, "alice"); err != nil || s.Pending != PendingSpawn {
				t.Fatalf("Start = %+v, %v; want pending", s, err)
			}
			// The token is issued in the background, just before the
			// spawner is asked.
			f.waitSpawnerStarts(t, "alice", 1)
			if len(serverTokens(t, f, "alice")) != 1 {
				t.Fatal("the start issued no server token")
			}

			if err := f.hub.Stop(ctx, "alice", remove); err != nil {
				t.Fatalf("Stop during a pending start = %v", err)
			}
			s, err := f.hub.Wait(ctx, "alice")
			if err != nil || s.Active() || s.Failed != "" {
				t.Errorf("status after cancel = %+v, %v; want stopped, not failed", s, err)
			}
			if got := f.router.Route("alice"); got != "" {
				t.Errorf("cancelled start left route %q", got)
			}
			if toks := serverTokens(t, f, "alice"); len(toks) != 0 {
				t.Errorf("cancelled start left server tokens %+v", toks)
			}
			if rec, _ := f.store.GetServer(ctx, "alice", ""); rec.Ready || rec.Pending != "" || rec.TokenID != 0 {
				t.Errorf("stored server after cancel = %+v", rec)
			}
			evs, _, finished := f.hub.Progress("alice", 0)
			if last := evs[len(evs)-1]; !finished || !last.Failed || !isCancelled(last) || last.Progress != 100 {
				t.Errorf("progress ends with %+v (finished %v), want a final \"Start cancelled\"", last, finished)
			}
			var states []string
			for len(states) == 0 || states[len(states)-1] == string(spawner.StateStarting) || states[len(states)-1] == string(spawner.StateStopping) {
				e := <-sub.C
				states = append(states, e.State)
				if e.State == string(spawner.StateFailed) {
					t.Errorf("cancelled start reported as failed: %+v", e)
				}
			}
			want := []string{string(spawner.StateStarting), string(spawner.StateStopping), string(spawner.StateStopped)}
			if remove {
				want[2] = string(spawner.StateMissing)
			}
			if strings.Join(states, " ") != strings.Join(want, " ") {
				t.Errorf("server states %v, want %v", states, want)
			}
		})
	}
}

func TestStartAfterCancelStartsAgain(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	release := f.sp.Hold("alice")
	f.hub.Start(ctx, "alice")
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	release()
	s, err := f.startWait(t, "alice")
	if err != nil || !s.Ready {
		t.Fatalf("Start after a cancelled start = %+v, %v", s, err)
	}
	evs, _, _ := f.hub.Progress("alice", 0)
	if evs[0].Message != "Server requested" || evs[len(evs)-1].State != "ready" {
		t.Errorf("new start's progress = %+v", evs)
	}
	if toks := serverTokens(t, f, "alice"); len(toks) != 1 {
		t.Errorf("server tokens after restart = %+v, want 1", toks)
	}
}

func TestSecondStopWhileCancellingIsPending(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	releaseStop := f.sp.HoldStop("alice")
	f.hub.Start(ctx, "alice")
	stopped := make(chan error, 1)
	go func() { stopped <- f.hub.Stop(ctx, "alice", false) }()
	// Once the start has given up, the first Stop is stopping.
	waitProgress(t, f, "alice", isCancelled)
	if err := f.hub.Stop(ctx, "alice", false); !errors.Is(err, ErrPending) {
		t.Errorf("second Stop = %v, want ErrPending", err)
	}
	if _, err := f.hub.Start(ctx, "alice"); !errors.Is(err, ErrPending) {
		t.Errorf("Start while cancelling = %v, want ErrPending", err)
	}
	if s, _ := f.hub.Status(ctx, "alice"); s.Pending != PendingStop {
		t.Errorf("status while cancelling = %+v, want pending stop", s)
	}
	releaseStop()
	if err := <-stopped; err != nil {
		t.Errorf("first Stop = %v", err)
	}
}

// stubbornSpawner finishes a start even after its context is cancelled, as
// a start that got past its last check does.
type stubbornSpawner struct {
	*spawnertest.Spawner
	entered   chan struct{} // closed when Start is called
	cancelled chan struct{} // closed when Start sees its context end
	finish    chan struct{} // Start succeeds once this is closed
}

func (s *stubbornSpawner) Start(ctx context.Context, req spawner.StartRequest) (spawner.Server, error) {
	close(s.entered)
	<-ctx.Done()
	close(s.cancelled)
	<-s.finish
	return s.Spawner.Start(context.WithoutCancel(ctx), req)
}

func TestCancelledStartThatSucceededAnywayIsStopped(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	sp := &stubbornSpawner{Spawner: f.sp, entered: make(chan struct{}), cancelled: make(chan struct{}), finish: make(chan struct{})}
	f.hub.spawner = sp
	f.hub.Boot(ctx)
	f.hub.Start(ctx, "alice")
	// Cancelled before it reaches the spawner, the start would simply end.
	<-sp.entered
	stopped := make(chan error, 1)
	go func() { stopped <- f.hub.Stop(ctx, "alice", false) }()
	<-sp.cancelled
	close(sp.finish)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if got := f.router.Route("alice"); got != "" {
		t.Errorf("route %q kept after the cancelled start finished", got)
	}
	if sv, _ := f.sp.Status(ctx, "alice"); sv.State == spawner.StateRunning {
		t.Error("the container the cancelled start made still runs")
	}
	if s, _ := f.hub.Status(ctx, "alice"); s.Active() {
		t.Errorf("status = %+v", s)
	}
	if toks := serverTokens(t, f, "alice"); len(toks) != 0 {
		t.Errorf("server tokens %+v kept for a stopped container that does not hold them", toks)
	}
}

func TestDeleteUserCancelsAPendingStart(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	f.hub.Start(ctx, "alice")
	if err := f.hub.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUser during a pending start = %v", err)
	}
	if _, err := f.store.GetUser(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user kept: %v", err)
	}
}

func TestStopAllStopsRunningAndCancelsQueuedStarts(t *testing.T) {
	f := newFixture(t, "alice", "bob", "carol")
	ctx := context.Background()
	f.hub.Boot(ctx)
	for _, n := range []string{"alice", "bob"} {
		if s, err := f.startWait(t, n); err != nil || !s.Ready {
			t.Fatalf("Start(%s) = %+v, %v", n, s, err)
		}
	}
	// carol's start never gets a slot: only StopAll's cancel ends it.
	f.sp.Hold("carol")
	if s, err := f.hub.Start(ctx, "carol"); err != nil || s.Pending != PendingSpawn {
		t.Fatalf("Start(carol) = %+v, %v; want pending", s, err)
	}
	n, err := f.hub.StopAll(ctx)
	if err != nil || n != 3 {
		t.Fatalf("StopAll = %d, %v; want 3", n, err)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		s, _ := f.hub.Status(ctx, name)
		if s.Active() || f.router.Route(name) != "" {
			t.Errorf("%s after StopAll: %+v, route %q", name, s, f.router.Route(name))
		}
	}
}

func TestStartCancelledWhileWaitingSaysSo(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.slowSpawn = time.Minute // the caller is still waiting when the stop comes
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	started := make(chan error, 1)
	go func() {
		_, err := f.hub.Start(ctx, "alice")
		started <- err
	}()
	f.waitSpawnerStarts(t, "alice", 1)
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if err := <-started; !errors.Is(err, ErrCancelled) {
		t.Errorf("the waiting Start = %v, want ErrCancelled", err)
	}
	// The next start is a start like any other.
	f.sp.Hold("alice")() // release at once
	if s, err := f.startWait(t, "alice"); err != nil || !s.Ready {
		t.Errorf("Start after the cancel = %+v, %v", s, err)
	}
}

func TestLateFailureOfACancelledStartSparesTheNextOne(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	f.hub.Start(ctx, "alice")
	f.waitSpawnerStarts(t, "alice", 1)
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	release := f.sp.Hold("alice")
	defer release()
	if s, err := f.hub.Start(ctx, "alice"); err != nil || s.Pending != PendingSpawn {
		t.Fatalf("second Start = %+v, %v", s, err)
	}
	// The spawner's report of the first start's end arrives only now, to
	// the first start's Progress.
	f.sp.Requests()[0].Progress(events.Event{Kind: events.SpawnProgress, User: "alice", Progress: 100, Failed: true,
		Reason: events.ReasonFailed, Message: "Spawn failed: context canceled"})
	f.sp.Progress("alice", events.Event{Kind: events.SpawnProgress, User: "alice", Progress: 60, Message: "marker"})
	evs := waitProgress(t, f, "alice", func(e events.Event) bool { return e.Message == "marker" })
	for _, e := range evs {
		if e.Failed {
			t.Errorf("the new start's progress took the old start's failure: %+v", e)
		}
	}
	release()
	if s, err := f.startWait(t, "alice"); !errors.Is(err, ErrAlreadyRunning) && (err != nil || !s.Ready) {
		t.Errorf("the new start = %+v, %v; want ready", s, err)
	}
}

func TestCancellingAStartSaysSoInFields(t *testing.T) {
	f := newFixture(t, "alice")
	ctx := context.Background()
	f.hub.Boot(ctx)
	defer f.sp.Hold("alice")()
	sub := f.hub.Bus().Subscribe(64, false, func(e events.Event) bool { return e.Kind == events.ServerState })
	defer sub.Close()
	f.hub.Start(ctx, "alice")
	f.waitSpawnerStarts(t, "alice", 1)
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	// Readers tell a cancel from a stop and from a failure by Reason; the
	// messages are copy, free to change.
	var reasons []events.Reason
	for e := range sub.C {
		if e.State == string(spawner.StateStopping) || e.State == string(spawner.StateStopped) {
			reasons = append(reasons, e.Reason)
		}
		if e.State == string(spawner.StateStopped) {
			break
		}
	}
	if len(reasons) != 2 || reasons[0] != events.ReasonCancelling || reasons[1] != events.ReasonCancelled {
		t.Errorf("the stop's events have reasons %v, want cancelling then cancelled", reasons)
	}
}
