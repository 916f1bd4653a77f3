package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReadMemOfThisProcess(t *testing.T) {
	m, err := ReadMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < 1<<20 || m.HWM < m.RSS {
		t.Errorf("this test process: %+v", m)
	}
	if _, err := ReadMem(1 << 30); err == nil {
		t.Error("a process that cannot exist has memory")
	}
}

// A shell that starts a grandchild: the tree has both, Stop ends both,
// and the grandchild cannot outlive Stop even though the shell ignores
// SIGTERM.
func TestProcTreeAndStop(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProc("shell", filepath.Join(dir, "log"), []string{"BENCH_MARK=1"}, dir,
		"sh", "-c", `trap '' TERM; echo started $BENCH_MARK; sleep 300 & wait`)
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	deadline := time.Now().Add(10 * time.Second)
	for len(kids) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, kids, _ = TreeMem(p.Pid())
		kids = slices.DeleteFunc(kids, func(pid int) bool { return pid == p.Pid() })
	}
	if len(kids) != 1 {
		t.Fatalf("descendants of the shell: %v, want the one sleep", kids)
	}
	if m, _, err := TreeMem(p.Pid()); err != nil || m.RSS == 0 {
		t.Errorf("TreeMem: %+v %v", m, err)
	}
	p.Stop(500 * time.Millisecond)
	if exited, _ := p.Exited(); !exited {
		t.Error("the shell runs after Stop")
	}
	if alive(kids[0]) {
		t.Errorf("the grandchild %d runs after Stop", kids[0])
	}
	if tail := p.LogTail(5); !strings.Contains(tail, "started 1") {
		t.Errorf("log tail %q lacks the output (or the env)", tail)
	}
	p.Stop(time.Second) // a second Stop is harmless
}

// alive reports whether pid runs; a killed orphan may stay a zombie until
// init reaps it, which is not running.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) < i+3 || b[i+2] != 'Z'
}

func TestReadCPUCountsWork(t *testing.T) {
	before, err := ReadCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the counter moves by at least two ticks; a reader
	// that returned a constant would never get there.
	x := 0
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		if now, _ := ReadCPU(os.Getpid()); now-before >= 20*time.Millisecond {
			return
		}
	}
	t.Errorf("a minute of spinning (%d) did not show in ReadCPU", x)
}
