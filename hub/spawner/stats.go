package spawner

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
)

// Stats samples the running server's memory and CPU use. It takes about a
// second: the engine measures CPU over an interval.
func (d *Docker) Stats(ctx context.Context, user string) (Stats, error) {
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return Stats{}, fmt.Errorf("stats %s: %w", user, err)
	}
	if !found || !info.State.Running {
		return Stats{}, fmt.Errorf("stats %s: %w", user, ErrNotRunning)
	}
	resp, err := d.run.stats(ctx, info.ID)
	if err != nil {
		return Stats{}, fmt.Errorf("stats %s: %w", user, engine.Explain(err))
	}
	defer resp.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return Stats{}, fmt.Errorf("stats %s: read: %w", user, err)
	}
	out := StatsFrom(s)
	out.ImageID = info.Image
	if info.Config != nil {
		out.Image = info.Config.Image
	}
	return out, nil
}

// StatsFrom computes what `docker stats` shows from one sample of the
// engine's stats: the spawner's Stats and the benchmarks read it alike.
func StatsFrom(s container.StatsResponse) Stats {
	out := Stats{MemoryLimit: s.MemoryStats.Limit, PIDs: s.PidsStats.Current}
	used := s.MemoryStats.Usage
	// Page cache is reclaimable: cgroup v1 calls it total_inactive_file,
	// v2 inactive_file.
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.MemoryStats.Stats[k]; ok {
			if v < used {
				used -= v
			}
			break
		}
	}
	out.MemoryBytes = used
	cpu := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sys := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	n := float64(s.CPUStats.OnlineCPUs)
	if n == 0 {
		n = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpu > 0 && sys > 0 {
		out.CPUPercent = cpu / sys * n * 100
	}
	return out
}
