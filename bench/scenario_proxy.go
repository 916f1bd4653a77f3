package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/classhub/classhub/hub/engine"
)

// startAlice starts the server every proxy scenario reaches, finds its
// container's address for the direct path and routes CHP to it.
func (l *lab) startAlice(ctx context.Context) error {
	start := time.Now()
	if _, err := l.ch.StartServer(ctx, l.admin, l.alice); err != nil {
		return err
	}
	if _, err := l.ch.WaitReady(ctx, l.admin, []string{l.alice}, start, 50*time.Millisecond, 3*time.Minute); err != nil {
		return err
	}
	f := filters.NewArgs(filters.Arg("label", engine.ManagedFilter()), filters.Arg("label", engine.LabelUser+"="+l.alice))
	cs, err := l.docker.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil || len(cs) != 1 {
		return fmt.Errorf("find %s's container: %d found, %v", l.alice, len(cs), err)
	}
	if ep := cs[0].NetworkSettings; ep != nil && ep.Networks[l.netw] != nil {
		l.aliceIP = ep.Networks[l.netw].IPAddress
	}
	if l.aliceIP == "" {
		return fmt.Errorf("%s's container has no address on %s", l.alice, l.netw)
	}
	if l.aliceOrigin, err = l.ch.UserOrigin(ctx, l.alice); err != nil {
		return err
	}
	if l.chp, err = StartCHP(ctx, l.chpPath, l.dir); err != nil {
		return err
	}
	if err := l.chp.AddRoute(ctx, "/user/"+l.alice, fmt.Sprintf("http://%s:%d", l.aliceIP, notebookPort)); err != nil {
		return err
	}
	l.log("%s's server is up at %s, on classhub at %s; CHP at %s", l.alice, l.aliceIP, l.aliceOrigin, l.chp.Public)
	return nil
}

// proxyPath is one way to alice's server.
type proxyPath struct {
	name string
	base string // scheme://host:port, the path /user/alice/… follows
	pid  int    // the proxy's process, 0 for none
}

func (l *lab) proxyPaths() []proxyPath {
	return []proxyPath{
		{"direct", fmt.Sprintf("http://%s:%d", l.aliceIP, notebookPort), 0},
		// Her server's own origin: what a browser reaches after the hub's
		// origin redirects it once.
		{"classhub", l.aliceOrigin, l.ch.Proc.Pid()},
		{"chp", l.chp.Public, l.chp.Proc.Pid()},
	}
}

// load runs one load on path and charges the proxy's CPU time to it.
func (l *lab) load(ctx context.Context, path proxyPath, spec LoadSpec) (LoadResult, error) {
	var before time.Duration
	if path.pid != 0 {
		var err error
		if before, err = ReadCPU(path.pid); err != nil {
			return LoadResult{}, err
		}
	}
	res, err := l.loader.Load(ctx, spec)
	if err != nil || path.pid == 0 {
		return res, err
	}
	after, err := ReadCPU(path.pid)
	if err != nil {
		return res, err
	}
	res.ProxyCPU = after - before
	if res.Requests > 0 {
		res.ProxyCPUPerRequest = float64(res.ProxyCPU.Microseconds()) / float64(res.Requests)
	}
	return res, nil
}

// proxyLoad is scenario 1.
func (l *lab) proxyLoad(ctx context.Context) error {
	p := l.rep.Params
	hdr := http.Header{"Authorization": {"token " + l.aliceTok}}
	spec := func(base string, c int, d time.Duration) LoadSpec {
		return LoadSpec{URL: base + "/user/" + l.alice + "/api/status", Header: hdr, Concurrency: c, Duration: d}
	}
	// Warm up each path (the server caches the token after its first
	// check with the hub) and prove it answers 200 before measuring, from
	// the server and not from a redirect on the way.
	for _, path := range l.proxyPaths() {
		if err := answers200(ctx, spec(path.base, 1, time.Second)); err != nil {
			return fmt.Errorf("warm-up %s: %w", path.name, err)
		}
		res, err := l.loader.Load(ctx, spec(path.base, 1, time.Second))
		if err != nil {
			return fmt.Errorf("warm-up %s: %w", path.name, err)
		}
		if res.Errors > 0 {
			return fmt.Errorf("warm-up %s: %d of %d requests failed; the path does not reach the server with the token", path.name, res.Errors, res.Requests)
		}
	}
	// Rounds go over every level and path in turn, so a burst of other
	// people's work on the machine lands on one sample of each, not on
	// all samples of one path.
	var failed []string
	samples := make([]map[string][]LoadResult, len(p.Levels))
	rounds := max(p.ProxyRounds, 1)
	for r := 0; r < rounds; r++ {
		for i, c := range p.Levels {
			if samples[i] == nil {
				samples[i] = map[string][]LoadResult{}
			}
			for _, path := range rotate(l.proxyPaths(), r+i) {
				res, err := l.load(ctx, path, spec(path.base, c, p.LoadDuration))
				if err != nil {
					return fmt.Errorf("%s at concurrency %d: %w", path.name, c, err)
				}
				if res.Errors*100 > res.Requests {
					failed = append(failed, fmt.Sprintf("%s at concurrency %d: %d of %d requests failed", path.name, c, res.Errors, res.Requests))
				}
				samples[i][path.name] = append(samples[i][path.name], res)
				l.log("1 proxy round %d/%d c=%d %-8s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  proxy CPU %.0f µs/req",
					r+1, rounds, c, path.name, res.RPS, res.Latency.P50, res.Latency.P99, res.Errors, res.ProxyCPUPerRequest)
			}
		}
	}
	for i, c := range p.Levels {
		s := samples[i]
		l.rep.Proxy = append(l.rep.Proxy, ProxyLevel{Concurrency: c, Rounds: rounds,
			Direct: CombineRounds(s["direct"]), Classhub: CombineRounds(s["classhub"]), CHP: CombineRounds(s["chp"]),
			Samples: s})
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return nil
}

// websockets is scenario 2: one kernel, reached over each path in turn,
// in interleaved rounds so that drift in the machine's load spreads over
// all paths alike.
func (l *lab) websockets(ctx context.Context) error {
	p := l.rep.Params
	// Her server's API is at her own origin; the hub's redirects there.
	code, body, err := l.ch.APIAt(ctx, http.MethodPost, l.aliceOrigin, "/user/"+l.alice+"/api/kernels", l.aliceTok, map[string]string{"name": "python3"})
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("create a kernel: HTTP %d %s %v", code, body, err)
	}
	var k struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &k); err != nil || k.ID == "" {
		return fmt.Errorf("create a kernel: %s %v", body, err)
	}
	defer l.ch.APIAt(context.WithoutCancel(ctx), http.MethodDelete, l.aliceOrigin, "/user/"+l.alice+"/api/kernels/"+k.ID, l.aliceTok, nil)
	wsURL := func(base string) string {
		return "ws" + strings.TrimPrefix(base, "http") + "/user/" + l.alice + "/api/kernels/" + k.ID + "/channels"
	}
	run := func(base string, n int, into *[]time.Duration) error {
		kc, err := DialKernel(ctx, wsURL(base), l.aliceTok, l.alice)
		if err != nil {
			return err
		}
		defer kc.Close()
		for i := 0; i < n; i++ {
			d, err := kc.Execute("pass", 60*time.Second)
			if err != nil {
				return err
			}
			if into != nil {
				*into = append(*into, d)
			}
		}
		return nil
	}
	// The kernel's first executes are slow (imports); they count for no
	// path.
	for _, path := range l.proxyPaths() {
		if err := run(path.base, 10, nil); err != nil {
			return fmt.Errorf("warm-up %s: %w", path.name, err)
		}
	}
	rounds := max(p.Rounds, 1)
	per := max(p.Executes/rounds, 1)
	lat := map[string][]time.Duration{}
	for r := 0; r < rounds; r++ {
		for _, path := range rotate(l.proxyPaths(), r) {
			ds := lat[path.name]
			if err := run(path.base, per, &ds); err != nil {
				return fmt.Errorf("%s, round %d: %w", path.name, r+1, err)
			}
			lat[path.name] = ds
		}
	}
	res := &WSResult{Executes: per * rounds, Rounds: rounds}
	for _, path := range l.proxyPaths() {
		ds := lat[path.name]
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		wp := WSPath{PerSecond: float64(len(ds)) / sum.Seconds(), Latency: Summarize(ds)}
		switch path.name {
		case "direct":
			res.Direct = wp
		case "classhub":
			res.Classhub = wp
		case "chp":
			res.CHP = wp
		}
		l.log("2 websocket %-8s %6.0f executes/s  p50 %6.2f ms  p99 %6.2f ms", path.name, wp.PerSecond, wp.Latency.P50, wp.Latency.P99)
	}
	l.rep.WebSocket = res
	return nil
}

// memAfterLoad reads classhub's and the standalone CHP's memory after
// they carried the proxy scenarios.
func (l *lab) memAfterLoad() {
	if m, err := ReadMem(l.ch.Proc.Pid()); err == nil {
		l.rep.Memory.ClasshubAfterLoad = m
	}
	if l.chp != nil {
		if m, _, err := TreeMem(l.chp.Proc.Pid()); err == nil {
			l.rep.Memory.CHPAfterLoad = m
		}
	}
}

// rotate returns paths starting at the k-th, so that no path always runs
// first (right after a pause) or last.
func rotate(paths []proxyPath, k int) []proxyPath {
	k %= len(paths)
	return append(append([]proxyPath{}, paths[k:]...), paths[:k]...)
}

// answers200 sends spec's request once, following no redirect, and says
// why unless the answer is 200.
func answers200(ctx context.Context, spec LoadSpec) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.URL, nil)
	if err != nil {
		return err
	}
	for k, v := range spec.Header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s (Location %q), not 200 from the server", spec.URL, resp.Status, resp.Header.Get("Location"))
	}
	return nil
}
