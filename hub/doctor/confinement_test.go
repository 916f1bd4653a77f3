package doctor

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

func TestConfinementCheck(t *testing.T) {
	eng := spawner.EngineInfo{PidsLimit: true}
	c := confinementCheck(config.Default(), eng)
	if !c.OK || c.Weak || !strings.Contains(c.Detail, "at most 512 processes") || !strings.Contains(c.Detail, "no capabilities") {
		t.Errorf("default settings: %+v", c)
	}
	open := config.Default()
	open.PidsLimit, open.CPULimit = 0, 0
	c = confinementCheck(open, eng)
	if !c.OK || !c.Weak || !strings.Contains(c.Detail, "no process limit") || !strings.Contains(c.Advice, "pids_limit = 512") || !strings.Contains(c.Advice, "cpu_limit") {
		t.Errorf("no pids or CPU limit: %+v", c)
	}
	if c := confinementCheck(config.Default(), spawner.EngineInfo{}); !c.Weak || !strings.Contains(c.Detail, "cannot count processes") {
		t.Errorf("a kernel without the pids controller: %+v", c)
	}
	var out bytes.Buffer
	Report{Checks: []Check{c}}.Print(&out)
	if !strings.Contains(out.String(), "weak  confinement") || !strings.Contains(out.String(), "→ set pids_limit") || !strings.Contains(out.String(), "can run here; the weak lines") {
		t.Errorf("a weak line does not say what to do:\n%s", out.String())
	}
}

func TestServerChecks(t *testing.T) {
	pids := int64(512)
	confined := &container.HostConfig{CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
		Resources: container.Resources{Memory: 2 << 30, NanoCPUs: 1e9, PidsLimit: &pids}}
	old := &container.HostConfig{Resources: container.Resources{Memory: 2 << 30, NanoCPUs: 1e9}}
	hosts := map[string]*container.HostConfig{"a": confined, "b": old}
	inspect := func(id string) (*container.HostConfig, error) {
		if hc, ok := hosts[id]; ok {
			return hc, nil
		}
		return nil, errors.New("gone")
	}
	if got := serverChecks(nil, inspect); len(got) != 1 || got[0].Detail != "none running" {
		t.Errorf("no servers: %+v", got)
	}
	servers := []spawner.Server{
		{User: "alice", ID: "a", Container: "classhub-alice", State: spawner.StateRunning},
		{User: "bob", ID: "b", Container: "classhub-bob", State: spawner.StateRunning},
		{User: "carol", ID: "c", Container: "classhub-carol", State: spawner.StateStopped},
	}
	got := serverChecks(servers, inspect)
	if len(got) != 2 {
		t.Fatalf("checks = %+v, want a summary and bob's line", got)
	}
	if got[0].Weak || got[0].Detail != "1 of 2 running servers are confined as the settings say" {
		t.Errorf("summary = %+v", got[0])
	}
	bob := got[1]
	if bob.Name != "server bob" || !bob.OK || !bob.Weak {
		t.Errorf("bob's line = %+v", bob)
	}
	for _, want := range []string{"no process limit", "no-new-privileges off", "capabilities kept"} {
		if !strings.Contains(bob.Detail, want) {
			t.Errorf("bob's line %q lacks %q", bob.Detail, want)
		}
	}
	if !strings.Contains(bob.Advice, "stop bob's server and start it again") {
		t.Errorf("bob's advice = %q", bob.Advice)
	}
}
