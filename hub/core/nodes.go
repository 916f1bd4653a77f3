package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

// Noder lists the machines of the swarm servers run on; the Docker
// spawner is one. Nil nodes mean no swarm.
type Noder interface {
	Nodes(ctx context.Context) ([]spawner.Node, error)
}

// NodeCapacity is one machine of a swarm and its share of the capacity.
type NodeCapacity struct {
	spawner.Node
	// Free is the node's memory less what classhub's servers on it
	// reserve (or are limited to): approximate, as the engine reports
	// neither what they use on another node nor what else runs there.
	Free uint64
	// Students is how many servers the node holds, by the same rule as a
	// laptop: 0 for a node new servers do not land on.
	Students int
}

// Seater says how many servers can run at once for want of anything but
// memory: the hub as a Swarm service meets each on a seat of its own. 0
// is no bound.
type Seater interface {
	Seats() int
}

// PlanFor is the capacity of cfg's servers at cost, running of them now:
// over the nodes of the swarm sizer reports (when it is a Noder) if the
// servers are Swarm services, which land on any node, and no more than
// its seats (when it is a Seater); else over m, this machine, where
// containers run whatever swarm the engine is in.
func PlanFor(ctx context.Context, cfg config.Config, sizer Sizer, m Machine, cost ServerCost, running int) (Capacity, error) {
	limit, _ := cfg.MemoryBytes() // Validate checked it
	if noder, ok := sizer.(Noder); ok && cfg.Backend == config.BackendSwarm {
		nodes, err := noder.Nodes(ctx)
		if err != nil {
			return Capacity{}, err
		}
		if nodes != nil {
			c := PlanNodes(cfg.Image, nodes, m.Hub, cost, uint64(max(limit, 0)), running)
			if s, ok := sizer.(Seater); ok {
				c.seat(s.Seats())
			}
			return c, nil
		}
	}
	return PlanCapacity(cfg.Image, m, cost, uint64(max(limit, 0)), running), nil
}

// seat bounds the class at the hub's seats, when it has any.
func (c *Capacity) seat(seats int) {
	if seats > 0 {
		c.Seats = seats
		c.Students = min(c.Students, seats)
	}
}

// PlanNodes is PlanCapacity over a swarm's nodes: each usable node keeps
// its own reserve, the hub's node also the hub's memory, and the class
// holds what the nodes hold together. Machine sums the usable nodes.
func PlanNodes(image string, nodes []spawner.Node, hub uint64, cost ServerCost, memoryLimit uint64, running int) Capacity {
	c := Capacity{Image: image, Cost: cost, MemoryLimit: memoryLimit, Running: running, Nodes: make([]NodeCapacity, 0, len(nodes))}
	if memoryLimit > 0 && c.Cost.Memory > memoryLimit {
		c.Cost.Memory = memoryLimit
	}
	for _, n := range nodes {
		nc := NodeCapacity{Node: n}
		if n.Memory > n.Reserved {
			nc.Free = n.Memory - n.Reserved
		}
		if n.Usable() {
			m := Machine{Memory: n.Memory, CPUs: n.CPUs}
			if n.Self {
				m.Hub = hub
				c.Machine.Hub = hub
			}
			p := PlanCapacity(image, m, cost, memoryLimit, 0)
			nc.Students = p.Students
			c.Students += p.Students
			c.AtLimit += p.AtLimit
			c.Reserve += p.Reserve
			c.Machine.Memory += n.Memory
			c.Machine.CPUs += n.CPUs
		}
		c.Nodes = append(c.Nodes, nc)
	}
	return c
}

// NodeLines say each node of a swarm in one line, as the dashboard and
// the admin page list them; nil without a swarm. A server whose user
// visible refuses is counted but not named; nil visible names all.
func (c Capacity) NodeLines(visible func(user string) bool) []string {
	lines := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		var b strings.Builder
		b.WriteString(n.Hostname)
		role := n.Role
		if n.Leader {
			role += ", leader"
		}
		if n.Self {
			role += ", the hub's"
		}
		fmt.Fprintf(&b, " (%s): %s, %s; ", role, n.State, n.Availability)
		var named []string
		for _, u := range n.Servers {
			if visible == nil || visible(u) {
				named = append(named, u)
			}
		}
		switch others := len(n.Servers) - len(named); {
		case len(n.Servers) == 0:
			b.WriteString("no server")
		case others == 0:
			fmt.Fprintf(&b, "%s (%s)", plural(len(n.Servers), "server"), strings.Join(named, ", "))
		case len(named) == 0:
			b.WriteString(plural(len(n.Servers), "server"))
		default:
			fmt.Fprintf(&b, "%s (%s and %d more)", plural(len(n.Servers), "server"), strings.Join(named, ", "), others)
		}
		fmt.Fprintf(&b, "; about %s of %s free", Bytes(n.Free), Bytes(n.Memory))
		if n.Usable() {
			fmt.Fprintf(&b, "; holds about %s.", plural(n.Students, "student"))
		} else {
			b.WriteString("; new servers do not land here.")
		}
		lines = append(lines, b.String())
	}
	return lines
}
