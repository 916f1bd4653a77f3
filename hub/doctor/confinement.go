package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

// confinementCheck reports how the settings confine each server: weak,
// not failed, when a limit is off, since classhub still runs.
func confinementCheck(cfg config.Config, eng spawner.EngineInfo) Check {
	var have, advice []string
	if cfg.PidsLimit > 0 && !eng.PidsLimit {
		have = append(have, "no process limit (this kernel cannot count processes)")
		advice = append(advice, "run a kernel with the pids cgroup controller mounted, so that pids_limit can stop a fork bomb")
	} else if cfg.PidsLimit > 0 {
		have = append(have, fmt.Sprintf("at most %d processes", cfg.PidsLimit))
	} else {
		have = append(have, "no process limit")
		advice = append(advice, fmt.Sprintf("set pids_limit = %d in the config so one student's fork bomb cannot slow the laptop", config.DefaultPidsLimit))
	}
	if cfg.MemoryLimit != "" {
		have = append(have, cfg.MemoryLimit+" of memory")
	} else {
		have = append(have, "no memory limit")
		advice = append(advice, `set memory_limit (e.g. "2G") in the config so one student cannot use all the laptop's memory`)
	}
	if cfg.CPULimit > 0 {
		have = append(have, fmt.Sprintf("%g CPU", cfg.CPULimit))
	} else {
		have = append(have, "no CPU limit")
		advice = append(advice, "set cpu_limit (e.g. 1) in the config so one student cannot take every core")
	}
	have = append(have, "no capabilities", "no new privileges")
	c := Check{Name: "confinement", OK: true, Detail: "each server gets " + strings.Join(have, ", ")}
	if len(advice) > 0 {
		c.Weak = true
		c.Advice = strings.Join(advice, "; ") + "; then stop and start the servers"
	}
	return c
}

// serverChecks has a line for each running server whose container is less
// confined than the settings make them (made by an older classhub, or
// before a limit was set), and one line when all are confined.
func serverChecks(servers []spawner.Server, hostConfig func(id string) (*container.HostConfig, error)) []Check {
	running, confined := 0, 0
	var out []Check
	for _, s := range servers {
		if s.State != spawner.StateRunning {
			continue
		}
		running++
		hc, err := hostConfig(s.ID)
		if err != nil {
			out = append(out, Check{Name: "server " + s.User, OK: true, Weak: true, Detail: "cannot inspect " + s.Container + ": " + err.Error(),
				Advice: "run `classhub doctor` again; if it persists, stop and start " + s.User + "'s server"})
			continue
		}
		weak := spawner.Weaknesses(hc)
		if len(weak) == 0 {
			confined++
			continue
		}
		what := make([]string, len(weak))
		for i, w := range weak {
			what[i] = w.What
		}
		// The settings' own gaps have their line above; here the cure is
		// a new container.
		out = append(out, Check{Name: "server " + s.User, OK: true, Weak: true,
			Detail: s.Container + " runs with " + strings.Join(what, ", "),
			Advice: "stop " + s.User + "'s server and start it again: classhub recreates its container with the current settings"})
	}
	if running == 0 {
		return []Check{{Name: "servers", OK: true, Detail: "none running"}}
	}
	if confined > 0 {
		out = append([]Check{{Name: "servers", OK: true, Detail: fmt.Sprintf("%d of %d running servers are confined as the settings say", confined, running)}}, out...)
	}
	return out
}

// runningServerChecks lists the engine's servers for serverChecks.
func runningServerChecks(ctx context.Context, sp *spawner.Docker, cli *client.Client) []Check {
	servers, err := sp.List(ctx)
	if err != nil {
		return []Check{{Name: "servers", OK: true, Weak: true, Detail: err.Error(), Advice: "run `classhub doctor` again to see how running servers are confined"}}
	}
	return serverChecks(servers, func(id string) (*container.HostConfig, error) { return sp.HostConfig(ctx, id) })
}
