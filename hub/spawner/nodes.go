package spawner

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/classhub/classhub/hub/engine"
)

// Node is one machine of the engine's swarm, as its managers report it.
type Node struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	// Role is "manager" or "worker"; Leader marks the managers' leader.
	Role   string `json:"role"`
	Leader bool   `json:"leader"`
	// Self marks the node of the engine classhub talks to, where the hub
	// runs.
	Self bool `json:"self"`
	// State is the node's link with the managers: "ready", "down",
	// "disconnected" or "unknown".
	State string `json:"state"`
	// Availability is whether new services land on it: "active",
	// "pause" or "drain".
	Availability string `json:"availability"`
	// Memory is the node's memory in bytes and CPUs its CPUs, as its
	// engine reported them when it joined or last changed.
	Memory uint64 `json:"memory"`
	CPUs   int    `json:"cpus"`
	// Servers are the users whose classhub servers run on the node, by
	// name.
	Servers []string `json:"servers"`
	// Reserved is the memory the node's classhub servers reserve, or
	// are limited to when they reserve none: the engine reports no use
	// of a task on another node, so this, not their use, is what the
	// free memory is counted from.
	Reserved uint64 `json:"reserved"`
}

// Usable says new servers may land on the node.
func (n Node) Usable() bool {
	return n.State == string(swarm.NodeStateReady) && n.Availability == string(swarm.NodeAvailabilityActive)
}

// Nodes lists the swarm's nodes, each with the classhub servers running
// on it; nil when the engine manages no swarm (it is in none, or is a
// worker, which may not list them).
func (d *Docker) Nodes(ctx context.Context) ([]Node, error) {
	info, err := d.cli.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine info: %w", engine.Explain(err))
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		return nil, nil
	}
	list, err := d.cli.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the swarm's nodes: %w", engine.Explain(err))
	}
	services, err := d.cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", engine.ManagedFilter()), filters.Arg("label", engine.LabelRole+"=server"))})
	if err != nil {
		return nil, fmt.Errorf("list classhub's services: %w", engine.Explain(err))
	}
	byID := make(map[string]swarm.Service, len(services))
	for _, s := range services {
		byID[s.ID] = s
	}
	var tasks []swarm.Task
	if len(services) > 0 {
		if tasks, err = d.cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("desired-state", "running"))}); err != nil {
			return nil, fmt.Errorf("list the swarm's tasks: %w", engine.Explain(err))
		}
	}
	nodes := make([]Node, 0, len(list))
	at := make(map[string]int, len(list))
	for _, n := range list {
		node := Node{ID: n.ID, Hostname: n.Description.Hostname, Role: string(n.Spec.Role), State: string(n.Status.State),
			Availability: string(n.Spec.Availability), Memory: uint64(max(n.Description.Resources.MemoryBytes, 0)),
			CPUs: int(n.Description.Resources.NanoCPUs / 1e9)}
		node.Leader = n.ManagerStatus != nil && n.ManagerStatus.Leader
		node.Self = n.ID == info.Swarm.NodeID
		at[n.ID] = len(nodes)
		nodes = append(nodes, node)
	}
	for _, t := range tasks {
		s, ok := byID[t.ServiceID]
		i, placed := at[t.NodeID]
		if !ok || !placed || t.Status.State != swarm.TaskStateRunning {
			continue
		}
		nodes[i].Servers = append(nodes[i].Servers, s.Spec.Labels[engine.LabelUser])
		nodes[i].Reserved += taskMemory(t)
	}
	for i := range nodes {
		slices.Sort(nodes[i].Servers)
	}
	slices.SortFunc(nodes, func(a, b Node) int {
		return cmp.Or(strings.Compare(a.Hostname, b.Hostname), strings.Compare(a.ID, b.ID))
	})
	return nodes, nil
}

// taskMemory is the memory a task reserves, else its limit, else none.
func taskMemory(t swarm.Task) uint64 {
	r := t.Spec.Resources
	if r == nil {
		return 0
	}
	if r.Reservations != nil && r.Reservations.MemoryBytes > 0 {
		return uint64(r.Reservations.MemoryBytes)
	}
	if r.Limits != nil && r.Limits.MemoryBytes > 0 {
		return uint64(r.Limits.MemoryBytes)
	}
	return 0
}
