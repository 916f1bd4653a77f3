package core

import (
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
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
