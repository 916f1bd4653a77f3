package app

import (
	"testing"

	"github.com/classhub/classhub/classclient"
)

func TestClassStatusAndNotesForEachAnswer(t *testing.T) {
	ready := classclient.Server{State: classclient.Ready, URL: "http://hub/user/ada/"}
	stopped := classclient.Server{State: classclient.Stopped}
	spawn := classclient.Server{State: classclient.Pending, Pending: "spawn"}
	fail := func(k classclient.Kind) error { return &classclient.Error{Kind: k, Hub: "http://hub"} }
	tests := []struct {
		name     string
		from     Class
		fold     func(c *Class) *Note
		status   string
		noteWant bool
	}{
		{"first answer ready: no note", Class{Phase: ClassChecking}, func(c *Class) *Note { return c.SetServer(ready) }, "Class: ready", false},
		{"first answer stopped", Class{Phase: ClassChecking}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: stopped", false},
		{"start becomes ready", Class{Phase: ClassStarting}, func(c *Class) *Note { return c.SetServer(ready) }, "Class: ready", true},
		{"culled", Class{Phase: ClassReady}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: stopped", true},
		{"culled, seen stopping on its way", Class{Phase: ClassStopping}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: stopped", true},
		{"stopped here", Class{Phase: ClassStopping, Stopping: true}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: stopped", false},
		{"start not taken up yet", Class{Phase: ClassStarting}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: starting…", false},
		{"pending spawn", Class{Phase: ClassStopped}, func(c *Class) *Note { return c.SetServer(spawn) }, "Class: starting…", false},
		{"progress", Class{Phase: ClassStarting}, func(c *Class) *Note { return c.SetProgress(classclient.Event{Progress: 40}) }, "Class: starting… 40%", false},
		{"a failed start stays shown", Class{Phase: ClassFailed}, func(c *Class) *Note { return c.SetServer(stopped) }, "Class: failed to start", false},
		{"unreachable", Class{Phase: ClassReady}, func(c *Class) *Note { return c.SetError(fail(classclient.Unreachable)) }, "Class: hub unreachable", true},
		{"still unreachable: no second note", Class{Phase: ClassUnreachable}, func(c *Class) *Note { return c.SetError(fail(classclient.Unreachable)) }, "Class: hub unreachable", false},
		{"5xx", Class{Phase: ClassStopped}, func(c *Class) *Note { return c.SetError(fail(classclient.HubFailed)) }, "Class: hub unreachable", true},
		{"refused", Class{Phase: ClassStopped}, func(c *Class) *Note { return c.SetError(fail(classclient.Refused)) }, "Class: login expired", true},
		{"start failed", Class{Phase: ClassStarting}, func(c *Class) *Note { return c.SetError(fail(classclient.StartFailed)) }, "Class: failed to start", true},
		{"start cancelled here", Class{Phase: ClassStopping, Stopping: true}, func(c *Class) *Note { return c.SetError(fail(classclient.StartFailed)) }, "Class: stopping…", false},
		{"back from trouble: no ready note", Class{Phase: ClassUnreachable}, func(c *Class) *Note { return c.SetServer(ready) }, "Class: ready", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.from
			c.Name = "lab"
			note := tt.fold(&c)
			if got := classStatus(&c); got != tt.status {
				t.Errorf("status %q, want %q", got, tt.status)
			}
			if (note != nil) != tt.noteWant {
				t.Errorf("note %+v, want one: %t", note, tt.noteWant)
			}
		})
	}
}

func TestTheTrayIconShowsTheCurrentHub(t *testing.T) {
	tests := []struct {
		s    State
		want HubPhase
	}{
		{State{Hub: HubRunning}, HubRunning},
		{State{Hub: HubRunning, Class: &Class{Phase: ClassStopped}}, HubStopped},
		{State{Hub: HubStopped, Class: &Class{Phase: ClassReady}}, HubRunning},
		{State{Class: &Class{Phase: ClassStarting}}, HubStarting},
		{State{Class: &Class{Phase: ClassExpired}}, HubError},
		{State{Class: &Class{Phase: ClassUnreachable}}, HubError},
	}
	for _, tt := range tests {
		if got := tt.s.IconPhase(); got != tt.want {
			t.Errorf("%+v: icon %s, want %s", tt.s.Class, got, tt.want)
		}
	}
}
