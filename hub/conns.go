package hub

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/classhub/classhub/hub/limit"
)

// connLimits are one listener's timeouts and sizes. http.Server's own
// ReadTimeout and WriteTimeout bound a whole request and its whole
// answer, which would cut event streams, websockets, long uploads and
// downloads; so the server bounds only headers and idle connections, and
// deadlines on each request bound how long the body or a write may stand
// still instead.
type connLimits struct {
	// Header bounds reading a request's headers.
	Header time.Duration
	// Body bounds how long a request body may take to deliver BodyStep
	// more bytes: a body that stalls, or trickles, is cut; an upload that
	// keeps moving, however large, is not.
	Body     time.Duration
	BodyStep int64
	// Write bounds how long one write to the client may block: a client
	// that stops reading is cut; a stream that writes now and then, and
	// a download the client keeps reading, are not.
	Write time.Duration
	// Idle bounds a kept-alive connection between requests.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// PerAddress caps the connections open from one address; 0 means no
	// cap.
	PerAddress int
}

// publicLimits are every public listener's: browsers on the LAN.
var publicLimits = connLimits{
	Header:   10 * time.Second,
	Body:     time.Minute,
	BodyStep: 4 << 10,
	Write:    time.Minute,
	Idle:     2 * time.Minute,
	// A student's page can fill its visitor's cookie jar for this host
	// (cookies ignore ports): about 180 cookies of 4 KiB. A smaller limit
	// would let it lock its visitor out of the hub with 431s.
	MaxHeaderBytes: http.DefaultMaxHeaderBytes,
	// Many students may share one address behind the school's NAT, so
	// the per-user caps on streams, websockets and requests bound people;
	// this only stops one machine from opening connections (and the
	// hub's goroutines and files) without end. A browser holds a few
	// dozen at most, six per origin and its websockets. Every public
	// listener counts against one cap (see Hub.listenPublic).
	PerAddress: 4096,
}

// internalLimits are the internal listener's: notebook servers, which
// the students control, calling with small requests and never streaming.
var internalLimits = connLimits{
	Header:         5 * time.Second,
	Body:           30 * time.Second,
	BodyStep:       1 << 10,
	Write:          30 * time.Second,
	Idle:           time.Minute,
	MaxHeaderBytes: 64 << 10,
	// jupyterhub-singleuser's HTTP client opens at most 10 connections
	// at once.
	PerAddress: 32,
}

// newPublicServer is the one place public listeners get their settings:
// the hub's main port and any other port it serves pages or notebook
// servers on. Give every one the same quietHandshakes logger.
func newPublicServer(handler http.Handler, logger *log.Logger) *http.Server {
	return publicLimits.server(handler, logger)
}

// newInternalServer serves the listener containers call; serve it on
// internalLimits.listener(l) where each container has its own address.
// Everything there is the hub's own, so its bodies are hubBodies'.
func newInternalServer(handler http.Handler, logger *log.Logger) *http.Server {
	return internalLimits.server(hubBodies(handler), logger)
}

// maxHubBody bounds the body of any request the hub answers itself. The
// largest the hub takes is a roster import: a file of up to 1 MiB and the
// rest of its form (hub/web's adminImport, which bounds it to that itself).
const maxHubBody = 1<<20 + 64<<10

// hubBodies bounds the request bodies of the hub's own handlers, the pages
// and the API, so no request makes the hub hold more than maxHubBody of
// it, whoever sends it and whatever handler reads it: net/http's FormValue
// alone reads a multipart body of any method into 32 MiB of memory and
// temporary files without end. GET and HEAD get no body at all. It is not
// for what the proxy forwards to notebook servers, where uploads are
// large and the user's own server reads them.
func hubBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			r = withBody(r, http.NoBody, 0)
		case r.ContentLength > maxHubBody:
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("This request's body is larger than the hub takes (%d KiB); send less.", maxHubBody>>10), http.StatusRequestEntityTooLarge)
			return
		default:
			r = withBody(r, http.MaxBytesReader(w, r.Body, maxHubBody), r.ContentLength)
		}
		next.ServeHTTP(w, r)
	})
}

// withBody is a copy of r with body, of length n, as its body. Wrappers
// of a body hand the handler a copy and leave the server's request alone:
// once the handler answers, net/http reads that request's Body and
// ContentLength to read what the handler left of the body, to tell a body
// closed early or a client waiting for "100 Continue", and so to decide
// whether the connection may carry another request. Told a GET had no
// body, it read the body only once it was reading the next request (a
// panic, "invalid concurrent Body.Read call", that resets the connection)
// or, for a large one, read the rest as the next request; told of another
// body, it waited for the body of a refused upload it never asked for.
func withBody(r *http.Request, body io.ReadCloser, n int64) *http.Request {
	r = r.WithContext(r.Context())
	r.Body, r.ContentLength = body, n
	return r
}

func (cl connLimits) server(handler http.Handler, logger *log.Logger) *http.Server {
	return &http.Server{
		Handler:           cl.deadlines(handler),
		ReadHeaderTimeout: cl.Header,
		IdleTimeout:       cl.Idle,
		MaxHeaderBytes:    cl.MaxHeaderBytes,
		ErrorLog:          logger,
	}
}

// listener caps l's connections per address as PerAddress says.
func (cl connLimits) listener(l net.Listener) net.Listener {
	return capPerAddress(l, cl.addresses())
}

// addresses counts connections per address against PerAddress, for one
// listener or shared by several; nil when there is no cap.
func (cl connLimits) addresses() *limit.PerKey {
	if cl.PerAddress <= 0 {
		return nil
	}
	return limit.NewPerKey(cl.PerAddress)
}

// capPerAddress counts l's connections against open; nil means no cap.
func capPerAddress(l net.Listener, open *limit.PerKey) net.Listener {
	if open == nil {
		return l
	}
	return &perAddressListener{Listener: l, open: open}
}

// deadlines sets the per-request deadlines Body and Write describe. A
// request without a body gets no read deadline: the server is reading
// the connection in the background then, to notice a client that left,
// and a deadline there would cancel the request.
func (cl connLimits) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		dw := &deadlineWriter{ResponseWriter: w, rc: rc, timeout: cl.Write}
		dw.extend()
		if r.Body != nil && r.Body != http.NoBody {
			rc.SetReadDeadline(time.Now().Add(cl.Body))
			r = withBody(r, &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: cl.Body, step: cl.BodyStep}, r.ContentLength)
		}
		next.ServeHTTP(dw, r)
		// The server sends what the handler left buffered after it
		// returns, however long ago its last write was.
		rc.SetWriteDeadline(time.Now().Add(cl.Write))
	})
}

// deadlineBody moves the connection's read deadline on each time the
// body delivers another step of bytes. Once the body is read to its end,
// the server clears the deadline itself.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	step    int64
	got     int64
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.got += int64(n); b.got >= b.step && err == nil {
		b.got = 0
		b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	return n, err
}

// deadlineWriter gives every write, and every flush, at least half the
// write timeout to go through. It moves the deadline only when less than
// half is left, so a stream of small writes costs no more than a clock
// read each.
type deadlineWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	timeout  time.Duration
	deadline atomic.Int64 // unix nanoseconds
}

func (d *deadlineWriter) extend() {
	now := time.Now()
	if now.UnixNano()+int64(d.timeout/2) < d.deadline.Load() {
		return
	}
	dl := now.Add(d.timeout)
	d.deadline.Store(dl.UnixNano())
	d.rc.SetWriteDeadline(dl)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.extend()
	return d.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController.Flush calls.
func (d *deadlineWriter) FlushError() error {
	d.extend()
	return d.rc.Flush()
}

// Flush is for handlers that ask for an http.Flusher.
func (d *deadlineWriter) Flush() { d.FlushError() }

// Unwrap lets http.ResponseController reach the connection: the proxy
// hijacks it for websockets, which clears its deadlines.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// perAddressListener closes connections beyond the cap from one address
// as soon as they are accepted.
type perAddressListener struct {
	net.Listener
	open *limit.PerKey
}

func (l *perAddressListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		release, ok := l.open.Acquire(host)
		if !ok {
			c.Close()
			continue
		}
		return &countedConn{Conn: c, release: release}, nil
	}
}

// countedConn gives its place back when closed (release runs once).
type countedConn struct {
	net.Conn
	release func()
}

func (c *countedConn) Close() error {
	c.release()
	return c.Conn.Close()
}
