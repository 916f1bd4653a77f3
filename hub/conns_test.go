package hub

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/limit"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
	"github.com/classhub/classhub/hub/web"
)

// patience bounds every wait for something the tests expect to happen;
// the limits under test are a few hundred milliseconds.
const patience = 10 * time.Second

// testLimits are short versions of the real limits.
var testLimits = connLimits{
	Header:         time.Second,
	Body:           300 * time.Millisecond,
	BodyStep:       1 << 10,
	Write:          300 * time.Millisecond,
	Idle:           300 * time.Millisecond,
	MaxHeaderBytes: 8 << 10,
}

// serveWith serves handler with cl on a loopback port and returns its
// address.
func serveWith(t *testing.T, cl connLimits, handler http.HandlerFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := cl.server(handler, log.New(io.Discard, "", 0))
	go srv.Serve(cl.listener(l))
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// within waits for a result the handler sends, failing after patience.
func within[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("%s: nothing after %s", what, patience)
		panic("unreachable")
	}
}

// readAll reads the body and reports how much and what ended it.
type bodyResult struct {
	n   int
	err error
}

func bodyReader(got chan<- bodyResult) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		got <- bodyResult{int(n), err}
		if err == nil {
			fmt.Fprintf(w, "%d", n)
		}
	}
}

// The slow-body attack: a request that sends its headers and part of its
// body, then nothing, is cut within the body timeout instead of holding
// its connection (and a goroutine) forever.
func TestStalledBodyIsCut(t *testing.T) {
	got := make(chan bodyResult, 1)
	c := dial(t, serveWith(t, testLimits, bodyReader(got)))
	start := time.Now()
	fmt.Fprintf(c, "POST /hub/login HTTP/1.1\r\nHost: hub\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("x", 10))
	res := within(t, "a stalled body", got)
	if res.err == nil || res.n != 10 {
		t.Fatalf("the stalled body read %d bytes and ended with %v, want a timeout", res.n, res.err)
	}
	if d := time.Since(start); d < testLimits.Body {
		t.Errorf("cut after %s, before the body timeout %s", d, testLimits.Body)
	}
}

// A body that trickles, a byte now and then, is as good as stalled.
func TestTricklingBodyIsCut(t *testing.T) {
	got := make(chan bodyResult, 1)
	c := dial(t, serveWith(t, testLimits, bodyReader(got)))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: hub\r\nContent-Length: 100000\r\n\r\n")
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	if res := within(t, "a trickling body", got); res.err == nil {
		t.Fatalf("a trickle of %d bytes was read to the end", res.n)
	}
}

// An upload that keeps moving is never cut, however long it takes.
func TestMovingUploadIsNotCut(t *testing.T) {
	got := make(chan bodyResult, 1)
	c := dial(t, serveWith(t, testLimits, bodyReader(got)))
	const chunks, size = 16, 2 << 10
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: hub\r\nContent-Length: %d\r\n\r\n", chunks*size)
	start := time.Now()
	tick := time.NewTicker(testLimits.Body / 6)
	defer tick.Stop()
	for range chunks {
		<-tick.C
		if _, err := c.Write([]byte(strings.Repeat("x", size))); err != nil {
			t.Fatalf("the server cut a moving upload after %s: %v", time.Since(start), err)
		}
	}
	res := within(t, "a moving upload", got)
	if res.err != nil || res.n != chunks*size {
		t.Fatalf("a moving upload read %d of %d bytes: %v", res.n, chunks*size, res.err)
	}
	if d := time.Since(start); d < 2*testLimits.Body {
		t.Fatalf("the upload took %s, not long enough to show anything", d)
	}
}

// An event stream that writes now and then lives past the write timeout,
// and so does a request that waits long after reading its body (a start
// waiting for its server): neither is cut nor cancelled.
func TestSlowAnswersLivePastTheTimeouts(t *testing.T) {
	wait := 3 * max(testLimits.Body, testLimits.Write)
	addr := serveWith(t, testLimits, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: two\n\n")
	})
	for _, method := range []string{"GET", "POST"} {
		var in io.Reader
		if method == "POST" {
			in = strings.NewReader("{}")
		}
		req, _ := http.NewRequest(method, "http://"+addr+"/hub/api/users/alice/server/progress", in)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.Contains(string(body), "data: two") {
			t.Errorf("%s stream after %s: %q, %v; want both events", method, wait, body, err)
		}
	}
}

// A client that stops reading an answer (a slow-read attack) is cut
// within the write timeout: the handler's writes fail and its request is
// cancelled.
func TestClientThatStopsReadingIsCut(t *testing.T) {
	cut := make(chan error, 1)
	addr := serveWith(t, testLimits, func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				cut <- err
				return
			}
		}
	})
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: hub\r\n\r\n")
	if err := within(t, "a client that reads nothing", cut); err == nil {
		t.Fatal("no error")
	}
}

// A websocket is a hijacked connection: it lives past every deadline.
func TestHijackedConnectionOutlivesTheDeadlines(t *testing.T) {
	addr := serveWith(t, testLimits, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString(line)
			brw.Flush()
		}
	})
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /user/alice/api/kernels/1/channels HTTP/1.1\r\nHost: hub\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	quiet := time.NewTimer(3 * max(testLimits.Body, testLimits.Write, testLimits.Idle))
	<-quiet.C
	c.SetDeadline(time.Now().Add(patience))
	fmt.Fprint(c, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("after a quiet spell the websocket answered %q, %v", line, err)
	}
}

// A kept-alive connection that sends nothing more is closed after the
// idle timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	c := dial(t, serveWith(t, testLimits, func(w http.ResponseWriter, r *http.Request) {}))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.SetReadDeadline(time.Now().Add(patience))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("an idle connection was not closed: %v", err)
	}
}

// The internal listener takes small headers only, and caps the
// connections one container holds.
func TestInternalListenerLimits(t *testing.T) {
	addr := serveWith(t, internalLimits, func(w http.ResponseWriter, r *http.Request) {})
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /hub/api/user HTTP/1.1\r\nHost: hub\r\nX-Junk: %s\r\n\r\n", strings.Repeat("x", 2*internalLimits.MaxHeaderBytes))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %v %v, want 431", resp, err)
	}

	cl := testLimits
	cl.PerAddress = 2
	addr = serveWith(t, cl, func(w http.ResponseWriter, r *http.Request) {})
	get := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(patience))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	first, second := dial(t, addr), dial(t, addr)
	if err := errors.Join(get(first), get(second)); err != nil {
		t.Fatalf("connections within the cap: %v", err)
	}
	if err := get(dial(t, addr)); err == nil {
		t.Fatal("a third connection from one address was served")
	}
	first.Close()
	deadline := time.Now().Add(patience)
	for get(dial(t, addr)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("closing a connection gave its place to no other")
		}
	}
}

// One machine cannot open connections to the hub without end: the main
// port and every user's port count the connections from one address
// against one cap, generous enough for a class behind one NAT address.
func TestPublicListenersShareOneCapPerAddress(t *testing.T) {
	if publicLimits.addresses() == nil {
		t.Error("the public listeners have no cap per address")
	}
	h := &Hub{publicConns: limit.NewPerKey(2)}
	var addrs []string
	for range 2 { // the main port and a user's
		l, err := h.listenPublic("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := newPublicServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		addrs = append(addrs, l.Addr().String())
	}
	get := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(patience))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	first, second := dial(t, addrs[0]), dial(t, addrs[1])
	if err := errors.Join(get(first), get(second)); err != nil {
		t.Fatalf("connections within the cap: %v", err)
	}
	for _, addr := range addrs {
		if err := get(dial(t, addr)); err == nil {
			t.Fatalf("a third connection from one address was served on %s", addr)
		}
	}
	first.Close()
	deadline := time.Now().Add(patience)
	for get(dial(t, addrs[1])) != nil {
		if time.Now().After(deadline) {
			t.Fatal("closing a connection gave its place to no other")
		}
	}
}

// Whole-request timeouts would cut streams, websockets and uploads:
// the servers must leave them to the per-request deadlines.
func TestServersBoundHeadersNotWholeRequests(t *testing.T) {
	for name, srv := range map[string]*http.Server{"public": newPublicServer(http.NotFoundHandler(), nil),
		"internal": newInternalServer(http.NotFoundHandler(), nil)} {
		if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
			t.Errorf("%s: ReadTimeout %s, WriteTimeout %s cut streams", name, srv.ReadTimeout, srv.WriteTimeout)
		}
		if srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
			t.Errorf("%s: header timeout %s, idle timeout %s, header bytes %d", name, srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
}

// readCounter counts the bytes the server reads from the connections it
// accepts: what a request body costs the hub, whichever handler reads it.
type readCounter struct {
	net.Listener
	read atomic.Int64
}

func (l *readCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &readCountedConn{Conn: c, read: &l.read}, nil
}

type readCountedConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *readCountedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

// hubHandlers are the hub's real pages and API over a fake spawner, as
// Open puts them behind the proxy and on the internal listener.
func hubHandlers(t *testing.T) (public, internal http.Handler) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return hubHandlersOn(t, st, log.New(io.Discard, "", 0))
}

// hubHandlersOn are hubHandlers over st, logging to errorLog.
func hubHandlersOn(t *testing.T, st *store.Store, errorLog *log.Logger) (public, internal http.Handler) {
	t.Helper()
	co := core.New(core.Options{Config: config.Default(), Store: st, Spawner: spawnertest.New(), Router: spawnertest.NewRouter(),
		Bus: events.NewBus(64), HubPort: 8081})
	t.Cleanup(co.Close)
	au := &auth.Authenticator{Store: st}
	pages := web.New(web.Options{Hub: co, Auth: au, ErrorLog: errorLog})
	a := api.New(api.Options{Hub: co, Auth: au, ErrorLog: errorLog, Pages: pages})
	mux := http.NewServeMux()
	mux.Handle("/hub/api/", a.Handler())
	mux.Handle("/hub/api", a.Handler())
	mux.Handle("/", pages.Handler())
	return hubBodies(mux), a.InternalHandler()
}

// The memory attack: a 40 MB body to a page or the OAuth token endpoint,
// which net/http's form parsing reads whole (into memory and temporary
// files) whatever the method, even unauthenticated. The hub reads at
// most maxHubBody of any body, and none of a GET's; the rest is refused
// or the connection cut.
func TestHubReadsBoundedBodies(t *testing.T) {
	public, internal := hubHandlers(t)
	const size = 40 << 20
	serve := func(srv *http.Server) (addr string, read *atomic.Int64) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rc := &readCounter{Listener: l}
		go srv.Serve(rc)
		t.Cleanup(func() { srv.Close() })
		return l.Addr().String(), &rc.read
	}
	publicAddr, publicRead := serve(newPublicServer(public, nil))
	internalAddr, internalRead := serve(newInternalServer(internal, nil))

	// A body of size bytes, a multipart form with a file, or an
	// urlencoded form, sent with Content-Length or, when chunked, without.
	send := func(addr, method, path string, multi, chunked bool) (status int) {
		t.Helper()
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		contentType := "application/x-www-form-urlencoded"
		if multi {
			contentType = mw.FormDataContentType()
		}
		go func() {
			var w io.Writer = pw
			if multi {
				w, _ = mw.CreateFormFile("f", "big.bin")
			} else {
				io.WriteString(w, "grant_type=authorization_code&code=")
			}
			chunk := []byte(strings.Repeat("x", 64<<10))
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			if multi {
				mw.Close()
			}
			pw.Close()
		}()
		req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+addr+path, pr)
		req.Header.Set("Content-Type", contentType)
		if !chunked {
			req.ContentLength = size + 1024 // what the form adds, roughly; the server is cut off long before
		}
		client := &http.Client{Timeout: patience, Transport: &http.Transport{}}
		resp, err := client.Do(req)
		if err != nil {
			return 0 // cut: fine, so long as little was read
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, addr, method, path string
		multi, chunked           bool
		read                     *atomic.Int64
		want                     int // the status if the answer arrives before the cut; 0 for any refusal
	}{
		{"multipart GET login page", publicAddr, "GET", "/hub/login", true, false, publicRead, http.StatusOK},
		{"multipart POST login page", publicAddr, "POST", "/hub/login", true, true, publicRead, 0},
		{"POST token endpoint", publicAddr, "POST", "/hub/api/oauth2/token", false, false, publicRead, http.StatusRequestEntityTooLarge},
		{"chunked POST token endpoint", publicAddr, "POST", "/hub/api/oauth2/token", false, true, publicRead, 0},
		{"POST token endpoint, internal", internalAddr, "POST", "/hub/api/oauth2/token", false, false, internalRead, http.StatusRequestEntityTooLarge},
		{"chunked POST token endpoint, internal", internalAddr, "POST", "/hub/api/oauth2/token", false, true, internalRead, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.read.Load()
			status := send(tc.addr, tc.method, tc.path, tc.multi, tc.chunked)
			if tc.want != 0 && status != 0 && status != tc.want {
				t.Errorf("status %d, want %d", status, tc.want)
			}
			if status >= 200 && status < 300 && tc.method != "GET" {
				t.Errorf("status %d for a body over the limit", status)
			}
			// The server reads past the limit in its buffers and while it
			// drains what the handler left (up to 256 KiB) before it
			// closes the connection.
			if n := tc.read.Load() - before; n > maxHubBody+1<<20 {
				t.Errorf("the hub read %d KiB of a %d KiB body", n>>10, size>>10)
			}
		})
	}
}

// BenchmarkDeadlines is what the per-request deadlines cost a proxied
// GET: a 32 KiB answer over loopback, with and without them.
func BenchmarkDeadlines(b *testing.B) {
	page := []byte(strings.Repeat("x", 32<<10))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) })
	for name, h := range map[string]http.Handler{"bare": handler, "deadlines": publicLimits.deadlines(handler)} {
		b.Run(name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: h}
			go srv.Serve(l)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			url := "http://" + l.Addr().String() + "/"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
