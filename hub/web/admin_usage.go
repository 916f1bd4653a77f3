package web

import (
	"context"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
)

// adminStatsEvery is how often the admin page's event feed samples the
// running servers' CPU and memory: the engine publishes no event for
// them, and sampling takes it about a second a server, so only while an
// admin page is open, and pages open at once share the samples.
const adminStatsEvery = 10 * time.Second

// usageCells are a server's CPU and memory as the admin page shows them.
type usageCells struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

func cellsOf(s spawner.Stats) usageCells {
	cpu := fmt.Sprintf("%.0f%%", s.CPUPercent)
	if s.CPUPercent < 10 {
		cpu = fmt.Sprintf("%.1f%%", s.CPUPercent)
	}
	return usageCells{CPU: cpu, Memory: core.Bytes(s.MemoryBytes) + " / " + core.Bytes(s.MemoryLimit)}
}

// capacityView is the admin page's line on how many students the laptop
// holds, and the question Start all asks first when it would go past it.
type capacityView struct {
	Sentence, Detail string
	StartQuestion    string
	// Nodes are a swarm's machines, a line each; none for one machine.
	Nodes []string
}

// capacityOf says the capacity to p, asking about starting toStart
// servers; the zero view when the hub cannot measure the machine. The
// nodes name only the servers p may see.
func (wb *Web) capacityOf(ctx context.Context, p auth.Principal, toStart int) capacityView {
	c, err := wb.hub.Capacity(ctx)
	if err != nil {
		return capacityView{}
	}
	return capacityView{Sentence: c.Sentence(), Detail: c.Detail(), StartQuestion: c.StartQuestion(toStart),
		Nodes: c.NodeLines(func(user string) bool { return scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(user, "")) })}
}

// adminUsage is the admin page's live figures, sent on its event feed as
// "usage" events: each running server's CPU and memory that the admin may
// see, and the capacity.
type adminUsage struct {
	Servers  map[string]usageCells `json:"servers"`
	Capacity string                `json:"capacity"`
	Detail   string                `json:"detail"`
	Nodes    []string              `json:"nodes"`
}

// usageFor samples the running servers (those sampled in the last
// adminStatsEvery are not sampled again) and keeps what p may see.
func (wb *Web) usageFor(ctx context.Context, p auth.Principal) adminUsage {
	u := adminUsage{Servers: map[string]usageCells{}}
	for name, s := range wb.hub.SampleStats(ctx, adminStatsEvery) {
		if scopes.Allows(p.Scopes, "read:servers", scopes.OnServer(name, "")) {
			u.Servers[name] = cellsOf(s)
		}
	}
	c := wb.capacityOf(ctx, p, 0)
	u.Capacity, u.Detail, u.Nodes = c.Sentence, c.Detail, c.Nodes
	return u
}
