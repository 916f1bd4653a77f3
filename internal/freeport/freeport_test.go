package freeport

import (
	"net"
	"strconv"
	"testing"
)

// The ports Port picks lie outside the kernel's ephemeral range, are free,
// and are never handed out twice.
func TestPortAvoidsTheEphemeralRange(t *testing.T) {
	lo, hi := Range()
	if hi-lo < 1000 {
		t.Fatalf("range %d-%d", lo, hi)
	}
	seen := map[int]bool{}
	for range 50 {
		p, err := Port("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if p < lo || p > hi || seen[p] {
			t.Fatalf("port %d: outside %d-%d or given twice", p, lo, hi)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("the port Port gave is not free: %v", err)
		}
		l.Close()
	}
	if _, err := Port(""); err != nil {
		t.Errorf("a port on every address: %v", err)
	}
	// Port 0 is where test servers and outgoing connections get their
	// ports; it stays out of the range Port picks from.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if p := l.Addr().(*net.TCPAddr).Port; p >= lo && p <= hi {
		t.Errorf("the kernel handed out %d, inside the range Port picks from (%d-%d)", p, lo, hi)
	}
}

func TestBlockIsFreeAndNeverOverlaps(t *testing.T) {
	lo, hi := Range()
	seen := map[int]bool{}
	for range 5 {
		first, err := Block("127.0.0.1", 8)
		if err != nil {
			t.Fatal(err)
		}
		if first < lo || first+7 > hi {
			t.Fatalf("block %d+8 outside %d-%d", first, lo, hi)
		}
		for p := first; p < first+8; p++ {
			if seen[p] {
				t.Fatalf("port %d given twice", p)
			}
			seen[p] = true
		}
	}
	if p, err := Port("127.0.0.1"); err != nil || seen[p] {
		t.Errorf("Port after Block = %d, %v", p, err)
	}
}
