package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

func TestBackendProblems(t *testing.T) {
	swarm := config.Default()
	swarm.Backend = config.BackendSwarm
	withDriver := swarm
	withDriver.VolumeDriver = "vieux/sshfs"
	docker := config.Default()
	dockerDriver := docker
	dockerDriver.VolumeDriver = "nfsplugin"
	manager := spawner.EngineInfo{SwarmState: "active", Manager: true, VolumeDrivers: []string{"local"}}
	tests := []struct {
		name string
		cfg  config.Config
		eng  spawner.EngineInfo
		// want are the checks that fail, each with a word its advice
		// must hold.
		want map[string]string
	}{
		{"containers in no swarm", docker, spawner.EngineInfo{SwarmState: "inactive"}, nil},
		{"containers on a worker", docker, spawner.EngineInfo{SwarmState: "active"}, nil},
		{"swarm on a manager", swarm, manager, nil},
		{"swarm in no swarm", swarm, spawner.EngineInfo{SwarmState: "inactive"}, map[string]string{"swarm": "docker swarm init"}},
		{"swarm, state unknown", swarm, spawner.EngineInfo{}, map[string]string{"swarm": "docker swarm init"}},
		{"swarm on a worker", swarm, spawner.EngineInfo{SwarmState: "active"}, map[string]string{"swarm manager": "manager node"}},
		{"swarm pending", swarm, spawner.EngineInfo{SwarmState: "pending"}, map[string]string{"swarm": "wait"}},
		{"swarm locked", swarm, spawner.EngineInfo{SwarmState: "locked", Manager: true}, map[string]string{"swarm": "docker swarm unlock"}},
		{"swarm in error", swarm, spawner.EngineInfo{SwarmState: "error", SwarmError: "no quorum"}, map[string]string{"swarm": "docker swarm leave"}},
		{"driver missing", withDriver, manager, map[string]string{"volume driver": "docker plugin install vieux/sshfs"}},
		{"driver installed with its tag", withDriver,
			spawner.EngineInfo{SwarmState: "active", Manager: true, VolumeDrivers: []string{"local", "vieux/sshfs:latest"}}, nil},
		{"driver missing on a worker too", withDriver, spawner.EngineInfo{SwarmState: "active"},
			map[string]string{"swarm manager": "docker node promote", "volume driver": "remove volume_driver"}},
		{"driver missing with containers", dockerDriver, spawner.EngineInfo{VolumeDrivers: []string{"local"}}, map[string]string{"volume driver": "nfsplugin"}},
		{"the local driver named", func() config.Config { c := swarm; c.VolumeDriver = "local"; return c }(), manager, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BackendProblems(tt.cfg, tt.eng)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %+v, want %d", got, len(tt.want))
			}
			for _, p := range got {
				word, ok := tt.want[p.Check]
				if !ok {
					t.Errorf("unexpected problem %+v", p)
					continue
				}
				if !strings.Contains(p.Advice, word) || p.Detail == "" || !strings.Contains(p.Error(), p.Advice) {
					t.Errorf("problem %+v: want a detail and advice holding %q", p, word)
				}
			}
		})
	}
}

// reportingSpawner is the fake spawner on an engine of given facts.
type reportingSpawner struct {
	*spawnertest.Spawner
	eng atomic.Pointer[spawner.EngineInfo]
}

func (s *reportingSpawner) Engine(context.Context) (spawner.EngineInfo, error) {
	return *s.eng.Load(), nil
}

// TestAFailedStartSaysTheBackendProblem: a start that fails on an engine
// in no swarm, with backend = "swarm", says what to do in its progress
// and its failure, with the engine's own words after; a failure with
// nothing wrong in the backend is left as it is.
func TestAFailedStartSaysTheBackendProblem(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp := &reportingSpawner{Spawner: spawnertest.New()}
	sp.eng.Store(&spawner.EngineInfo{SwarmState: "inactive"})
	cfg := config.Default()
	cfg.Backend = config.BackendSwarm
	f := &fixture{sp: sp.Spawner, router: spawnertest.NewRouter(), store: st}
	f.hub = New(Options{Config: cfg, Store: st, Spawner: sp, Router: f.router, Bus: events.NewBus(64), HubPort: 8081,
		SlowSpawn: 200 * time.Millisecond})
	t.Cleanup(f.hub.Close)
	if _, err := f.hub.AddUsers(context.Background(), []string{"alice", "bob"}, false); err != nil {
		t.Fatal(err)
	}
	engineSaid := "Error response from daemon: This node is not a swarm manager."
	sp.FailWith("alice", errors.New(engineSaid))
	s, _ := f.startWait(t, "alice")
	if !strings.HasPrefix(s.Failed, `backend = "swarm", but this engine is in no swarm: make this machine a swarm's first manager with `+"`docker swarm init`") ||
		!strings.HasSuffix(s.Failed, "("+engineSaid+")") {
		t.Errorf("alice's failure %q, want the swarm's problem and the engine's words", s.Failed)
	}
	evs, _, _ := f.hub.Progress("alice", 0)
	if last := evs[len(evs)-1]; !last.Failed || !strings.Contains(last.Message, "docker swarm init") {
		t.Errorf("alice's progress ends %+v, want the swarm's problem", last)
	}

	// A manager: the failure is the image's, and says so alone.
	sp.eng.Store(&spawner.EngineInfo{SwarmState: "active", Manager: true})
	sp.FailWith("bob", errors.New("image classhub/notebook:latest is missing"))
	if s, _ := f.startWait(t, "bob"); s.Failed != "image classhub/notebook:latest is missing" {
		t.Errorf("bob's failure %q, want the image's alone", s.Failed)
	}
}

func TestOverlayWeakness(t *testing.T) {
	swarm := config.Config{Backend: config.BackendSwarm}
	for version, weak := range map[string]bool{
		"19.03.15":       true,
		"20.10.23":       true,
		"20.10.24+dfsg1": false,
		"20.10.25":       false,
		"23.0.2":         true,
		"23.0.3":         false,
		"24.0.7":         false,
		"28.5.1":         false,
		"dev":            false,
	} {
		p, ok := OverlayWeakness(swarm, spawner.EngineInfo{Version: version})
		if ok != weak {
			t.Errorf("Docker %s: weak = %v, want %v", version, ok, weak)
		}
		if ok && (!strings.Contains(p.Detail, version) || p.Advice == "") {
			t.Errorf("Docker %s: %+v says neither the version nor what to do", version, p)
		}
	}
	if _, ok := OverlayWeakness(config.Config{}, spawner.EngineInfo{Version: "20.10.1"}); ok {
		t.Error("the container backend, which makes no overlay, was weak")
	}
}
