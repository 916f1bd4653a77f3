package hub

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log's output that tests read while servers write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// Anyone on the LAN can fail TLS handshakes at will, on the main port and
// on every user's port: plain-HTTP requests, garbage, connections that
// close at once. The hub's log gets one line for all of them a minute,
// not one each.
func TestFailedHandshakesDoNotGrowTheLog(t *testing.T) {
	out := &syncBuffer{}
	logger := log.New(out, "classhub: ", 0)
	clock := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	f := &handshakeFilter{out: logger, every: handshakeLogEvery, now: func() time.Time { return clock }}
	publicLog := log.New(f, "", 0)
	seen := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.dropped + 1
	}

	// The main port and a user's port, as Serve starts them.
	var addrs []string
	for range 2 {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config = newPublicServer(http.NotFoundHandler(), publicLog)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		addrs = append(addrs, srv.Listener.Addr().String())
	}
	const each = 20
	for _, addr := range addrs {
		for i := range each {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(patience))
			if i%2 == 0 {
				fmt.Fprintf(c, "GET /hub/login HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
			} else {
				c.Write([]byte("\x16\x03\x01\x00\x04junk"))
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}
	for deadline := time.Now().Add(patience); seen() < 2*each; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d failed handshakes reached the log", seen(), 2*each)
		}
		time.Sleep(time.Millisecond)
	}
	if lines := out.lines(); len(lines) != 1 || !strings.Contains(lines[0], "TLS handshake error") {
		t.Fatalf("%d failed handshakes logged %d lines, want 1: %q", 2*each, len(lines), lines)
	}

	// Other errors pass; a minute later, the next handshake error is
	// logged with the count of those left out.
	publicLog.Printf("http: Accept error: too many open files; retrying in 5ms")
	clock = clock.Add(handshakeLogEvery)
	publicLog.Printf("http: TLS handshake error from 192.0.2.7:5000: EOF")
	lines := out.lines()
	if len(lines) != 3 || !strings.Contains(lines[1], "Accept error") ||
		!strings.HasSuffix(lines[2], fmt.Sprintf("EOF (and %d more TLS handshake errors since the last logged)", 2*each-1)) ||
		!strings.HasPrefix(lines[2], "classhub: ") {
		t.Errorf("log = %q", lines)
	}
}
