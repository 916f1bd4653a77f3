package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompareVerdicts(t *testing.T) {
	for _, c := range []struct {
		classhub, base float64
		baseName       string
		lower          bool
		want           string
	}{
		{110, 100, BaseFloor, true, "overhead 10%"},
		{150, 100, BaseFloor, true, "overhead 50%"},
		{50, 100, BaseFloor, false, "overhead 50%"}, // half the req/s of the floor
		{104, 100, BaseFloor, true, VerdictAtFloor},
		{60, 100, BaseFloor, true, VerdictBelowFloor},
		{80, 100, BaseCHP, true, VerdictWins},
		{80, 100, BaseCHP, false, VerdictLoses},
		{120, 100, BaseCHP, false, VerdictWins},
		{120, 100, BaseJupyterHub, true, VerdictLoses},
		{95, 100, BaseCHP, true, VerdictTie},
		{0, 100, BaseCHP, true, VerdictNone},
		{100, 0, BaseCHP, true, VerdictNone},
	} {
		got := compare("s", "w", "u", c.classhub, c.base, c.baseName, c.lower)
		if got.Verdict != c.want {
			t.Errorf("compare(%v vs %s %v, lower better %v) = %q, want %q", c.classhub, c.baseName, c.base, c.lower, got.Verdict, c.want)
		}
	}
}

func sampleReport() *Report {
	return &Report{
		Date: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Machine: Machine{Host: "lab pc/1", NProc: 2},
		Params: QuickParams(),
		Proxy: []ProxyLevel{{Concurrency: 10,
			Direct:   LoadResult{Tool: "wrk", RPS: 1000, Latency: Dist{P50: 5, P99: 20}},
			Classhub: LoadResult{Tool: "wrk", RPS: 900, Latency: Dist{P50: 6, P99: 25}},
			CHP:      LoadResult{Tool: "wrk", RPS: 600, Latency: Dist{P50: 9, P99: 21}}}},
		WebSocket: &WSResult{Executes: 100, Rounds: 2, Direct: WSPath{PerSecond: 200, Latency: Dist{P50: 4, P99: 9}},
			Classhub: WSPath{PerSecond: 190, Latency: Dist{P50: 4.2, P99: 9}}, CHP: WSPath{PerSecond: 150, Latency: Dist{P50: 5, P99: 12}}},
		Spawn: &SpawnResult{Trials: 1, Floor: Dist{P50: 3000}, Classhub: Dist{P50: 4000}, ClasshubAnswered: Dist{P50: 3200},
			NoticeGap: Dist{P50: 800, Max: 800}},
		Burst: &BurstResult{Users: 5, SpawnConcurrency: 4, FloorAllMS: 20000, ClasshubAllMS: 15000},
		Cold:  &ColdResult{Trials: 2, Classhub: Dist{P50: 300}, JupyterHub: Dist{P50: 3000}},
		Logins: &LoginResult{Users: 30, Cost: 10, ClasshubAllMS: 1100, FloorAllMS: 900, PerSecond: 27.3, FloorPerSecond: 33.3,
			Classhub: Dist{P50: 600, Max: 1100}},
		Handout: &HandoutResult{Students: 30, FolderMiB: 50, Files: 10, Concurrency: 6,
			FloorHandoutMS: 19400, ClasshubHandoutMS: 24100, FloorCollectMS: 29900, ClasshubCollectMS: 31000},
		Memory: MemResult{ClasshubIdle: Mem{RSS: 25 << 20}, JupyterHubIdle: Mem{RSS: 130 << 20},
			ClasshubAfterLoad: Mem{RSS: 30 << 20}, CHPAfterLoad: Mem{RSS: 60 << 20}},
	}
}

func TestReportFindsLossesAndWritesThem(t *testing.T) {
	r := sampleReport()
	r.Compare()
	losses := r.Losses()
	// The only loss: p99 through classhub (25 ms) against CHP (21 ms).
	if len(losses) != 1 || losses[0].What != "p99 latency" || losses[0].BaselineName != BaseCHP {
		t.Fatalf("losses = %+v", losses)
	}
	var b strings.Builder
	r.Markdown(&b)
	md := b.String()
	for _, want := range []string{
		"## 1. Proxy", "## 2. Proxy, websockets", "## 3. Spawn", "## 4. Class burst", "## 5. Cold start", "## 6. Memory",
		"## 7. Logins", "| classhub login form | 1100 | 27.3 |", "Target met.",
		"**Where classhub loses**", "p99 latency: classhub 25.0 ms against configurable-http-proxy's 21.0 ms",
		"then took a median 800 ms (max 800 ms) more", "for a burst the floor is not a lower bound",
		"**Where classhub costs more than 25% over the floor**", "the hub then took a median 800 ms more to notice",
		"## 9. Hand-out and collect", "| floor (docker cp) | 19400 | 29900 |", "| classhub | 24100 | 31000 |",
		"| 9 hand-out | 50.0 MiB to 30 students | 24100 ms | floor: 19400 ms | 1.24× | overhead 24% |",
		"| 9 collect | 50.0 MiB to 30 students | 31000 ms | floor: 29900 ms | 1.04× | at the floor (within noise) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}

	// Without the loss there is no losses block.
	r.Proxy[0].Classhub.Latency.P99 = 20
	r.Compare()
	b.Reset()
	r.Markdown(&b)
	if strings.Contains(b.String(), "Where classhub loses") || len(r.Losses()) != 0 {
		t.Errorf("a report without losses lists some: %v", r.Losses())
	}
}

func TestReportWrite(t *testing.T) {
	r := sampleReport()
	r.Quick = true
	r.Compare()
	dir := filepath.Join(t.TempDir(), "results")
	md, js, err := r.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(md) != "2026-11-26-lab-pc-1-quick.md" || filepath.Base(js) != "2026-11-26-lab-pc-1-quick.json" {
		t.Errorf("files %s, %s", md, js)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Proxy[0].CHP.RPS != 600 || len(back.Comparisons) != len(r.Comparisons) || back.Params.Burst != 5 {
		t.Errorf("JSON round trip lost data: %+v", back)
	}
	if b, _ := os.ReadFile(md); !strings.HasPrefix(string(b), "# classhub benchmarks, 2026-11-26") {
		t.Errorf("Markdown starts %.60q", b)
	}
	again, err := ReadReport(js)
	if err != nil {
		t.Fatal(err)
	}
	if again.Params.LoadDuration != r.Params.LoadDuration {
		t.Errorf("load duration %v after reading, want %v", again.Params.LoadDuration, r.Params.LoadDuration)
	}
	var want, got strings.Builder
	r.Markdown(&want)
	again.Markdown(&got)
	if got.String() != want.String() {
		t.Error("the page made from the JSON differs from the original")
	}
}

func TestMeasured(t *testing.T) {
	if (&Report{}).Measured() {
		t.Error("an empty report counts as measured")
	}
	if !sampleReport().Measured() {
		t.Error("a full report counts as not measured")
	}
}

// Beating the floor where classhub does strictly more is explained as
// noise; the burst, where a queue can really beat the bare burst, is not.
func TestReportExplainsBeatingTheFloor(t *testing.T) {
	r := sampleReport()
	r.Compare()
	var b strings.Builder
	r.Markdown(&b)
	if strings.Contains(b.String(), `read it as "at the floor"`) {
		t.Error("the note appears though only the burst beat the floor")
	}
	r.Spawn.ClasshubAnswered.P50 = 2000 // the floor took 3000
	r.Compare()
	b.Reset()
	r.Markdown(&b)
	if !strings.Contains(b.String(), `read it as "at the floor"`) {
		t.Error("a spawn faster than the floor is not explained")
	}
}

// A run of some scenarios is written beside the day's whole run, never
// over it, and says what it left out.
func TestReportOfSomeScenarios(t *testing.T) {
	r := sampleReport()
	r.Only = []string{"3", "9"}
	if got := r.BaseName(); got != "2026-11-26-lab-pc-1-only-3-9" {
		t.Errorf("BaseName = %q", got)
	}
	var b strings.Builder
	r.Markdown(&b)
	if !strings.Contains(b.String(), "Only scenarios 3, 9 were run.") {
		t.Error("the page does not say only some scenarios ran")
	}
	l := &lab{opts: Options{Only: r.Only}}
	if !l.wants("9") || !l.wants("1", "3") || l.wants("1", "2") {
		t.Error("wants does not follow Only")
	}
	if l := (&lab{}); !l.wants("7") {
		t.Error("a run without Only leaves scenario 7 out")
	}
}

// TestReportShowsSwarmNextToContainers: scenario 10's figures sit beside
// the container backend's; a skipped scenario 10 says so and why, and
// shows no figures that could pass for measured.
func TestReportShowsSwarmNextToContainers(t *testing.T) {
	r := &Report{Spawn: &SpawnResult{Classhub: Dist{P50: 1500}}, Burst: &BurstResult{Users: 5, ClasshubAllMS: 4000},
		Swarm: &SwarmResult{Trials: 1, Users: 5, MadeSwarm: true, Spawn: Dist{P50: 2500, Min: 2500, Max: 2500}, BurstAllMS: 7000}}
	var b strings.Builder
	r.Markdown(&b)
	md := b.String()
	for _, want := range []string{"## 10. Swarm backend", "container backend: one spawn", "swarm backend: one spawn, ready in the API (1 trials) | 2500", "container backend 4000 ms, swarm backend 7000 ms", "made a single-node one"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	r.Swarm = &SwarmResult{Skipped: "the engine is not a swarm manager (swarm state pending)"}
	b.Reset()
	r.Markdown(&b)
	if md := b.String(); !strings.Contains(md, "**Skipped**: the engine is not a swarm manager") || strings.Contains(md, "swarm backend: one spawn") {
		t.Errorf("a skipped scenario 10 must say so and show no figures:\n%s", md)
	}
}
