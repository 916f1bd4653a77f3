package core

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

const gib = 1024 * mib

func TestEstimateCostTakesTheBestSourceNeverBelowAKernel(t *testing.T) {
	recorded := &store.ImageCost{ImageID: "sha256:s", Memory: 100 * mib, CPU: 0.2}
	for _, tc := range []struct {
		name    string
		class   []spawner.Stats
		rec     *store.ImageCost
		profile string
		want    ServerCost
	}{
		{"nothing measured, classhub's scipy", nil, nil, "scipy",
			ServerCost{Memory: 320 * mib, CPU: -1, Source: CostDefault, Profile: "scipy"}},
		{"nothing measured, a foreign image", nil, nil, "",
			ServerCost{Memory: 512 * mib, CPU: -1, Source: CostDefault}},
		{"an idle server recorded", nil, recorded, "scipy",
			ServerCost{Memory: 100*mib + kernelCost, CPU: 0.2, Source: CostRecorded, Idle: 100 * mib, Profile: "scipy"}},
		{"the class uses more than a kernel", []spawner.Stats{{MemoryBytes: 300 * mib, CPUPercent: 1}, {MemoryBytes: 500 * mib, CPUPercent: 3}}, recorded, "scipy",
			ServerCost{Memory: 400 * mib, CPU: 2, Source: CostClass, Servers: 2, ClassMemory: 400 * mib, Idle: 100 * mib, Profile: "scipy"}},
		{"the class just started, idle", []spawner.Stats{{MemoryBytes: 100 * mib}, {MemoryBytes: 110 * mib}}, recorded, "scipy",
			ServerCost{Memory: 100*mib + kernelCost, CPU: 0, Source: CostRecorded, Servers: 2, ClassMemory: 105 * mib, Idle: 100 * mib, Profile: "scipy"}},
		{"the class with nothing recorded", []spawner.Stats{{MemoryBytes: 600 * mib}}, nil, "classic",
			ServerCost{Memory: 600 * mib, CPU: 0, Source: CostClass, Servers: 1, ClassMemory: 600 * mib, Profile: "classic"}},
	} {
		if got := EstimateCost(tc.class, tc.rec, tc.profile); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestPlanCapacity(t *testing.T) {
	cost := ServerCost{Memory: 256 * mib, Source: CostDefault, Profile: "classic", CPU: -1}
	for _, tc := range []struct {
		name                        string
		m                           Machine
		limit                       uint64
		wantStudents, wantAt        int
		wantReserve, wantCostMemory uint64
	}{
		// 16 GiB keeps 2 GiB; 14 GiB less the hub's 64 MiB is 55 servers of 256 MiB.
		{"16 GiB, no limit", Machine{Memory: 16 * gib, CPUs: 4, Hub: 64 * mib}, 0, 55, 0, 2 * gib, 256 * mib},
		// 4 GiB keeps the floor of 1 GiB: 3 GiB is 12 servers.
		{"4 GiB", Machine{Memory: 4 * gib, CPUs: 2}, 2 * gib, 12, 1, 1 * gib, 256 * mib},
		// A limit below the cost caps it.
		{"limit below the cost", Machine{Memory: 4 * gib}, 128 * mib, 24, 24, 1 * gib, 128 * mib},
		{"less than the reserve", Machine{Memory: 512 * mib}, 0, 0, 0, 1 * gib, 256 * mib},
	} {
		c := PlanCapacity("classhub/notebook:classic", tc.m, cost, tc.limit, 3)
		if c.Students != tc.wantStudents || c.AtLimit != tc.wantAt || c.Reserve != tc.wantReserve || c.Cost.Memory != tc.wantCostMemory || c.Running != 3 {
			t.Errorf("%s: %+v; want %d students, %d at the limit, reserve %d, cost %d", tc.name, c, tc.wantStudents, tc.wantAt, tc.wantReserve, tc.wantCostMemory)
		}
	}
}

func TestCapacitySentencesSayTheNumbersAndTheSource(t *testing.T) {
	c := PlanCapacity("classhub/notebook:scipy", Machine{Memory: 16 * gib, CPUs: 2, Hub: 40 * mib},
		EstimateCost(nil, &store.ImageCost{Memory: 100 * mib, CPU: 0.1}, "scipy"), 2*gib, 5)
	if got, want := c.Sentence(), "This laptop holds about 62 students (5 running now)."; got != want {
		t.Errorf("Sentence = %q, want %q", got, want)
	}
	d := c.Detail()
	for _, want := range []string{"about 228 MiB", "an idle server of classhub/notebook:scipy used 100 MiB on this laptop", "a kernel adds about 128 MiB",
		"the engine's 16.0 GiB less 2.0 GiB kept for the system and 40 MiB for the hub", "memory_limit of 2.0 GiB, 6 servers would fit", "0.1% of a CPU", "2 CPUs"} {
		if !strings.Contains(d, want) {
			t.Errorf("Detail lacks %q:\n%s", want, d)
		}
	}
	if q := c.StartQuestion(57); q != "" {
		t.Errorf("5 running and 57 more fit in 62, yet StartQuestion = %q", q)
	}
	q := c.StartQuestion(58)
	for _, want := range []string{"Start 58 servers?", "That makes 63 running", "holds about 62 students", "about 228 MiB"} {
		if !strings.Contains(q, want) {
			t.Errorf("StartQuestion(58) lacks %q: %q", want, q)
		}
	}
	one := PlanCapacity("classhub/notebook:classic", Machine{Memory: 8 * gib, CPUs: 2}, EstimateCost([]spawner.Stats{{MemoryBytes: 97 * mib}}, nil, "classic"), 0, 1)
	if d := one.Detail(); !strings.Contains(d, "as no idle server of classhub/notebook:classic has been measured here yet (the server running now uses 97 MiB)") ||
		!strings.Contains(d, "The servers running now use 0.0% of a CPU each") {
		t.Errorf("one idle server running, nothing recorded: %s", d)
	}
	def := PlanCapacity("example.org/other:1", Machine{Memory: 8 * gib}, EstimateCost(nil, nil, ""), 0, 0)
	if d := def.Detail(); !strings.Contains(d, "cautious default for an image classhub did not build") || strings.Contains(d, "memory_limit") {
		t.Errorf("a foreign image with no limit: %s", d)
	}
}

// fakeSizer is a laptop of a given size with one image.
type fakeSizer struct {
	memory           uint64
	cpus             int
	imageID, profile string
}

func (s fakeSizer) Machine(context.Context) (uint64, int, error) { return s.memory, s.cpus, nil }
func (s fakeSizer) ImageFacts(context.Context, string) (string, string, error) {
	return s.imageID, s.profile, nil
}

func TestCapacityCountsTheClassAndRecordsAnIdleServer(t *testing.T) {
	settle := idleSettle
	idleSettle = 0
	t.Cleanup(func() { idleSettle = settle })
	f := newFixture(t, "alice", "bob", "carol")
	f.hub.sizer = fakeSizer{memory: 8 * gib, cpus: 2, imageID: "sha256:cur", profile: "classic"}
	ctx := context.Background()

	c, err := f.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cost.Source != CostDefault || c.Running != 0 || c.Image != f.hub.Config().Image {
		t.Errorf("nothing ran yet: %+v", c)
	}

	// alice's server idles at 90 MiB: the hub records it as the image's.
	f.sp.SetStats("alice", spawner.Stats{MemoryBytes: 90 * mib, CPUPercent: 0.3, ImageID: "sha256:cur", Image: "classhub/notebook:latest"})
	f.mustStart(t, "alice")
	deadline := time.Now().Add(30 * time.Second)
	var rec store.ImageCost
	for rec, err = f.store.ImageCost(ctx, "sha256:cur"); err != nil; rec, err = f.store.ImageCost(ctx, "sha256:cur") {
		if time.Now().After(deadline) {
			t.Fatalf("no idle cost recorded: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec.Memory != 90*mib || rec.CPU != 0.3 || rec.Image != "classhub/notebook:latest" {
		t.Errorf("recorded %+v", rec)
	}

	// bob runs an old image and uses a lot: he is counted running, not
	// in the figure, which alice's sample (90 MiB) leaves at the record.
	f.sp.SetStats("bob", spawner.Stats{MemoryBytes: 2 * gib, ImageID: "sha256:old"})
	f.mustStart(t, "bob")
	f.hub.SampleStats(ctx, 0)
	c, err = f.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Running != 2 || c.Cost.Source != CostRecorded || c.Cost.Memory != 90*mib+kernelCost || c.Cost.Servers != 1 {
		t.Errorf("with alice idle and bob on an old image: %+v", c)
	}
	// 8 GiB keeps 1 GiB; what is left holds 7 GiB / 218 MiB, less the hub's share.
	if c.Students < 30 || c.Students > 32 {
		t.Errorf("Students = %d, want about 32", c.Students)
	}

	// alice now works hard: the class's figure is larger, and counts.
	f.sp.SetStats("alice", spawner.Stats{MemoryBytes: 1 * gib, CPUPercent: 50, ImageID: "sha256:cur"})
	f.hub.SampleStats(ctx, 0)
	c, _ = f.hub.Capacity(ctx)
	if c.Cost.Source != CostClass || c.Cost.Memory != gib || c.Students != 6 {
		t.Errorf("with alice at 1 GiB: %+v", c)
	}
	if q := f.hub.StartAllQuestion(ctx, 5); !strings.Contains(q, "Start 5 servers? That makes 7 running, and this laptop holds about 6 students") {
		t.Errorf("StartAllQuestion(5) = %q", q)
	}
	if q := f.hub.StartAllQuestion(ctx, 4); q != "" {
		t.Errorf("4 more fit, yet StartAllQuestion = %q", q)
	}
	// A stopped server leaves the count and the samples.
	if err := f.hub.Stop(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if got := f.hub.CachedStats(time.Hour); len(got) != 1 || got["bob"].MemoryBytes != 2*gib {
		t.Errorf("CachedStats after alice stopped = %+v, want bob's alone", got)
	}
}
