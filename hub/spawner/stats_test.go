package spawner

import (
	"testing"

	"github.com/docker/docker/api/types/container"
)

func TestStatsFrom(t *testing.T) {
	var s container.StatsResponse
	s.MemoryStats = container.MemoryStats{Usage: 500, Limit: 1000, Stats: map[string]uint64{"total_inactive_file": 100}}
	s.PidsStats.Current = 7
	s.CPUStats.CPUUsage.TotalUsage = 3_000
	s.PreCPUStats.CPUUsage.TotalUsage = 1_000
	s.CPUStats.SystemUsage = 20_000
	s.PreCPUStats.SystemUsage = 10_000
	s.CPUStats.OnlineCPUs = 2
	got := StatsFrom(s)
	want := Stats{MemoryBytes: 400, MemoryLimit: 1000, CPUPercent: 40, PIDs: 7}
	if got != want {
		t.Errorf("StatsFrom = %+v, want %+v", got, want)
	}
	// cgroup v2 names the page cache differently; no sample yet means 0 %.
	s.MemoryStats.Stats = map[string]uint64{"inactive_file": 50}
	s.PreCPUStats = s.CPUStats
	if got := StatsFrom(s); got.MemoryBytes != 450 || got.CPUPercent != 0 {
		t.Errorf("cgroup v2 / first sample: %+v", got)
	}
}
