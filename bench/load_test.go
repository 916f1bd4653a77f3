package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classhub/classhub/internal/testenv"
)

// countingServer answers 200, or 500 for paths under /fail, and counts
// what it answered and whether each request carried the token.
func countingServer(t *testing.T) (srv *httptest.Server, ok, failed, tokened *atomic.Int64) {
	ok, failed, tokened = new(atomic.Int64), new(atomic.Int64), new(atomic.Int64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "token s3cret" {
			tokened.Add(1)
		}
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/fail" {
			failed.Add(1)
			http.Error(w, "no", 500)
			return
		}
		ok.Add(1)
		w.Write([]byte(`{"kernels":0}`))
	}))
	t.Cleanup(srv.Close)
	return
}

func checkLoader(t *testing.T, l Loader) {
	srv, ok, failed, tokened := countingServer(t)
	spec := LoadSpec{URL: srv.URL + "/api/status", Header: http.Header{"Authorization": {"token s3cret"}},
		Concurrency: 4, Duration: time.Second}
	res, err := l.Load(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	// The loader counts only what it finished; the server may have
	// answered a few more that were cut off at the end.
	if res.Requests == 0 || int64(res.Requests) > ok.Load() {
		t.Errorf("%s reported %d requests, the server answered %d", l.Name(), res.Requests, ok.Load())
	}
	if tokened.Load() != ok.Load() {
		t.Errorf("%d of %d requests carried the Authorization header", tokened.Load(), ok.Load())
	}
	if res.Errors != 0 || res.RPS <= 0 || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 {
		t.Errorf("%s result: %+v", l.Name(), res)
	}
	if want := float64(res.Requests) / res.Seconds; res.RPS < want*0.99 || res.RPS > want*1.01 {
		t.Errorf("rps %.1f is not requests/seconds %.1f", res.RPS, want)
	}

	spec.URL = srv.URL + "/fail"
	before := failed.Load()
	res, _ = l.Load(context.Background(), spec)
	if res.Errors == 0 || int64(res.Errors) > failed.Load()-before {
		t.Errorf("%s counted %d errors for %d answers of 500", l.Name(), res.Errors, failed.Load()-before)
	}
}

func TestGoLoader(t *testing.T) { checkLoader(t, GoLoader{}) }

func TestWrkLoader(t *testing.T) {
	path := testenv.Command(t, "wrk")
	checkLoader(t, WrkLoader{Path: path, Dir: t.TempDir()})
}

func TestGoLoaderRejectsNoConcurrency(t *testing.T) {
	if _, err := (GoLoader{}).Load(context.Background(), LoadSpec{URL: "http://127.0.0.1:1/", Duration: time.Second}); err == nil {
		t.Error("concurrency 0 was accepted")
	}
}

func TestParseWrk(t *testing.T) {
	out := []byte("Running 1s test @ http://x\n  1 threads and 1 connections\n" +
		`BENCHJSON {"requests":2000,"duration_us":2000000,"errors":100,"min_us":100,"p50_us":500,"p90_us":900,"p99_us":1500,"max_us":9000,"mean_us":550.0}` + "\n")
	res, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 2000 || res.Errors != 100 || res.RPS != 950 || res.Latency.P50 != 0.5 || res.Latency.P99 != 1.5 || res.Seconds != 2 {
		t.Errorf("parsed %+v", res)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("output without a summary parsed")
	}
}

func TestCombineRoundsTakesMedians(t *testing.T) {
	rs := []LoadResult{
		{Tool: "wrk", Requests: 100, Errors: 1, Seconds: 1, RPS: 100, Latency: Dist{N: 100, Min: 1, P50: 5, P99: 50, Max: 90}},
		{Tool: "wrk", Requests: 10, Seconds: 1, RPS: 10, Latency: Dist{N: 10, Min: 3, P50: 90, P99: 900, Max: 999}}, // disturbed
		{Tool: "wrk", Requests: 120, Seconds: 1, RPS: 120, Latency: Dist{N: 120, Min: 0.5, P50: 4, P99: 40, Max: 60}},
	}
	c := CombineRounds(rs)
	if c.RPS != 100 || c.Latency.P50 != 5 || c.Latency.P99 != 50 {
		t.Errorf("medians: %+v", c)
	}
	if c.Requests != 230 || c.Errors != 1 || c.Seconds != 3 || c.Latency.Min != 0.5 || c.Latency.Max != 999 || c.Latency.N != 230 {
		t.Errorf("totals: %+v", c)
	}
	if one := CombineRounds(rs[:1]); one.RPS != 100 || one.Latency.P99 != 50 {
		t.Errorf("one round: %+v", one)
	}
	rs[0].ProxyCPU, rs[2].ProxyCPU = 30*time.Millisecond, 16*time.Millisecond
	if c := CombineRounds(rs); c.ProxyCPU != 46*time.Millisecond || c.ProxyCPUPerRequest != 200 {
		t.Errorf("proxy CPU: %v, %v µs/request; want 46ms over 230 requests, 200", c.ProxyCPU, c.ProxyCPUPerRequest)
	}
	if two := CombineRounds(rs[:2]); two.RPS != 55 {
		t.Errorf("two rounds: median req/s %v, want the middle 55", two.RPS)
	}
	if (CombineRounds(nil) != LoadResult{}) {
		t.Error("no rounds is not the zero result")
	}
}
