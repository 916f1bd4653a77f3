// Package doctor checks that this machine can run classhub: Docker
// installed, the engine running and usable by this user, the network, the
// hub address containers will call, proven from inside a container, and how
// the settings and the running servers' containers are confined. The
// CLI prints the report and the dashboard shows the same sentences.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
)

// Check is one line of the report.
type Check struct {
	Name   string
	OK     bool
	Detail string
	// Weak marks a check that passed but leaves students or the laptop
	// less protected than classhub can; Advice says how to fix it.
	Weak bool
	// Advice says what to do when the check failed or is weak.
	Advice string
}

// Report is every check that ran, in order. Checks that depend on a failed
// one are not run.
type Report struct {
	Checks []Check
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Print writes one line per check and a verdict.
func (r Report) Print(w io.Writer) {
	weak := false
	for _, c := range r.Checks {
		weak = weak || c.Weak
		mark := "ok  "
		switch {
		case !c.OK:
			mark = "FAIL"
		case c.Weak:
			mark = "weak"
		}
		fmt.Fprintf(w, "%s  %-14s %s\n", mark, c.Name, c.Detail)
		if (!c.OK || c.Weak) && c.Advice != "" {
			fmt.Fprintf(w, "      %-14s → %s\n", "", c.Advice)
		}
	}
	switch {
	case r.OK() && weak:
		fmt.Fprintln(w, "classhub can run here; the weak lines above say how to protect students and the laptop better.")
	case r.OK():
		fmt.Fprintln(w, "classhub can run here.")
	default:
		fmt.Fprintln(w, "classhub cannot run here yet: fix the first FAIL above and run `classhub doctor` again.")
	}
}

// Run checks the machine against cfg.
func Run(ctx context.Context, cfg config.Config) Report {
	var r Report
	add := func(c Check) bool { r.Checks = append(r.Checks, c); return c.OK }

	if !add(dockerInstalled()) {
		return r
	}
	cli, err := engine.Connect(ctx)
	if !add(engineCheck(err)) {
		return r
	}
	defer cli.Close()
	sp := spawner.New(cli, spawner.Options{Config: cfg})
	info, err := sp.Engine(ctx)
	if !add(versionCheck(info, err)) {
		return r
	}
	// A swarm the settings need and the engine lacks stops every start:
	// nothing after this would say more.
	backendOK := true
	for _, p := range core.BackendProblems(cfg, info) {
		backendOK = add(Check{Name: p.Check, Detail: p.Detail, Advice: p.Advice}) && backendOK
	}
	if !backendOK {
		return r
	}
	if p, ok := core.OverlayWeakness(cfg, info); ok {
		add(Check{Name: p.Check, OK: true, Weak: true, Detail: p.Detail, Advice: p.Advice})
	}
	if cfg.Backend == config.BackendSwarm {
		if st, ok, err := sp.HubState(ctx); err != nil || ok {
			add(hubServiceCheck(st, err))
		}
	}
	imageOK := add(imageCheck(ctx, cli, cfg.Image))
	netw, err := sp.EnsureNetwork(ctx)
	if err != nil {
		add(Check{Name: "network", Detail: err.Error(), Advice: "remove or rename the conflicting network, or set `network` in the config"})
		return r
	}
	add(networkCheck(netw))
	add(Check{Name: "hub address", OK: true, Detail: fmt.Sprintf("containers call the hub at %s; it listens on %s", netw.HubHost, netw.BindAddr)})
	if imageOK {
		add(probeCheck(ctx, sp, netw))
	} else {
		add(Check{Name: "probe", Detail: "not run: the probe container runs the notebook image", Advice: "build the image first"})
	}
	add(confinementCheck(cfg, info))
	for _, c := range runningServerChecks(ctx, sp, cli) {
		add(c)
	}
	if ip, err := spawner.LANAddress(); err == nil {
		add(Check{Name: "class link", OK: true, Detail: "students join at http://" + net.JoinHostPort(ip.String(), portOf(cfg.ListenAddr())) + "/"})
	} else {
		add(Check{Name: "class link", OK: cfg.Mode == config.ModePersonal, Detail: "no LAN address found: " + err.Error(),
			Advice: "connect the laptop to the class network (Wi-Fi or cable) so students can reach it"})
	}
	return r
}

// networkCheck says whether students' servers can connect to each other
// on netw.
func networkCheck(netw spawner.Network) Check {
	if len(netw.Seats) > 0 {
		return Check{Name: "network", OK: true,
			Detail: fmt.Sprintf("%s (%s): the hub's service meets each running server on a seat of its own, %d seats (servers cannot reach each other)", netw.Name, netw.Subnet, len(netw.Seats))}
	}
	return Check{Name: "network", OK: true, Detail: fmt.Sprintf("%s (%s, servers cannot reach each other)", netw.Name, netw.Subnet)}
}

// hubServiceCheck says where the hub's service is, when one is deployed:
// the rest of the report is this node's, not the service's.
func hubServiceCheck(st spawner.HubState, err error) Check {
	c := Check{Name: "hub service"}
	switch {
	case err != nil:
		c.Detail, c.Advice = err.Error(), "`docker service ps "+spawner.HubServiceName+"` shows its tasks"
	case st.State != "running":
		c.Detail = fmt.Sprintf("%s is deployed but its task is %s", spawner.HubServiceName, orNone(st.State))
		if st.Err != "" {
			c.Detail += ": " + st.Err
		}
		c.Advice = "`docker service ps --no-trunc " + spawner.HubServiceName + "` and `docker service logs " + spawner.HubServiceName + "` say why; `classhub swarm deploy` runs it again"
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("%s runs on node %s: %d of its %d seats are held by running servers (the lines below are this node's, as if the hub ran on its host)", spawner.HubServiceName, st.Node, st.Held, st.Seats)
		if st.Held == st.Seats {
			c.Weak, c.Advice = true, fmt.Sprintf("no seat is free, so no more servers can start: `classhub swarm deploy --seats %d` adds more", min(2*st.Seats, spawner.MaxSeats))
		}
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "not made yet"
	}
	return s
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "8000"
	}
	return p
}

func dockerInstalled() Check {
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		if err := engine.Locate(host).Refusal(); err != nil {
			return engineCheck(err)
		}
		return Check{Name: "docker", OK: true, Detail: "DOCKER_HOST=" + host}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		return Check{Name: "docker", OK: true, Detail: "installed (" + p + ")"}
	}
	if _, err := os.Stat("/var/run/docker.sock"); err == nil {
		return Check{Name: "docker", OK: true, Detail: "engine socket at /var/run/docker.sock"}
	}
	return Check{Name: "docker", Detail: "neither the docker command nor an engine socket was found", Advice: engine.AdviceMissing}
}

func engineCheck(err error) Check {
	if err == nil {
		return Check{Name: "engine", OK: true, Detail: "running, and this user may use it"}
	}
	c := Check{Name: "engine", Detail: err.Error()}
	var e *engine.Error
	if errors.As(err, &e) {
		c.Detail, c.Advice = e.Err.Error(), e.Advice
	}
	return c
}

func versionCheck(info spawner.EngineInfo, err error) Check {
	if err != nil {
		return Check{Name: "engine version", Detail: err.Error()}
	}
	d := fmt.Sprintf("Docker %s (API %s, %s, cgroup %s)", info.Version, info.APIVersion, info.OperatingSystem, info.CgroupVersion)
	if !info.SwapLimit {
		d += "; this kernel cannot cap swap, so memory_limit caps memory only"
	}
	return Check{Name: "engine version", OK: true, Detail: d}
}

func imageCheck(ctx context.Context, cli *client.Client, ref string) Check {
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return Check{Name: "image", Detail: ref + " is not in the engine", Advice: "run `" + image.BuildCommand(ref) + "` (no registry needed)"}
	}
	return Check{Name: "image", OK: true, Detail: fmt.Sprintf("%s (%s, %d MB)", ref, strings.TrimPrefix(img.ID, "sha256:")[:12], img.Size>>20)}
}

// probeCheck listens on the hub's bind address and has a container call
// it: the only proof that a firewall or a VM between them lets servers
// reach the hub.
func probeCheck(ctx context.Context, sp *spawner.Docker, netw spawner.Network) Check {
	l, err := net.Listen("tcp", net.JoinHostPort(netw.BindAddr, "0"))
	if err != nil {
		return Check{Name: "probe", Detail: "cannot listen on " + netw.BindAddr + ": " + err.Error()}
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }),
		ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	defer srv.Close()
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := sp.ProbeHubAddress(pctx, l.Addr().String()); err != nil {
		return Check{Name: "probe", Detail: err.Error(),
			Advice: "a firewall may block containers from reaching " + netw.BindAddr + ": allow traffic from " + netw.Subnet}
	}
	return Check{Name: "probe", OK: true, Detail: "a container on " + netw.Name + " reached the hub at " + netw.HubHost}
}
