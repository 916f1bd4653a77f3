package core

import (
	"context"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

// fakeNoder is fakeSizer on a swarm of nodes.
type fakeNoder struct {
	fakeSizer
	nodes []spawner.Node
}

func (n fakeNoder) Nodes(context.Context) ([]spawner.Node, error) { return n.nodes, nil }

func swarmNodes() []spawner.Node {
	return []spawner.Node{
		{Hostname: "lab1", Role: "manager", Leader: true, Self: true, State: "ready", Availability: "active", Memory: 8 * gib, CPUs: 4,
			Servers: []string{"alice", "bob"}, Reserved: 512 * mib},
		{Hostname: "lab2", Role: "worker", State: "ready", Availability: "active", Memory: 16 * gib, CPUs: 8},
		{Hostname: "lab3", Role: "worker", State: "down", Availability: "active", Memory: 16 * gib, CPUs: 8},
		{Hostname: "lab4", Role: "worker", State: "ready", Availability: "drain", Memory: 4 * gib, CPUs: 2},
	}
}

func TestPlanNodesSumsTheUsableNodes(t *testing.T) {
	cost := ServerCost{Memory: 256 * mib, CPU: -1, Source: CostDefault, Profile: "classic"}
	c := PlanNodes("img", swarmNodes(), 64*mib, cost, 0, 2)
	// lab1: 8 GiB less 1 GiB and the hub's 64 MiB, by 256 MiB: 27; lab2:
	// 16 GiB less 2 GiB: 56. lab3 is down and lab4 drained: none.
	want := []int{27, 56, 0, 0}
	for i, n := range c.Nodes {
		if n.Students != want[i] {
			t.Errorf("%s holds %d, want %d", n.Hostname, n.Students, want[i])
		}
	}
	if c.Students != 83 || c.Machine.Memory != 24*gib || c.Machine.CPUs != 12 || c.Reserve != 3*gib || c.Machine.Hub != 64*mib {
		t.Errorf("capacity %+v, want 83 students over lab1 and lab2 alone", c)
	}
	if c.Nodes[0].Free != 8*gib-512*mib || c.Nodes[1].Free != 16*gib {
		t.Errorf("free memory %d and %d, want each node's less its servers' reservations", c.Nodes[0].Free, c.Nodes[1].Free)
	}
	if s := c.Sentence(); s != "The swarm's 4 machines hold about 83 students (2 running now)." {
		t.Errorf("Sentence = %q", s)
	}
	if d := c.Detail(); !strings.Contains(d, "approximate") || !strings.Contains(d, "24.0 GiB of the nodes new servers land on") {
		t.Errorf("Detail does not say what it sums and what is approximate: %s", d)
	}
	if q := c.StartQuestion(90); !strings.Contains(q, "the swarm's 4 machines hold about 83 students") {
		t.Errorf("StartQuestion = %q", q)
	}
	lines := c.NodeLines(nil)
	for i, want := range []string{
		"lab1 (manager, leader, the hub's): ready, active; 2 servers (alice, bob); about 7.5 GiB of 8.0 GiB free; holds about 27 students.",
		"lab2 (worker): ready, active; no server; about 16.0 GiB of 16.0 GiB free; holds about 56 students.",
		"lab3 (worker): down, active; no server; about 16.0 GiB of 16.0 GiB free; new servers do not land here.",
		"lab4 (worker): ready, drain; no server; about 4.0 GiB of 4.0 GiB free; new servers do not land here.",
	} {
		if i >= len(lines) || lines[i] != want {
			t.Errorf("line %d = %q, want %q", i, lines, want)
		}
	}
}

// TestNodeLinesNameOnlyVisibleServers: an instructor of some students
// sees how many servers a node runs, and the names of theirs alone.
func TestNodeLinesNameOnlyVisibleServers(t *testing.T) {
	c := PlanNodes("img", swarmNodes(), 0, ServerCost{Memory: 256 * mib}, 0, 2)
	for _, tt := range []struct {
		visible func(string) bool
		want    string
	}{
		{func(u string) bool { return u == "bob" }, "2 servers (bob and 1 more);"},
		{func(string) bool { return false }, "2 servers;"},
	} {
		if line := c.NodeLines(tt.visible)[0]; !strings.Contains(line, tt.want) || strings.Contains(line, "alice") {
			t.Errorf("line %q, want %q and no alice", line, tt.want)
		}
	}
}

// TestCapacityOverTheSwarm: the swarm backend counts the nodes; the
// container backend, on the same engine, this machine alone, with no
// node lines.
func TestCapacityOverTheSwarm(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.sizer = fakeNoder{fakeSizer: fakeSizer{memory: 8 * gib, cpus: 4, imageID: "sha256:cur", profile: "classic"}, nodes: swarmNodes()}
	ctx := context.Background()
	c, err := f.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes != nil || !strings.HasPrefix(c.Sentence(), "This laptop holds") {
		t.Errorf("the container backend shows nodes: %+v", c)
	}
	f.hub.mu.Lock()
	f.hub.cfg.Backend = config.BackendSwarm
	f.hub.mu.Unlock()
	if c, err = f.hub.Capacity(ctx); err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 4 || c.Machine.Memory != 24*gib || !strings.HasPrefix(c.Sentence(), "The swarm's 4 machines hold") {
		t.Errorf("the swarm backend does not count its nodes: %+v", c)
	}
	// An engine in no swarm: this machine, as before.
	f.hub.sizer = fakeNoder{fakeSizer: fakeSizer{memory: 8 * gib, cpus: 4}}
	if c, err = f.hub.Capacity(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Nodes != nil || len(c.NodeLines(nil)) != 0 || !strings.HasPrefix(c.Sentence(), "This laptop holds") {
		t.Errorf("no swarm, yet: %+v", c)
	}
}

// fakeSeater is a swarm with a hub service of seats seats.
type fakeSeater struct {
	fakeNoder
	seats int
}

func (f fakeSeater) Seats() int { return f.seats }

// TestCapacityBoundBySeats: the hub as a Swarm service runs no more
// servers at once than its seats, whatever memory the nodes have, and
// says so; more seats than memory allows change nothing.
func TestCapacityBoundBySeats(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.mu.Lock()
	f.hub.cfg.Backend = config.BackendSwarm
	f.hub.mu.Unlock()
	noder := fakeNoder{fakeSizer: fakeSizer{memory: 8 * gib, cpus: 4, imageID: "sha256:cur", profile: "classic"}, nodes: swarmNodes()}
	ctx := context.Background()
	f.hub.sizer = noder
	free, err := f.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.hub.sizer = fakeSeater{fakeNoder: noder, seats: 2}
	c, err := f.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if free.Students <= 2 || c.Students != 2 || !strings.Contains(c.Sentence(), "2 students, as many as the hub's seats") {
		t.Errorf("2 seats, memory for %d: %d students, %q", free.Students, c.Students, c.Sentence())
	}
	if q := c.StartQuestion(3); !strings.Contains(q, "the hub has 2 seats") || !strings.Contains(q, "--seats") {
		t.Errorf("starting past the seats asks %q", q)
	}
	f.hub.sizer = fakeSeater{fakeNoder: noder, seats: free.Students + 10}
	if c, err = f.hub.Capacity(ctx); err != nil || c.Students != free.Students || strings.Contains(c.Sentence(), "seats") {
		t.Errorf("more seats than memory allows: %+v, %v", c, err)
	}
}
