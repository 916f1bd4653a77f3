package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// Machine describes where the numbers were measured.
type Machine struct {
	Host     string `json:"host"`
	CPU      string `json:"cpu"`
	NProc    int    `json:"nproc"`
	MemBytes int64  `json:"mem_bytes"`
	Kernel   string `json:"kernel"`
}

// Versions of everything measured or measuring.
type Versions struct {
	Go          string `json:"go"`
	Docker      string `json:"docker"`
	DockerAPI   string `json:"docker_api"`
	Classhub    string `json:"classhub"`
	ClasshubRev string `json:"classhub_rev"`
	JupyterHub  string `json:"jupyterhub"`
	CHP         string `json:"configurable_http_proxy"`
	Node        string `json:"node"`
	Wrk         string `json:"wrk"`
	Image       string `json:"image"`
	ImageID     string `json:"image_id"`
}

// Contention is what else the machine was doing: other people's
// containers and the load average, before and after the run.
type Contention struct {
	LoadBefore      string `json:"loadavg_before"`
	LoadAfter       string `json:"loadavg_after"`
	OtherContainers int    `json:"other_running_containers"`
}

// ReadMachine reads /proc and uname.
func ReadMachine() Machine {
	m := Machine{NProc: runtime.NumCPU()}
	m.Host, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemBytes = memTotal(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func cpuModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// LoadAvg returns the 1, 5 and 15 minute load averages.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// otherContainers counts running containers that are not this run's.
func otherContainers(ctx context.Context, cli *client.Client, suffix string) int {
	cs, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs()})
	if err != nil {
		return -1
	}
	n := 0
	for _, c := range cs {
		if !strings.HasSuffix(c.Labels[engine.LabelUser], suffix) {
			n++
		}
	}
	return n
}

// ReadVersions asks each tool for its version. Paths may be empty for
// tools that are missing.
func ReadVersions(ctx context.Context, cli *client.Client, classhubBin, jupyterhub, chp, wrk, image string) Versions {
	v := Versions{Go: runtime.Version(), Image: image}
	if sv, err := cli.ServerVersion(ctx); err == nil {
		v.Docker, v.DockerAPI = sv.Version, sv.APIVersion
	}
	if ins, err := cli.ImageInspect(ctx, image); err == nil {
		v.ImageID = shortID(ins.ID)
	}
	if classhubBin != "" {
		v.Classhub = strings.TrimPrefix(version(ctx, nil, classhubBin, "version"), "classhub ")
	}
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		v.ClasshubRev = strings.TrimSpace(string(out))
		if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			v.ClasshubRev += "+uncommitted"
		}
	}
	if jupyterhub != "" {
		v.JupyterHub = version(ctx, nil, jupyterhub, "--version")
	}
	if chp != "" {
		v.CHP = version(ctx, nodeEnv(), chp, "--version")
	}
	if node, err := exec.LookPath("node"); err == nil {
		v.Node = version(ctx, nil, node, "--version")
	}
	if wrk != "" {
		v.Wrk = version(ctx, nil, wrk, "-v")
		if f := strings.Fields(v.Wrk); len(f) >= 2 {
			v.Wrk = f[1]
		}
	}
	return v
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
