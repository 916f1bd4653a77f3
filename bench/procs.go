package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a program the bench started, in its own process group so that
// a Ctrl+C at the terminal reaches only the bench, which then stops its
// children in order, and so that grandchildren (JupyterHub's proxy) can be
// stopped with their parent.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	log     *os.File
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

// StartProc starts argv with env added to the bench's environment, its
// output to logPath.
func StartProc(name, logPath string, env []string, dir string, argv ...string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's id (and its process group's).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process and waits up to grace for it to end,
// then kills what is left of its process group, children included. It is
// safe to call more than once.
func (p *Proc) Stop(grace time.Duration) {
	pgid := p.Pid()
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	// Children that outlived their parent (a proxy whose hub died) are
	// still in the group.
	if err := syscall.Kill(-pgid, 0); err == nil {
		syscall.Kill(-pgid, syscall.SIGTERM)
		time.Sleep(200 * time.Millisecond)
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// LogTail returns the last n lines of the process's output, for errors.
func (p *Proc) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Mem is a process's resident memory: now and at its peak.
type Mem struct {
	RSS int64 `json:"rss_bytes"`
	HWM int64 `json:"peak_rss_bytes"`
}

// ReadMem reads VmRSS and VmHWM of pid from /proc.
func ReadMem(pid int) (Mem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Mem{}, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	var m Mem
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "VmHWM":
			m.HWM = n << 10
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("memory of process %d: no VmRSS in /proc (a kernel thread?)", pid)
	}
	return m, nil
}

// TreeMem sums ReadMem over pid and all its descendants, so a hub counts
// with the proxy it started.
func TreeMem(pid int) (Mem, []int, error) {
	pids := append([]int{pid}, descendants(pid)...)
	var total Mem
	for _, p := range pids {
		m, err := ReadMem(p)
		if err != nil {
			if p == pid {
				return Mem{}, nil, err
			}
			continue // a child that just ended
		}
		total.RSS += m.RSS
		total.HWM += m.HWM
	}
	return total, pids, nil
}

// descendants lists every process whose parent chain reaches pid.
func descendants(pid int) []int {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the
		// parent pid is the second field after it.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		me, err1 := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		pp, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			parent[me] = pp
		}
	}
	var out []int
	for p := range parent {
		for q, hops := parent[p], 0; q > 0 && hops < 64; q, hops = parent[q], hops+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// userHZ is the unit of /proc/PID/stat's CPU times, fixed at 100 on
// Linux whatever the kernel's own tick.
const userHZ = 100

// ReadCPU returns the CPU time (user and system) pid has used so far.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3 of the line, utime 14, stime 15.
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("CPU time of process %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("CPU time of process %d: %v %v", pid, err1, err2)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// errExited is returned by waits whose process ended first.
var errExited = errors.New("exited")
