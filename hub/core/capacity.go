package core

import (
	"fmt"
	"strings"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// How many students a laptop holds is a matter of memory: an idle
// notebook server, or one with an idle kernel, uses next to no CPU
// (measured here: under 0.1 % of a CPU each), but each holds its memory
// for the whole class. The figures below were measured on this project's
// machine with classhub's images (docker stats, page cache excluded):
// jupyterhub-singleuser idles at 96 MiB (classic) to 102 MiB (scipy), and
// starting a Python kernel adds 78 MiB to either.

const mib = 1 << 20

// kernelCost is what a running kernel adds to an idle server: the 78 MiB
// measured, with room for what a first cell imports.
const kernelCost = 128 * mib

// defaultCosts are what a server with a running kernel is taken to cost,
// by the profile classhub built its image with, before any server of the
// image has run here: the measured figures rounded well up.
var defaultCosts = map[string]uint64{
	"classic": 256 * mib,
	"lab":     256 * mib,
	"scipy":   320 * mib,
}

// foreignCost is defaultCosts' figure for an image classhub did not
// build, which may carry anything: the Docker Stacks' images idle at
// about twice classhub's.
const foreignCost = 512 * mib

// CostSource says where a ServerCost's figure comes from.
type CostSource string

// The sources of a ServerCost, the best first.
const (
	// CostClass: the class's own servers of the image, running now.
	CostClass CostSource = "class"
	// CostRecorded: an idle server of the image measured here before,
	// plus a kernel.
	CostRecorded CostSource = "recorded"
	// CostDefault: the image's profile's default; nothing measured yet.
	CostDefault CostSource = "default"
)

// ServerCost is what one student's server, with a kernel running, costs.
type ServerCost struct {
	// Memory is in bytes; CPU is 100 per CPU, -1 when unknown.
	Memory uint64
	CPU    float64
	Source CostSource
	// Servers counts the running servers the class's figure is the mean
	// of; ClassMemory is that mean, also when the estimate is larger.
	Servers     int
	ClassMemory uint64
	// Idle is the recorded idle server's memory (CostRecorded).
	Idle uint64
	// Profile is the image's classhub profile, "" for another image.
	Profile string
}

// EstimateCost decides what one student's server of an image costs: the
// mean of the class's running servers of the image (class, sampled) when
// that is more than an idle server and a kernel would be; else an idle
// server recorded on this machine plus a kernel; else the image's
// profile's default. The estimate is never below what one server with a
// kernel needs, so a class whose servers were all just started, idle, is
// not taken to fit more students than it will once they work.
func EstimateCost(class []spawner.Stats, recorded *store.ImageCost, profile string) ServerCost {
	c := ServerCost{CPU: -1, Profile: profile}
	if recorded != nil && recorded.Memory > 0 {
		c.Memory, c.CPU, c.Idle, c.Source = recorded.Memory+kernelCost, recorded.CPU, recorded.Memory, CostRecorded
	} else {
		c.Memory, c.Source = defaultCosts[profile], CostDefault
		if c.Memory == 0 {
			c.Memory = foreignCost
		}
	}
	if len(class) == 0 {
		return c
	}
	var mem uint64
	var cpu float64
	for _, s := range class {
		mem += s.MemoryBytes
		cpu += s.CPUPercent
	}
	c.Servers, c.ClassMemory = len(class), mem/uint64(len(class))
	c.CPU = cpu / float64(len(class))
	if c.ClassMemory > c.Memory {
		c.Memory, c.Source = c.ClassMemory, CostClass
	}
	return c
}

// Machine is what a laptop gives its servers.
type Machine struct {
	// Memory is what the engine may give containers (on macOS and
	// Windows, its virtual machine's), in bytes; CPUs, its CPUs.
	Memory uint64
	CPUs   int
	// Hub is the memory the hub itself uses.
	Hub uint64
}

// HubAllowance is the memory a hub running in another process is taken
// to use, for `classhub doctor`: classhub's hub idles at a few tens of
// MiB with a class connected (bench/results).
const HubAllowance = 64 * mib

// reserveOf is the memory a laptop of memory bytes keeps for its own
// system, the instructor's browser and the engine: an eighth, at least
// 1 GiB.
func reserveOf(memory uint64) uint64 { return max(memory/8, 1024*mib) }

// Capacity is how many students' servers a laptop holds, and why.
type Capacity struct {
	// Students is how many servers fit; Running, how many run now.
	Students, Running int
	// Image is the notebook image servers start from.
	Image   string
	Cost    ServerCost
	Machine Machine
	// Reserve is the memory kept for everything but the servers.
	Reserve uint64
	// MemoryLimit is memory_limit in bytes, 0 for none; AtLimit is how
	// many servers fit if each used all of it.
	MemoryLimit uint64
	AtLimit     int
	// Nodes are the swarm's machines, which Machine and Reserve sum
	// (PlanNodes); nil for one machine.
	Nodes []NodeCapacity
	// Seats is how many servers the hub as a Swarm service runs at once
	// (see Seater), which Students never exceeds; 0 for no bound.
	Seats int
}

// seatBound says the hub's seats, not memory, bound the class.
func (c Capacity) seatBound() bool { return c.Seats > 0 && c.Students == c.Seats }

// PlanCapacity works out how many servers of cost fit in m, with running
// servers running now, each capped at memoryLimit (0: none).
func PlanCapacity(image string, m Machine, cost ServerCost, memoryLimit uint64, running int) Capacity {
	c := Capacity{Image: image, Machine: m, Cost: cost, Reserve: reserveOf(m.Memory), MemoryLimit: memoryLimit, Running: running}
	// A server cannot use more than its limit.
	if memoryLimit > 0 && c.Cost.Memory > memoryLimit {
		c.Cost.Memory = memoryLimit
	}
	var free uint64
	if m.Memory > c.Reserve+m.Hub {
		free = m.Memory - c.Reserve - m.Hub
	}
	if c.Cost.Memory > 0 {
		c.Students = int(free / c.Cost.Memory)
	}
	if memoryLimit > 0 {
		c.AtLimit = int(free / memoryLimit)
	}
	return c
}

// Sentence is the capacity in one line, as the dashboard, the admin page
// and `classhub doctor` say it.
func (c Capacity) Sentence() string {
	if c.seatBound() {
		return fmt.Sprintf("%s %s, as many as the hub's seats (%d running now).", c.holder(true), plural(c.Students, "student"), c.Running)
	}
	return fmt.Sprintf("%s about %s (%d running now).", c.holder(true), plural(c.Students, "student"), c.Running)
}

// holder names what holds the servers, with its verb: this laptop, or a
// swarm's machines.
func (c Capacity) holder(first bool) string {
	h := "this laptop holds"
	switch {
	case len(c.Nodes) == 1:
		h = "the swarm's one machine holds"
	case c.Nodes != nil:
		h = fmt.Sprintf("the swarm's %d machines hold", len(c.Nodes))
	}
	if first {
		return strings.ToUpper(h[:1]) + h[1:]
	}
	return h
}

// Detail says where the figures come from.
func (c Capacity) Detail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Each server with a running kernel is taken to use about %s: ", Bytes(c.Cost.Memory))
	switch c.Cost.Source {
	case CostClass:
		fmt.Fprintf(&b, "the mean of the %s of %s running now", plural(c.Cost.Servers, "server"), c.Image)
	case CostRecorded:
		fmt.Fprintf(&b, "an idle server of %s used %s on this laptop, and a kernel adds about %s", c.Image, Bytes(c.Cost.Idle), Bytes(kernelCost))
	default:
		what := "the " + c.Cost.Profile + " profile"
		if c.Cost.Profile == "" {
			what = "an image classhub did not build"
		}
		fmt.Fprintf(&b, "classhub's cautious default for %s, as no idle server of %s has been measured here yet", what, c.Image)
	}
	switch {
	case c.Cost.Source != CostClass && c.Cost.Servers == 1:
		fmt.Fprintf(&b, " (the server running now uses %s)", Bytes(c.Cost.ClassMemory))
	case c.Cost.Source != CostClass && c.Cost.Servers > 1:
		fmt.Fprintf(&b, " (the %d servers running now use %s on average)", c.Cost.Servers, Bytes(c.Cost.ClassMemory))
	}
	if c.MemoryLimit > 0 && c.Cost.Memory == c.MemoryLimit {
		fmt.Fprintf(&b, ", capped at memory_limit")
	}
	if c.Nodes != nil {
		fmt.Fprintf(&b, ". The servers may use %s: the %s of the nodes new servers land on, less %s each keeps for its system (an eighth, at least 1 GiB) and %s for the hub. "+
			"A node's free memory is its memory less what classhub's servers on it reserve or are limited to: the engine reports no more, so it is approximate.",
			Bytes(c.free()), Bytes(c.Machine.Memory), Bytes(c.Reserve), Bytes(c.Machine.Hub))
	} else {
		fmt.Fprintf(&b, ". The servers may use %s: the engine's %s less %s kept for the system and %s for the hub.",
			Bytes(c.free()), Bytes(c.Machine.Memory), Bytes(c.Reserve), Bytes(c.Machine.Hub))
	}
	if c.MemoryLimit > 0 {
		fmt.Fprintf(&b, " If every server used all its memory_limit of %s, %s would fit.", Bytes(c.MemoryLimit), plural(c.AtLimit, "server"))
	}
	switch {
	case c.Cost.Servers > 0:
		fmt.Fprintf(&b, " The servers running now use %.1f%% of a CPU each on average, of the engine's %s.", c.Cost.CPU, plural(c.Machine.CPUs, "CPU"))
	case c.Cost.CPU >= 0:
		fmt.Fprintf(&b, " The idle server used %.1f%% of a CPU, of the engine's %s.", c.Cost.CPU, plural(c.Machine.CPUs, "CPU"))
	}
	return b.String()
}

func (c Capacity) free() uint64 {
	if c.Machine.Memory > c.Reserve+c.Machine.Hub {
		return c.Machine.Memory - c.Reserve - c.Machine.Hub
	}
	return 0
}

// StartQuestion asks whether to start n more servers when that takes the
// laptop past its capacity, with the numbers; "" when they fit. It is a
// question, not a refusal: the estimate may be cautious, and the
// instructor knows the class.
func (c Capacity) StartQuestion(n int) string {
	if n <= 0 || c.Running+n <= c.Students {
		return ""
	}
	if c.seatBound() {
		return fmt.Sprintf("Start %s? That makes %d running, and the hub has %s: the starts past them fail until a server stops (`classhub swarm deploy --seats N` on the hub's node adds more).",
			plural(n, "server"), c.Running+n, plural(c.Seats, "seat"))
	}
	return fmt.Sprintf("Start %s? That makes %d running, and %s about %s (each about %s of the %s the servers may use). "+
		"Servers past that may be slow or killed for lack of memory.", plural(n, "server"), c.Running+n, c.holder(false), plural(c.Students, "student"),
		Bytes(c.Cost.Memory), Bytes(c.free()))
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
