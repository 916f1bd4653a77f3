package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes wrk print its summary as one JSON line, so nothing
// depends on its human-readable table. Latencies are in microseconds.
const wrkScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"errors":%d,"min_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`

// WrkLoader runs Debian's wrk with one thread: wrk on one core keeps tens
// of thousands of requests a second in flight, far more than a notebook
// server answers, and leaves the other core to the proxies.
type WrkLoader struct {
	Path string // the wrk binary
	Dir  string // where the Lua script is written
}

// Name implements Loader.
func (WrkLoader) Name() string { return "wrk" }

// Load implements Loader.
func (w WrkLoader) Load(ctx context.Context, spec LoadSpec) (LoadResult, error) {
	script := filepath.Join(w.Dir, "bench.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return LoadResult{}, fmt.Errorf("write wrk script: %w", err)
	}
	secs := max(1, int(spec.Duration.Round(time.Second)/time.Second))
	args := []string{"-t1", "-c" + strconv.Itoa(spec.Concurrency), "-d" + strconv.Itoa(secs) + "s", "--timeout", "10s", "-s", script}
	for k, vs := range spec.Header {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	args = append(args, spec.URL)
	// The deadline only guards against a hung wrk; -d ends a healthy one.
	cctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, w.Path, args...)
	cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return LoadResult{}, fmt.Errorf("wrk %s: %w\n%s", spec.URL, err, out)
	}
	res, err := parseWrk(out)
	if err != nil {
		return res, fmt.Errorf("wrk %s: %w", spec.URL, err)
	}
	return res, nil
}

// parseWrk reads the BENCHJSON line wrkScript prints.
func parseWrk(out []byte) (LoadResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "BENCHJSON ")
		if !ok {
			continue
		}
		var v struct {
			Requests   int     `json:"requests"`
			DurationUS int64   `json:"duration_us"`
			Errors     int     `json:"errors"`
			MinUS      int64   `json:"min_us"`
			P50US      int64   `json:"p50_us"`
			P90US      int64   `json:"p90_us"`
			P99US      int64   `json:"p99_us"`
			MaxUS      int64   `json:"max_us"`
			MeanUS     float64 `json:"mean_us"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return LoadResult{}, fmt.Errorf("its summary %q: %w", line, err)
		}
		if v.DurationUS <= 0 {
			return LoadResult{}, fmt.Errorf("its summary %q has no duration", line)
		}
		secs := float64(v.DurationUS) / 1e6
		okReqs := max(v.Requests-v.Errors, 0)
		us := func(x int64) float64 { return float64(x) / 1000 }
		return LoadResult{
			Tool: "wrk", Requests: v.Requests, Errors: v.Errors, Seconds: secs,
			RPS: float64(okReqs) / secs,
			Latency: Dist{N: v.Requests, Min: us(v.MinUS), P50: us(v.P50US), P90: us(v.P90US),
				P99: us(v.P99US), Max: us(v.MaxUS), Mean: v.MeanUS / 1000},
		}, nil
	}
	return LoadResult{}, fmt.Errorf("no summary line in its output:\n%s", out)
}
