package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"
)

// LoadSpec is one closed-loop HTTP load run: Concurrency clients each send
// GET URL, wait for the whole answer and send the next, for Duration.
type LoadSpec struct {
	URL         string
	Header      http.Header
	Concurrency int
	Duration    time.Duration
}

// LoadResult is what a load run measured. Errors counts transport
// failures and answers other than 2xx (redirects too: wrk counts only 400
// and more, so the proxy scenario proves each path answers 200 first); a
// run with errors measured something other than the path it was meant to.
type LoadResult struct {
	Tool     string  `json:"tool"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	Latency  Dist    `json:"latency"`
	// ProxyCPU is the CPU time the proxy process used during the run,
	// and ProxyCPUPerRequest that over the requests, in microseconds:
	// the proxy's cost, which other people's load on the machine moves
	// far less than it moves rates. Zero for the direct path.
	ProxyCPU           time.Duration `json:"proxy_cpu_ns,omitempty"`
	ProxyCPUPerRequest float64       `json:"proxy_cpu_us_per_request,omitempty"`
}

// Loader runs a load spec; wrk and the Go client both are one.
type Loader interface {
	Load(ctx context.Context, spec LoadSpec) (LoadResult, error)
	Name() string
}

// GoLoader is a closed-loop load generator in this process. It is the
// fallback when wrk is missing: it competes for the same two cores as the
// proxies it measures, so its absolute numbers are lower than wrk's; the
// ratios of one run stay comparable.
type GoLoader struct{}

// Name implements Loader.
func (GoLoader) Name() string { return "go" }

// Load implements Loader.
func (GoLoader) Load(ctx context.Context, spec LoadSpec) (LoadResult, error) {
	if spec.Concurrency < 1 || spec.Duration <= 0 {
		return LoadResult{}, fmt.Errorf("load %s: concurrency %d and duration %s must be positive", spec.URL, spec.Concurrency, spec.Duration)
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback and container IPs only, never an environment proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: spec.Concurrency,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type worker struct {
		lat  []time.Duration
		errs int
	}
	workers := make([]worker, spec.Concurrency)
	start := time.Now()
	deadline := start.Add(spec.Duration)
	done := make(chan struct{})
	for i := range workers {
		go func(w *worker) {
			defer func() { done <- struct{}{} }()
			buf := make([]byte, 32<<10)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.URL, nil)
				if err != nil {
					w.errs++
					return
				}
				for k, v := range spec.Header {
					req.Header[k] = v
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					w.errs++
					continue
				}
				_, err = io.CopyBuffer(io.Discard, resp.Body, buf)
				resp.Body.Close()
				if err != nil || resp.StatusCode < 200 || resp.StatusCode >= 300 {
					w.errs++
					continue
				}
				w.lat = append(w.lat, time.Since(t0))
			}
		}(&workers[i])
	}
	for range workers {
		<-done
	}
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return LoadResult{}, fmt.Errorf("load %s: %w", spec.URL, err)
	}
	var all []time.Duration
	res := LoadResult{Tool: "go", Seconds: elapsed.Seconds()}
	for _, w := range workers {
		all = append(all, w.lat...)
		res.Errors += w.errs
	}
	res.Requests = len(all) + res.Errors
	res.RPS = float64(len(all)) / elapsed.Seconds()
	res.Latency = Summarize(all)
	if len(all) == 0 {
		return res, errors.New("load " + spec.URL + ": no request succeeded")
	}
	return res, nil
}

// CombineRounds merges the results of repeated runs of one spec: counts
// add up; rates and percentiles are the median over the runs, which a
// single disturbed run cannot move.
func CombineRounds(rs []LoadResult) LoadResult {
	if len(rs) == 0 {
		return LoadResult{}
	}
	out := LoadResult{Tool: rs[0].Tool, Latency: Dist{Min: rs[0].Latency.Min, Max: rs[0].Latency.Max}}
	pick := func(f func(LoadResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
	}
	for _, r := range rs {
		out.ProxyCPU += r.ProxyCPU
		out.Requests += r.Requests
		out.Errors += r.Errors
		out.Seconds += r.Seconds
		out.Latency.N += r.Latency.N
		out.Latency.Min = min(out.Latency.Min, r.Latency.Min)
		out.Latency.Max = max(out.Latency.Max, r.Latency.Max)
	}
	if out.Requests > 0 {
		out.ProxyCPUPerRequest = float64(out.ProxyCPU.Microseconds()) / float64(out.Requests)
	}
	out.RPS = pick(func(r LoadResult) float64 { return r.RPS })
	out.Latency.P50 = pick(func(r LoadResult) float64 { return r.Latency.P50 })
	out.Latency.P90 = pick(func(r LoadResult) float64 { return r.Latency.P90 })
	out.Latency.P99 = pick(func(r LoadResult) float64 { return r.Latency.P99 })
	out.Latency.Mean = pick(func(r LoadResult) float64 { return r.Latency.Mean })
	return out
}
