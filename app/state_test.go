package app

import (
	"testing"
	"time"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

func twoUsers() *State {
	return &State{Hub: HubRunning, Owner: "teacher", Users: []UserRow{{Name: "alice"}, {Name: "teacher", Admin: true}}}
}

func state(user string, s spawner.State, msg string) events.Event {
	return events.Event{Kind: events.ServerState, User: user, State: string(s), Message: msg, Failed: s == spawner.StateFailed}
}

func TestApplyServerStates(t *testing.T) {
	for _, tt := range []struct {
		state  spawner.State
		want   ServerPhase
		detail string
	}{
		{spawner.StateStarting, ServerStarting, ""},
		{spawner.StateRunning, ServerReady, ""},
		{spawner.StateStopping, ServerStopping, ""},
		{spawner.StateStopped, ServerStopped, ""},
		{spawner.StateMissing, ServerStopped, ""},
		{spawner.StateBroken, ServerStopped, ""},
		{spawner.StateFailed, ServerFailed, "the image is missing"},
	} {
		s := twoUsers()
		s.Apply(state("alice", tt.state, "the image is missing"))
		r := s.Row("alice")
		if r.Phase != tt.want || r.Detail != tt.detail {
			t.Errorf("after %s: phase %s detail %q, want %s %q", tt.state, r.Phase, r.Detail, tt.want, tt.detail)
		}
		if s.Row("teacher").Phase != ServerStopped {
			t.Errorf("an event for alice changed teacher's row")
		}
	}
}

func TestApplyNotifiesOncePerChange(t *testing.T) {
	s := twoUsers()
	notes := func(evs ...events.Event) []Note {
		var out []Note
		for _, e := range evs {
			if eff := s.Apply(e); eff.Notify != nil {
				out = append(out, *eff.Notify)
			}
		}
		return out
	}
	// The spawner and the hub both report a server running: one notice.
	got := notes(state("teacher", spawner.StateStarting, ""), state("teacher", spawner.StateRunning, "Ready"),
		state("teacher", spawner.StateRunning, "Server ready at /user/teacher/"))
	if len(got) != 1 || got[0].Title != "Your notebook is ready" {
		t.Errorf("owner ready: notes %+v, want one saying it is ready", got)
	}
	// Students' servers starting do not notify the laptop.
	if got := notes(state("alice", spawner.StateStarting, ""), state("alice", spawner.StateRunning, "")); len(got) != 0 {
		t.Errorf("alice ready: notes %+v, want none", got)
	}
	// Failures do, once, with the reason's first line.
	got = notes(state("alice", spawner.StateFailed, "no image\nmore"), state("alice", spawner.StateFailed, "no image\nmore"))
	if len(got) != 1 || got[0].Title != "alice's server could not start" || got[0].Content != "no image" {
		t.Errorf("alice failed: notes %+v", got)
	}
	got = notes(state("teacher", spawner.StateFailed, "out of memory"))
	if len(got) != 1 || got[0].Title != "Your notebook could not start" || got[0].Content != "out of memory" {
		t.Errorf("owner failed: notes %+v", got)
	}
}

func TestApplyProgressActivityAndNotices(t *testing.T) {
	s := twoUsers()
	s.Apply(events.Event{Kind: events.SpawnProgress, User: "alice", Progress: 40, Message: "Creating the container"})
	if r := s.Row("alice"); r.Phase != ServerStarting || r.Progress != 40 || r.Detail != "Creating the container" {
		t.Errorf("after progress: %+v", r)
	}
	at := testNow.Add(-3 * time.Minute)
	s.Apply(events.Event{Kind: events.Activity, User: "alice", Time: at})
	s.Apply(events.Event{Kind: events.Activity, User: "alice", Time: at.Add(-time.Hour)})
	if r := s.Row("alice"); !r.LastActivity.Equal(at) {
		t.Errorf("last activity %v, want the latest %v", r.LastActivity, at)
	}
	s.Apply(events.Event{Kind: events.Notice, Message: "Lost contact with the Docker engine", Failed: true})
	if s.Notice != "Lost contact with the Docker engine" || !s.NoticeFailed {
		t.Errorf("notice %q failed=%t", s.Notice, s.NoticeFailed)
	}
}

func TestApplyAsksForReloads(t *testing.T) {
	s := twoUsers()
	if eff := s.Apply(events.Event{Seq: 1, Kind: events.ServerState, User: "zoe", State: "running"}); !eff.Reload || eff.Resync {
		t.Errorf("unknown user: %+v, want a reload without resync", eff)
	}
	if eff := s.Apply(events.Event{Seq: 2, Kind: events.Activity, User: "alice"}); eff.Reload {
		t.Errorf("known user, no gap: %+v, want no reload", eff)
	}
	if eff := s.Apply(events.Event{Seq: 5, Kind: events.Activity, User: "alice"}); !eff.Reload || !eff.Resync {
		t.Errorf("events 3 and 4 lost: %+v, want a full reload", eff)
	}
	s.Selected = "alice"
	if eff := s.Apply(events.Event{Seq: 6, Kind: events.ServerState, User: "alice", State: "stopped"}); !eff.Logs {
		t.Errorf("selected user's server changed: %+v, want fresh logs", eff)
	}
}

func TestApplyImageProgress(t *testing.T) {
	s := twoUsers()
	s.Image = ImageStatus{Ref: "classhub/notebook:latest", Checked: true, Present: false}
	s.Apply(events.Event{Kind: events.ImageProgress, Message: "Pulling", Progress: -1})
	if !s.Image.Busy || s.Image.Progress >= 0 {
		t.Errorf("unknown size: %+v", s.Image)
	}
	s.Apply(events.Event{Kind: events.ImageProgress, Message: "Downloading", Current: 25, Total: 100})
	if !s.Image.Busy || s.Image.Progress != 0.25 {
		t.Errorf("a quarter: %+v", s.Image)
	}
	s.Apply(events.Event{Kind: events.ImageProgress, Message: "Pulled", Progress: 100})
	if s.Image.Busy || !s.Image.Present {
		t.Errorf("pulled: %+v", s.Image)
	}
	s.Apply(events.Event{Kind: events.ImageProgress, Message: "Pulling failed", Failed: true})
	if s.Image.Busy || s.Image.Detail != "Pulling failed" {
		t.Errorf("failed: %+v", s.Image)
	}
}

func TestSetUsersMerges(t *testing.T) {
	s := twoUsers()
	s.Row("alice").Phase = ServerReady
	s.Row("alice").Stats, s.Row("alice").HasStats = spawner.Stats{CPUPercent: 12}, true
	list := []core.UserStatus{
		{User: store.User{Name: "teacher", Admin: true}, Server: core.ServerStatus{Pending: core.PendingSpawn}},
		{User: store.User{Name: "bob"}, Server: core.ServerStatus{Failed: "no image"}},
		{User: store.User{Name: "alice", LastActivity: testNow}, Server: core.ServerStatus{}},
	}
	s.SetUsers(list, false)
	names := []string{}
	for _, r := range s.Users {
		names = append(names, r.Name)
	}
	if len(names) != 3 || names[0] != "alice" || names[1] != "bob" || names[2] != "teacher" {
		t.Fatalf("rows %v, want sorted alice bob teacher", names)
	}
	if a := s.Row("alice"); a.Phase != ServerReady || !a.HasStats || !a.LastActivity.Equal(testNow) {
		t.Errorf("a partial merge lost alice's newer state or stats: %+v", a)
	}
	if b := s.Row("bob"); b.Phase != ServerFailed || b.Detail != "no image" {
		t.Errorf("new row bob: %+v", b)
	}
	s.SetUsers(list, true)
	if a := s.Row("alice"); a.Phase != ServerStopped {
		t.Errorf("a full merge kept alice %s, want the list's stopped", a.Phase)
	}
	if tr := s.Row("teacher"); tr.Phase != ServerStarting {
		t.Errorf("teacher %s, want starting", tr.Phase)
	}
}

func TestDoctorReport(t *testing.T) {
	s := twoUsers()
	s.Image.Ref = "classhub/notebook:latest"
	s.SetDoctor(doctor.Report{Checks: []doctor.Check{
		{Name: "engine", OK: true},
		{Name: "image", Detail: "classhub/notebook:latest is not in the engine", Advice: "run `classhub image build`"},
		{Name: "probe", Detail: "not run"},
	}})
	if !s.Image.Checked || s.Image.Present {
		t.Errorf("image %+v, want checked and missing", s.Image)
	}
	if c, ok := s.Trouble(); !ok || c.Name != "image" {
		t.Errorf("trouble %+v %t, want the first failed check, image", c, ok)
	}
	if s.Active() != 0 {
		t.Errorf("active %d, want 0", s.Active())
	}
	s.Row("alice").Phase = ServerStarting
	s.Row("teacher").Phase = ServerReady
	if s.Active() != 2 {
		t.Errorf("active %d, want 2", s.Active())
	}
}
