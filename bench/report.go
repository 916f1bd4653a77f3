package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Noise is the relative difference below which a comparison is called a
// tie: on a shared two-core machine, repeated runs of the same thing
// differ by about this much.
const Noise = 0.10

// Report is one run of the suite: every figure, where and with what it was
// measured, and the comparisons drawn from them.
type Report struct {
	Date        time.Time      `json:"date"`
	Quick       bool           `json:"quick"`
	Only        []string       `json:"only_scenarios,omitempty"`
	Machine     Machine        `json:"machine"`
	Versions    Versions       `json:"versions"`
	Contention  Contention     `json:"contention"`
	Params      Params         `json:"params"`
	Proxy       []ProxyLevel   `json:"proxy,omitempty"`
	WebSocket   *WSResult      `json:"websocket,omitempty"`
	Spawn       *SpawnResult   `json:"spawn,omitempty"`
	Burst       *BurstResult   `json:"burst,omitempty"`
	Cold        *ColdResult    `json:"cold_start,omitempty"`
	Logins      *LoginResult   `json:"logins,omitempty"`
	Images      []ImageResult  `json:"images,omitempty"`
	Handout     *HandoutResult `json:"handout,omitempty"`
	Swarm       *SwarmResult   `json:"swarm,omitempty"`
	Memory      MemResult      `json:"memory"`
	Comparisons []Comparison   `json:"comparisons"`
	Failures    []string       `json:"failures,omitempty"`
	Leftovers   int            `json:"leftover_docker_objects"`
	WallSeconds float64        `json:"wall_seconds"`
}

// ProxyLevel is scenario 1 at one concurrency: the same GET straight to
// the container, through classhub and through configurable-http-proxy.
type ProxyLevel struct {
	Concurrency int `json:"concurrency"`
	// Rounds is how many times each path was loaded; the three results
	// are CombineRounds of those samples.
	Rounds   int                     `json:"rounds"`
	Direct   LoadResult              `json:"direct"`
	Classhub LoadResult              `json:"classhub"`
	CHP      LoadResult              `json:"chp"`
	Samples  map[string][]LoadResult `json:"samples,omitempty"`
}

// WSPath is scenario 2 over one path.
type WSPath struct {
	PerSecond float64 `json:"executes_per_second"`
	Latency   Dist    `json:"latency"`
}

// WSResult is scenario 2: kernel execute round trips over websockets.
type WSResult struct {
	Executes int    `json:"executes_per_path"`
	Rounds   int    `json:"rounds"`
	Direct   WSPath `json:"direct"`
	Classhub WSPath `json:"classhub"`
	CHP      WSPath `json:"chp"`
}

// SpawnResult is scenario 3: one server from nothing to answering.
type SpawnResult struct {
	Trials   int  `json:"trials"`
	Floor    Dist `json:"floor"`
	Classhub Dist `json:"classhub"`
	// ClasshubAnswered is when classhub's server first answered the
	// bench's own 50 ms polling, before the hub noticed.
	ClasshubAnswered Dist `json:"classhub_server_answered"`
	// NoticeGap is, per classhub trial, ready in the API minus the
	// server's first answer: the hub noticing, measured within one spawn.
	NoticeGap Dist `json:"classhub_notice_gap"`
}

// BurstResult is scenario 4: a class starting at once.
type BurstResult struct {
	Users            int     `json:"users"`
	SpawnConcurrency int     `json:"classhub_spawn_concurrency"`
	FloorAllMS       float64 `json:"floor_all_ready_ms"`
	ClasshubAllMS    float64 `json:"classhub_all_ready_ms"`
	Floor            Dist    `json:"floor_each"`
	Classhub         Dist    `json:"classhub_each"`
}

// ColdResult is scenario 5: process start to /hub/api answering.
type ColdResult struct {
	Trials     int  `json:"trials"`
	Classhub   Dist `json:"classhub"`
	JupyterHub Dist `json:"jupyterhub"`
}

// MemResult is scenario 6. Zero values were not measured.
type MemResult struct {
	ClasshubIdle        Mem `json:"classhub_idle"`
	ClasshubAfterLoad   Mem `json:"classhub_after_proxy_load"`
	ClasshubWithServers Mem `json:"classhub_with_servers"`
	Servers             int `json:"servers"`
	JupyterHubIdle      Mem `json:"jupyterhub_and_chp_idle"`
	JupyterHubOnly      Mem `json:"jupyterhub_process_idle"`
	CHPAfterLoad        Mem `json:"standalone_chp_after_proxy_load"`
}

// Comparison is one ratio of classhub against a baseline of the same run.
type Comparison struct {
	Scenario      string  `json:"scenario"`
	What          string  `json:"what"`
	Unit          string  `json:"unit"`
	Classhub      float64 `json:"classhub"`
	Baseline      float64 `json:"baseline"`
	BaselineName  string  `json:"baseline_name"`
	LowerIsBetter bool    `json:"lower_is_better"`
	// Ratio is classhub / baseline.
	Ratio   float64 `json:"ratio"`
	Verdict string  `json:"verdict"`
}

// Baseline names.
const (
	BaseFloor      = "floor"
	BaseCHP        = "configurable-http-proxy"
	BaseJupyterHub = "JupyterHub"
)

// Verdicts. Against the floor classhub cannot really win: it reaches or
// starts the same server with more in between, so the verdict is its
// overhead (or, when the floor loses by more than the noise, a finding to
// explain).
const (
	VerdictWins       = "classhub wins"
	VerdictLoses      = "classhub loses"
	VerdictTie        = "tie (within noise)"
	VerdictAtFloor    = "at the floor (within noise)"
	VerdictBelowFloor = "better than the floor"
	VerdictNone       = "not measured"
)

// compare builds the comparison and its verdict.
func compare(scenario, what, unit string, classhub, base float64, baseName string, lowerIsBetter bool) Comparison {
	c := Comparison{Scenario: scenario, What: what, Unit: unit, Classhub: classhub, Baseline: base,
		BaselineName: baseName, LowerIsBetter: lowerIsBetter, Ratio: Ratio(classhub, base)}
	better := (c.Ratio < 1) == lowerIsBetter
	switch {
	case c.Ratio == 0 || classhub == 0:
		c.Verdict = VerdictNone
	case math.Abs(c.Ratio-1) < Noise && baseName == BaseFloor:
		c.Verdict = VerdictAtFloor
	case math.Abs(c.Ratio-1) < Noise:
		c.Verdict = VerdictTie
	case baseName == BaseFloor && better:
		c.Verdict = VerdictBelowFloor
	case baseName == BaseFloor:
		c.Verdict = fmt.Sprintf("overhead %.0f%%", math.Abs(c.Ratio-1)*100)
	case better:
		c.Verdict = VerdictWins
	default:
		c.Verdict = VerdictLoses
	}
	return c
}

// Compare fills r.Comparisons from the measurements.
func (r *Report) Compare() {
	var cs []Comparison
	for _, l := range r.Proxy {
		sc := fmt.Sprintf("1 proxy c=%d", l.Concurrency)
		cs = append(cs,
			compare(sc, "requests/s", "req/s", l.Classhub.RPS, l.Direct.RPS, BaseFloor, false),
			compare(sc, "p50 latency", "ms", l.Classhub.Latency.P50, l.Direct.Latency.P50, BaseFloor, true),
			compare(sc, "requests/s", "req/s", l.Classhub.RPS, l.CHP.RPS, BaseCHP, false),
			compare(sc, "p50 latency", "ms", l.Classhub.Latency.P50, l.CHP.Latency.P50, BaseCHP, true),
			compare(sc, "p99 latency", "ms", l.Classhub.Latency.P99, l.CHP.Latency.P99, BaseCHP, true),
			compare(sc, "proxy CPU per request", "µs", l.Classhub.ProxyCPUPerRequest, l.CHP.ProxyCPUPerRequest, BaseCHP, true))
	}
	if w := r.WebSocket; w != nil {
		cs = append(cs,
			compare("2 websocket", "execute round trip p50", "ms", w.Classhub.Latency.P50, w.Direct.Latency.P50, BaseFloor, true),
			compare("2 websocket", "execute round trip p50", "ms", w.Classhub.Latency.P50, w.CHP.Latency.P50, BaseCHP, true),
			compare("2 websocket", "execute round trip p99", "ms", w.Classhub.Latency.P99, w.CHP.Latency.P99, BaseCHP, true))
	}
	if s := r.Spawn; s != nil {
		cs = append(cs,
			compare("3 spawn", "start to server answering, median", "ms", s.ClasshubAnswered.P50, s.Floor.P50, BaseFloor, true),
			compare("3 spawn", "start to ready in the API, median", "ms", s.Classhub.P50, s.Floor.P50, BaseFloor, true))
	}
	if b := r.Burst; b != nil {
		cs = append(cs,
			compare("4 burst", fmt.Sprintf("%d servers, all ready", b.Users), "ms", b.ClasshubAllMS, b.FloorAllMS, BaseFloor, true),
			compare("4 burst", "each user's wait, median", "ms", b.Classhub.P50, b.Floor.P50, BaseFloor, true))
	}
	if c := r.Cold; c != nil {
		cs = append(cs, compare("5 cold start", "process start to /hub/api, median", "ms", c.Classhub.P50, c.JupyterHub.P50, BaseJupyterHub, true))
	}
	if g := r.Logins; g != nil {
		cs = append(cs, compare("7 logins", fmt.Sprintf("%d logins at once, all in", g.Users), "ms", g.ClasshubAllMS, g.FloorAllMS, BaseFloor, true))
	}
	if h := r.Handout; h != nil {
		what := fmt.Sprintf("%s MiB to %d students", num(h.FolderMiB), h.Students)
		cs = append(cs,
			compare("9 hand-out", what, "ms", h.ClasshubHandoutMS, h.FloorHandoutMS, BaseFloor, true),
			compare("9 collect", what, "ms", h.ClasshubCollectMS, h.FloorCollectMS, BaseFloor, true))
	}
	m := r.Memory
	cs = append(cs, compare("6 memory", "idle RSS, hub and proxy", "MiB", mib(m.ClasshubIdle.RSS), mib(m.JupyterHubIdle.RSS), BaseJupyterHub, true))
	if m.CHPAfterLoad.RSS > 0 && m.ClasshubAfterLoad.RSS > 0 {
		cs = append(cs, compare("6 memory", "RSS after the proxy load", "MiB", mib(m.ClasshubAfterLoad.RSS), mib(m.CHPAfterLoad.RSS), BaseCHP, true))
	}
	r.Comparisons = cs
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Measured reports whether any scenario produced a figure; a run that
// failed before measuring anything writes no results file.
func (r *Report) Measured() bool {
	return len(r.Proxy) > 0 || r.WebSocket != nil || r.Spawn != nil || r.Burst != nil || r.Cold != nil || r.Logins != nil || r.Handout != nil
}

// Losses are the comparisons classhub lost.
func (r *Report) Losses() []Comparison {
	var out []Comparison
	for _, c := range r.Comparisons {
		if c.Verdict == VerdictLoses {
			out = append(out, c)
		}
	}
	return out
}

// BaseName is the results file's name without extension:
// YYYY-MM-DD-<host>, with -quick for quick runs.
func (r *Report) BaseName() string {
	host := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(r.Machine.Host, "-")
	if host == "" {
		host = "unknown-host"
	}
	name := r.Date.Format("2006-01-02") + "-" + host
	if r.Quick {
		name += "-quick"
	}
	// A run of some scenarios must not replace the day's whole run.
	if len(r.Only) > 0 {
		name += "-only-" + strings.Join(r.Only, "-")
	}
	return name
}

// Write writes dir/BaseName().md and .json and returns their paths.
func (r *Report) Write(dir string) (md, js string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("results dir: %w", err)
	}
	r.Params.LoadSeconds = r.Params.LoadDuration.Seconds()
	md = filepath.Join(dir, r.BaseName()+".md")
	js = filepath.Join(dir, r.BaseName()+".json")
	var b strings.Builder
	r.Markdown(&b)
	if err := os.WriteFile(md, []byte(b.String()), 0o644); err != nil {
		return "", "", err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", "", err
	}
	return md, js, os.WriteFile(js, append(j, '\n'), 0o644)
}

// ReadReport reads a report Write wrote, so that its page can be made
// again after the page's format changed, without measuring again.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Params.LoadDuration = time.Duration(r.Params.LoadSeconds * float64(time.Second))
	return &r, nil
}

// overFloor lists the floor comparisons where classhub costs more than
// limit (0.25 is 25%), with what the run measured about why.
func (r *Report) overFloor(limit float64) []string {
	var out []string
	for _, c := range r.Comparisons {
		if c.BaselineName != BaseFloor || c.Ratio == 0 {
			continue
		}
		cost := c.Ratio - 1
		if !c.LowerIsBetter {
			cost = 1 - c.Ratio
		}
		if cost <= limit {
			continue
		}
		line := fmt.Sprintf("%s, %s: classhub %s %s against the floor's %s %s (%s)", c.Scenario, c.What, num(c.Classhub), c.Unit, num(c.Baseline), c.Unit, ratio(c.Ratio))
		switch {
		case strings.HasPrefix(c.Scenario, "3 spawn") && r.Spawn != nil && strings.Contains(c.What, "ready"):
			pace := fmt.Sprintf("its server answered after a median %s ms (the floor's: %s ms)", num(r.Spawn.ClasshubAnswered.P50), num(r.Spawn.Floor.P50))
			if math.Abs(Ratio(r.Spawn.ClasshubAnswered.P50, r.Spawn.Floor.P50)-1) < Noise {
				pace = "its server answered at the floor's pace"
			}
			line += fmt.Sprintf(": %s; the hub then took a median %s ms more to notice (readiness backoff, section 3)", pace, num(r.Spawn.NoticeGap.P50))
		case strings.HasPrefix(c.Scenario, "4 burst") && r.Burst != nil:
			line += fmt.Sprintf(": classhub starts at most %d servers at a time and notices each with the readiness backoff; its median student still waited %s ms against the floor's %s ms",
				r.Burst.SpawnConcurrency, num(r.Burst.Classhub.P50), num(r.Burst.Floor.P50))
		case strings.HasPrefix(c.Scenario, "7 logins"):
			line += ": besides the bcrypt check, each login reads the user and writes a session to SQLite, and the hub's process shares the cores with the bench's"
		case strings.HasPrefix(c.Scenario, "9 hand-out"):
			line += ": besides the copy, classhub hashes the folder, stages it once in a volume of its own, and merges it into each student's folder in a container it starts per student, which keeps a file a student changed"
		case strings.HasPrefix(c.Scenario, "9 collect"):
			line += ": besides the copy, classhub checks each entry's name and type before it writes it, and writes the manifest"
		case strings.HasPrefix(c.Scenario, "1 proxy"):
			line += ": the cost of the proxy's own hop (a second loopback connection, parsing and copying)"
		}
		out = append(out, line+".")
	}
	return out
}

// Markdown writes the report as the results page.
func (r *Report) Markdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	mode := "full"
	if r.Quick {
		mode = "quick (small N, short runs: a smoke test, not a measurement to quote)"
	}
	p("# classhub benchmarks, %s\n\n", r.Date.Format("2006-01-02 15:04 MST"))
	p("Mode: %s. Every figure is compared with a baseline measured in the same run on the same machine;\n", mode)
	p("compare ratios across runs, not absolute numbers. Wall time %.0f s.\n\n", r.WallSeconds)
	if len(r.Only) > 0 {
		p("Only scenarios %s were run.\n\n", strings.Join(r.Only, ", "))
	}

	p("## Machine and versions\n\n")
	p("| | |\n|---|---|\n")
	p("| host | %s |\n| CPU | %s × %d |\n| memory | %.1f GiB |\n| kernel | %s |\n", r.Machine.Host, r.Machine.CPU, r.Machine.NProc, float64(r.Machine.MemBytes)/(1<<30), r.Machine.Kernel)
	v := r.Versions
	p("| classhub | %s (git %s) |\n| go | %s |\n| docker | %s (API %s) |\n| notebook image | %s (%s) |\n", v.Classhub, v.ClasshubRev, v.Go, v.Docker, v.DockerAPI, v.Image, v.ImageID)
	p("| jupyterhub | %s |\n| configurable-http-proxy | %s (node %s) |\n| load generator | %s |\n", v.JupyterHub, v.CHP, v.Node, loadTool(r, v))
	p("| load average before / after | %s / %s |\n| other running containers at start | %d |\n\n", r.Contention.LoadBefore, r.Contention.LoadAfter, r.Contention.OtherContainers)
	p("The machine was shared: other people's builds and Docker tests ran during the run (see the load average),\n")
	p("so absolute numbers are noisy. Differences under %.0f%% are reported as ties.\n\n", Noise*100)

	p("## Summary\n\n")
	p("Ratio is classhub ÷ baseline. For latency, time and memory lower is better; for requests/s higher is better.\n\n")
	p("| scenario | measure | classhub | baseline | ratio | verdict |\n|---|---|---:|---:|---:|---|\n")
	for _, c := range r.Comparisons {
		p("| %s | %s | %s %s | %s: %s %s | %s | %s |\n", c.Scenario, c.What, num(c.Classhub), c.Unit, c.BaselineName, num(c.Baseline), c.Unit, ratio(c.Ratio), c.Verdict)
	}
	p("\n")
	if losses := r.Losses(); len(losses) > 0 {
		p("**Where classhub loses** (a finding, not a failure):\n\n")
		for _, c := range losses {
			p("- %s, %s: classhub %s %s against %s's %s %s (%s).\n", c.Scenario, c.What, num(c.Classhub), c.Unit, c.BaselineName, num(c.Baseline), c.Unit, ratio(c.Ratio))
		}
		p("\n")
	} else if len(r.Comparisons) > 0 {
		p("classhub lost no comparison against JupyterHub or its proxy in this run (ties excepted).\n\n")
	}
	if costs := r.overFloor(0.25); len(costs) > 0 {
		p("**Where classhub costs more than 25%% over the floor**:\n\n")
		for _, c := range costs {
			p("- %s\n", c)
		}
		p("\n")
	}
	for _, c := range r.Comparisons {
		if c.Verdict == VerdictBelowFloor && c.Scenario != "4 burst" {
			p("*Better than the floor* where classhub does strictly more than the floor (proxying, spawning one server)\n")
			p("means the machine's noise was larger than classhub's cost there: read it as \"at the floor\".\n\n")
			break
		}
	}
	if len(r.Failures) > 0 {
		p("**Scenarios that failed in this run** (their rows are missing or partial):\n\n")
		for _, f := range r.Failures {
			p("- %s\n", strings.ReplaceAll(f, "\n", " "))
		}
		p("\n")
	}

	if len(r.Proxy) > 0 {
		p("## 1. Proxy, small requests\n\n")
		p("`GET /user/NAME/api/status` with the user's token, closed loop, one path at a time for %s, in %d rounds\n", r.Params.LoadDuration, max(r.Params.ProxyRounds, 1))
		p("over every level and path (the order rotates); each figure is the median over the rounds, so one disturbed\n")
		p("sample does not decide a comparison. *direct* is the container's IP (the floor); *CHP* is\n")
		p("configurable-http-proxy %s with the same route JupyterHub would add.\n\n", v.CHP)
		p("*proxy CPU* is the CPU time the proxy process (classhub, or node for CHP) used during the runs, per request;\n")
		p("classhub's includes all of its hub's work meanwhile. CPU time is what other people's load moves least.\n\n")
		p("| concurrency | path | req/s | p50 ms | p90 ms | p99 ms | errors | proxy CPU µs/req | req/s ÷ floor | p50 ÷ floor |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, l := range r.Proxy {
			for _, row := range []struct {
				name string
				res  LoadResult
			}{{"direct (floor)", l.Direct}, {"classhub", l.Classhub}, {"CHP", l.CHP}} {
				p("| %d | %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", l.Concurrency, row.name, num(row.res.RPS), num(row.res.Latency.P50),
					num(row.res.Latency.P90), num(row.res.Latency.P99), row.res.Errors, num(row.res.ProxyCPUPerRequest),
					ratio(Ratio(row.res.RPS, l.Direct.RPS)), ratio(Ratio(row.res.Latency.P50, l.Direct.Latency.P50)))
			}
		}
		p("\n")
	}
	if ws := r.WebSocket; ws != nil {
		p("## 2. Proxy, websockets\n\n")
		p("%d kernel `execute_request`s (`pass`) per path over the kernel's channels websocket, one at a time,\n", ws.Executes)
		p("in %d interleaved rounds; a round trip ends when both `execute_reply` and the kernel's idle status arrived.\n\n", ws.Rounds)
		p("| path | executes/s | p50 ms | p90 ms | p99 ms | p50 ÷ floor |\n|---|---:|---:|---:|---:|---:|\n")
		for _, row := range []struct {
			name string
			r    WSPath
		}{{"direct (floor)", ws.Direct}, {"classhub", ws.Classhub}, {"CHP", ws.CHP}} {
			p("| %s | %s | %s | %s | %s | %s |\n", row.name, num(row.r.PerSecond), num(row.r.Latency.P50), num(row.r.Latency.P90), num(row.r.Latency.P99), ratio(Ratio(row.r.Latency.P50, ws.Direct.Latency.P50)))
		}
		p("\n")
	}
	if s := r.Spawn; s != nil {
		p("## 3. Spawn, one user\n\n")
		p("%d trials each, alternating. classhub: `POST /hub/api/users/NAME/server` until the user model says ready\n", s.Trials)
		p("(polled every 50 ms). Floor: volume create + container create + start through the Engine API (`docker run -d`)\n")
		p("with the same image, environment, limits and network, polling the server's `/api` every 50 ms; its hub is a stub.\n\n")
		p("The bench also watches classhub's container start (Docker events) and polls that server directly every 50 ms,\n")
		p("which splits classhub's time into the work before its server answers and the hub noticing afterwards.\n\n")
		p("| path | median ms | min ms | max ms |\n|---|---:|---:|---:|\n")
		p("| floor: server answers | %s | %s | %s |\n", num(s.Floor.P50), num(s.Floor.Min), num(s.Floor.Max))
		p("| classhub: its server answers | %s | %s | %s |\n", num(s.ClasshubAnswered.P50), num(s.ClasshubAnswered.Min), num(s.ClasshubAnswered.Max))
		p("| classhub: ready in the REST API | %s | %s | %s |\n\n", num(s.Classhub.P50), num(s.Classhub.Min), num(s.Classhub.Max))
		p("classhub's server answered after a median %s ms, the floor's after %s ms; within each classhub spawn the hub\n",
			num(s.ClasshubAnswered.P50), num(s.Floor.P50))
		p("then took a median %s ms (max %s ms) more to say ready. classhub polls a starting server with JupyterHub's\n", num(s.NoticeGap.P50), num(s.NoticeGap.Max))
		p("backoff (0.2 s doubling to 5 s, jittered), so that part is mostly waiting for its next poll; the bench's own\n")
		p("50 ms poll of the API adds up to 50 ms.\n\n")
	}
	if b := r.Burst; b != nil {
		p("## 4. Class burst\n\n")
		p("%d users started at once. classhub: %d `POST`s at once, then one `GET /hub/api/users` every 100 ms until\n", b.Users, b.Users)
		p("all are ready; classhub runs at most %d starts at a time (spawn_concurrency, its default). Floor: %d bare\n", b.SpawnConcurrency, b.Users)
		p("starts at once, each polled every 50 ms; they all compete for the machine's %d cores at once.\n\n", r.Machine.NProc)
		p("| path | all ready ms | each: median ms | each: max ms |\n|---|---:|---:|---:|\n")
		p("| floor | %s | %s | %s |\n| classhub | %s | %s | %s |\n\n", num(b.FloorAllMS), num(b.Floor.P50), num(b.Floor.Max), num(b.ClasshubAllMS), num(b.Classhub.P50), num(b.Classhub.Max))
		if b.ClasshubAllMS > 0 && b.FloorAllMS > 0 && b.ClasshubAllMS < b.FloorAllMS*(1-Noise) {
			p("In this run classhub's queue got the whole class ready sooner than the bare burst: starting everything at\n")
			p("once is not the fastest way on this machine, so for a burst the floor is not a lower bound.\n\n")
		}
	}
	if c := r.Cold; c != nil {
		p("## 5. Cold start\n\n")
		p("Process start to `GET /hub/api` answering 200 on the public address, %d timed starts each after one untimed\n", c.Trials)
		p("warm-up, alternating, existing state. JupyterHub starts its own configurable-http-proxy and answers through it.\n\n")
		p("| hub | median ms | min ms | max ms |\n|---|---:|---:|---:|\n")
		p("| classhub | %s | %s | %s |\n| JupyterHub + CHP | %s | %s | %s |\n\n", num(c.Classhub.P50), num(c.Classhub.Min), num(c.Classhub.Max), num(c.JupyterHub.P50), num(c.JupyterHub.Min), num(c.JupyterHub.Max))
	}
	m := r.Memory
	p("## 6. Memory\n\n")
	p("Resident set size (VmRSS; peak is VmHWM) from /proc. JupyterHub's figure adds its proxy's.\n\n")
	p("| process | RSS MiB | peak MiB |\n|---|---:|---:|\n")
	for _, row := range []struct {
		name string
		m    Mem
	}{
		{"classhub, idle", m.ClasshubIdle},
		{"classhub, after the proxy load", m.ClasshubAfterLoad},
		{fmt.Sprintf("classhub, %d servers running", m.Servers), m.ClasshubWithServers},
		{"JupyterHub + CHP, idle", m.JupyterHubIdle},
		{"JupyterHub alone, idle", m.JupyterHubOnly},
		{"standalone CHP, after the proxy load", m.CHPAfterLoad},
	} {
		p("| %s | %s | %s |\n", row.name, num(mib(row.m.RSS)), num(mib(row.m.HWM)))
	}
	p("\n")
	if g := r.Logins; g != nil {
		p("## 7. Logins\n\n")
		p("%d students, each with their own name and password, post the login form at once from 127.0.0.1 (a class\n", g.Users)
		p("behind one address), after loading it. Floor: %d bcrypt checks at once in the bench's own process, at the\n", g.Users)
		p("cost the hub hashes passwords with (%d). Target: a class of %d through in %s.\n\n", g.Cost, LoginTargetUsers, LoginTarget)
		p("| path | all in ms | per second | each: median ms | each: max ms |\n|---|---:|---:|---:|---:|\n")
		p("| floor (bcrypt) | %s | %s | | |\n| classhub login form | %s | %s | %s | %s |\n\n", num(g.FloorAllMS), num(g.FloorPerSecond),
			num(g.ClasshubAllMS), num(g.PerSecond), num(g.Classhub.P50), num(g.Classhub.Max))
		target := float64(LoginTarget.Milliseconds())
		switch {
		case g.Users < LoginTargetUsers:
			p("A class smaller than the target's: the target is judged by `make bench`.\n\n")
		case g.ClasshubAllMS <= target:
			p("Target met.\n\n")
		case g.FloorAllMS > target:
			p("Target missed, but the bcrypt checks alone missed it too: the machine was busy, so only the ratio to the floor counts.\n\n")
		default:
			p("**Target missed**, while the bcrypt checks alone met it.\n\n")
		}
	}
	if len(r.Images) > 0 {
		p("## 8. Notebook images\n\n")
		p("Each notebook image classhub built that is in the engine, started the floor's way (the same environment,\n")
		p("limits and network, no hub around it): its size, the time from create to its Jupyter API answering (median of\n")
		p("the trials), and its memory after %s idle, page cache excluded (the most of the trials).\n\n", imageSettle)
		p("| image | profile | size MiB | start ms | idle MiB |\n|---|---|---:|---:|---:|\n")
		for _, img := range r.Images {
			p("| %s | %s | %s | %s | %s |\n", img.Image, img.Profile, num(img.SizeMiB), num(img.StartMS), num(img.IdleMiB))
		}
		p("\n")
	}
	if h := r.Handout; h != nil {
		p("## 9. Hand-out and collect\n\n")
		p("A folder of %s MiB in %d files that do not compress, handed out to %d students with fresh volumes, then\n", num(h.FolderMiB), h.Files, h.Students)
		p("collected back into a new folder. classhub: `classhub handout DIR --to ...` and `classhub collect DIR --out ...`,\n")
		p("with no hub running (the same code the dashboard and the admin page run). Floor: per student a volume, a\n")
		p("container created (never started) that mounts it, and `docker cp` through the Engine API, in and out.\n")
		p("Both copy %d students at a time, classhub's own bound; both are checked to have moved every byte.\n\n", h.Concurrency)
		p("| path | hand-out ms | collect ms |\n|---|---:|---:|\n")
		p("| floor (docker cp) | %s | %s |\n| classhub | %s | %s |\n\n", num(h.FloorHandoutMS), num(h.FloorCollectMS), num(h.ClasshubHandoutMS), num(h.ClasshubCollectMS))
	}
	if w := r.Swarm; w != nil {
		p("## 10. Swarm backend: spawn and burst\n\n")
		if w.Skipped != "" {
			p("**Skipped**: %s.\n\n", w.Skipped)
		} else {
			p("A second classhub with `backend = \"swarm\"` (each server a Swarm service of one replica), same machine and run\n")
			p("as sections 3 and 4; the hub runs on this node's host, so its services are pinned here.")
			if w.MadeSwarm {
				p(" The engine was in no swarm: the bench made a single-node one and left it afterwards.")
			}
			p("\n\n| path | median ms | min ms | max ms |\n|---|---:|---:|---:|\n")
			if s := r.Spawn; s != nil {
				p("| container backend: one spawn, ready in the API | %s | %s | %s |\n", num(s.Classhub.P50), num(s.Classhub.Min), num(s.Classhub.Max))
			}
			p("| swarm backend: one spawn, ready in the API (%d trials) | %s | %s | %s |\n", w.Trials, num(w.Spawn.P50), num(w.Spawn.Min), num(w.Spawn.Max))
			if b := r.Burst; b != nil {
				p("| container backend: burst of %d, each user's wait | %s | %s | %s |\n", b.Users, num(b.Classhub.P50), num(b.Classhub.Min), num(b.Classhub.Max))
			}
			p("| swarm backend: burst of %d, each user's wait | %s | %s | %s |\n\n", w.Users, num(w.Burst.P50), num(w.Burst.Min), num(w.Burst.Max))
			if b := r.Burst; b != nil {
				p("Whole class ready: container backend %s ms, swarm backend %s ms.\n\n", num(b.ClasshubAllMS), num(w.BurstAllMS))
			} else {
				p("Whole class ready: swarm backend %s ms.\n\n", num(w.BurstAllMS))
			}
		}
	}
	p("Parameters: %s.\n", r.Params)
}

func loadTool(r *Report, v Versions) string {
	for _, l := range r.Proxy {
		if l.Direct.Tool == "wrk" {
			return "wrk " + v.Wrk + " (1 thread)"
		}
		if l.Direct.Tool != "" {
			return "Go closed-loop client (wrk was missing)"
		}
	}
	return "-"
}

// num prints a measurement with sensible precision; 0 means not measured.
func num(x float64) string {
	switch {
	case x == 0 || math.IsNaN(x) || math.IsInf(x, 0):
		return "–"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

func ratio(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}
