package bench

import (
	"strings"
	"testing"
)

func TestMachineParsers(t *testing.T) {
	cpu := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu\n"
	if got := cpuModel(cpu); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel("processor : 0\n"); got != "unknown" {
		t.Errorf("cpuModel without a model = %q", got)
	}
	mem := "MemFree:         1000 kB\nMemTotal:       24684200 kB\n"
	if got := memTotal(mem); got != 24684200*1024 {
		t.Errorf("memTotal = %d", got)
	}
}

func TestReadMachineOnThisHost(t *testing.T) {
	m := ReadMachine()
	if m.NProc < 1 || m.MemBytes < 1<<28 || m.Kernel == "" || m.CPU == "" {
		t.Errorf("ReadMachine = %+v", m)
	}
	if la := LoadAvg(); len(strings.Fields(la)) != 3 {
		t.Errorf("LoadAvg = %q", la)
	}
}
