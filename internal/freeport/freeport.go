// Package freeport picks ports for servers that are started as separate
// processes and bind their port themselves: the hub under test, JupyterHub
// and its proxy in the benchmark.
//
// Such a port is free when picked and stays unbound until the server gets
// to it, seconds later. A port from the kernel's ephemeral range may be
// handed to someone else in between, since that range is where every
// listener on port 0 and every outgoing connection gets its port; then the
// server fails to start or, worse, someone else answers in its place. So
// the ports come from outside that range.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Port returns a port that was free on ip ("" for every address) a moment
// ago, outside the kernel's ephemeral range. No port is returned twice by
// one process.
func Port(ip string) (int, error) {
	lo, hi := Range()
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		p := lo + rand.IntN(hi-lo+1)
		if given[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		given[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("find a free port on %q: none of 200 tried in %d-%d was free", ip, lo, hi)
}

// Block returns the first of n consecutive ports that were all free on ip
// a moment ago, outside the kernel's ephemeral range, for a hub's
// user_ports. No port is returned twice by one process.
func Block(ip string, n int) (int, error) {
	lo, hi := Range()
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		first := lo + rand.IntN(hi-lo-n+2)
		if blockFree(ip, first, n) {
			for p := first; p < first+n; p++ {
				given[p] = true
			}
			return first, nil
		}
	}
	return 0, fmt.Errorf("find %d free ports in a row on %q: none of 200 blocks tried in %d-%d was free", n, ip, lo, hi)
}

func blockFree(ip string, first, n int) bool {
	for p := first; p < first+n; p++ {
		if given[p] {
			return false
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// Range is the larger stretch of ports from 10000 up that lies outside
// /proc/sys/net/ipv4/ip_local_port_range (32768-60999 unless changed).
func Range() (lo, hi int) {
	ephLo, ephHi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && l <= h {
				ephLo, ephHi = l, h
			}
		}
	}
	below, above := ephLo-10000, 65535-ephHi
	switch {
	case below >= above && below > 1000:
		return 10000, ephLo - 1
	case above > 1000:
		return ephHi + 1, 65535
	default:
		// The ephemeral range covers nearly everything: share it.
		return 10000, 65535
	}
}
