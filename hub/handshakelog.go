package hub

import (
	"fmt"
	"log"
	"strings"
	"sync"
	"time"
)

// handshakeLogEvery is how often, at most, the public listeners log a
// failed TLS handshake.
const handshakeLogEvery = time.Minute

// quietHandshakes returns the error log of the public listeners: what
// net/http logs goes to logger, except failed TLS handshakes, which
// anyone on the LAN causes at will (a plain-HTTP request to the main port
// or any of the users' ports, a port scan) and which would grow the log
// without end. Of those it writes at most one every handshakeLogEvery,
// across every listener it is given to, with how many it left out. nil
// means the log package's standard logger.
func quietHandshakes(logger *log.Logger) *log.Logger {
	if logger == nil {
		logger = log.Default()
	}
	return log.New(&handshakeFilter{out: logger, every: handshakeLogEvery, now: time.Now}, "", 0)
}

// handshakeFilter is quietHandshakes' writer: each write is one line
// net/http logs.
type handshakeFilter struct {
	out   *log.Logger
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	next    time.Time // when the next handshake error may be logged
	dropped int       // handshake errors left out since the last logged
}

func (f *handshakeFilter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	if strings.HasPrefix(line, "http: TLS handshake error") {
		f.mu.Lock()
		now := f.now()
		if now.Before(f.next) {
			f.dropped++
			f.mu.Unlock()
			return len(p), nil
		}
		f.next = now.Add(f.every)
		if f.dropped > 0 {
			line += fmt.Sprintf(" (and %d more TLS handshake errors since the last logged)", f.dropped)
			f.dropped = 0
		}
		f.mu.Unlock()
	}
	f.out.Print(line)
	return len(p), nil
}
