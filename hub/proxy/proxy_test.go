package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// hangGuard bounds waits that would otherwise hang a broken test. It is not
// a performance assertion.
const hangGuard = 30 * time.Second

var discard = log.New(io.Discard, "", 0)

// newBackend starts a notebook-server stand-in that answers
// "name method request-uri host" unless h is given.
func newBackend(t *testing.T, name string, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s %s %s", name, r.Method, r.RequestURI, r.Host)
		}
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newFrontend starts p behind a real HTTP server.
func newFrontend(t *testing.T, p *Proxy) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

// newCountingServer starts h behind a real HTTP server that counts its
// writes to clients.
func newCountingServer(t testing.TB, h http.Handler) (*httptest.Server, *writeCounter) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	wc := &writeCounter{Listener: srv.Listener}
	srv.Listener = wc
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, wc
}

// writeCounter counts the writes to the connections it accepts: each is a
// system call and a segment the client wakes up for.
type writeCounter struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, writes: &l.writes}, nil
}

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countedConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return res.StatusCode, string(b), res.Header
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestRoutesToBackendWithFullPathAndQuery(t *testing.T) {
	alice := newBackend(t, "alice", nil)
	bob := newBackend(t, "bob", nil)
	ab := newBackend(t, "a b", nil)
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	p.SetRoute("bob", mustURL(t, bob.URL))
	p.SetRoute("a b", mustURL(t, ab.URL))
	front := newFrontend(t, p)
	host := mustURL(t, front.URL).Host

	for _, tc := range []struct{ path, want string }{
		{"/user/alice/", "alice GET /user/alice/ " + host},
		{"/user/alice/lab/tree/a%20b.ipynb?token=x&y=%2F", "alice GET /user/alice/lab/tree/a%20b.ipynb?token=x&y=%2F " + host},
		{"/user/bob/api/kernels?x=1", "bob GET /user/bob/api/kernels?x=1 " + host},
		// The name may be percent-encoded; lookup uses the decoded name and
		// the path is still forwarded as sent.
		{"/user/%61lice/tree", "alice GET /user/%61lice/tree " + host},
		{"/user/a%20b/tree", "a b GET /user/a%20b/tree " + host},
		// Query parameters net/url cannot parse are kept.
		{"/user/alice/x?a=1;b=2", "alice GET /user/alice/x?a=1;b=2 " + host},
		// Past the user segment the path is the server's business.
		{"/user/alice/files/a%2Fb%5Cc", "alice GET /user/alice/files/a%2Fb%5Cc " + host},
	} {
		code, body, _ := get(t, noRedirects, front.URL+tc.path)
		if code != http.StatusOK || body != tc.want {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, code, body, tc.want)
		}
	}

	res, err := http.Post(front.URL+"/user/bob/api/contents", "application/json", strings.NewReader(`{"type":"notebook"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if want := "bob POST /user/bob/api/contents " + host; string(b) != want {
		t.Errorf("POST = %q, want %q", b, want)
	}
}

func TestRequestBodyReachesBackend(t *testing.T) {
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		// Read all before answering, as Jupyter's server does: an HTTP/1
		// handler that writes while the body streams in may lose the rest
		// of it (see net/http's ResponseWriter docs), which made this test
		// flaky when it echoed with io.Copy.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("backend read body: %v", err)
		}
		w.Write(b)
	})
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	body := strings.Repeat("0123456789", 100000)
	res, err := http.Post(front.URL+"/user/alice/api/contents/big.txt", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != body {
		t.Errorf("echoed %d bytes, want %d", len(got), len(body))
	}
}

func TestEverythingElseGoesToHub(t *testing.T) {
	var got []string
	var mu sync.Mutex
	hub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	})
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("alice's server got %s, which is the hub's", r.RequestURI)
	})
	p := New(Options{Hub: hub, ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)

	paths := []string{"/", "/hub/login?next=%2Fuser%2Falice%2F", "/hub/api/users/alice", "/user/", "/users/alice/", "/User/alice/", "/useralice/", "/services/x/"}
	for _, path := range paths {
		if code, _, _ := get(t, noRedirects, front.URL+path); code != http.StatusTeapot {
			t.Errorf("GET %s = %d, want the hub's 418", path, code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, " ") != strings.Join(paths, " ") {
		t.Errorf("hub saw %q, want %q unchanged", got, paths)
	}

	// Without a hub the rest is 404.
	front2 := newFrontend(t, New(Options{ErrorLog: discard}))
	if code, _, _ := get(t, noRedirects, front2.URL+"/hub/"); code != http.StatusNotFound {
		t.Errorf("no hub: GET /hub/ = %d, want 404", code)
	}
}

func TestUnknownUserCallsNotRunning(t *testing.T) {
	type call struct{ user, uri string }
	calls := make(chan call, 10)
	p := New(Options{
		ErrorLog: discard,
		NotRunning: func(w http.ResponseWriter, r *http.Request, user string) {
			calls <- call{user, r.RequestURI}
			http.Redirect(w, r, "/hub/user/"+url.PathEscape(user)+"/", http.StatusFound)
		},
	})
	front := newFrontend(t, p)
	code, _, h := get(t, noRedirects, front.URL+"/user/car%6Fl/lab?x=1")
	if code != http.StatusFound || h.Get("Location") != "/hub/user/carol/" {
		t.Errorf("GET = %d Location %q, want the hook's 302 /hub/user/carol/", code, h.Get("Location"))
	}
	if c := <-calls; c.user != "carol" || c.uri != "/user/car%6Fl/lab?x=1" {
		t.Errorf("NotRunning got %+v, want user carol and the original request", c)
	}

	// The default says so in a sentence.
	front2 := newFrontend(t, New(Options{ErrorLog: discard}))
	code, body, h := get(t, noRedirects, front2.URL+"/user/carol/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "No notebook server is running for carol") ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("default NotRunning = %d %q %q", code, h.Get("Content-Type"), body)
	}
}

func TestRemovedRoute(t *testing.T) {
	var hits atomic.Int32
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	var notRunning atomic.Int32
	p := New(Options{ErrorLog: discard, NotRunning: func(w http.ResponseWriter, r *http.Request, user string) {
		notRunning.Add(1)
		NotRunning(w, r, user)
	}})
	front := newFrontend(t, p)
	p.SetRoute("alice", mustURL(t, alice.URL))
	if code, _, _ := get(t, noRedirects, front.URL+"/user/alice/"); code != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("with route: %d, %d hits; want 200 and 1 hit", code, hits.Load())
	}
	p.RemoveRoute("alice")
	if code, _, _ := get(t, noRedirects, front.URL+"/user/alice/"); code != http.StatusServiceUnavailable {
		t.Errorf("after RemoveRoute: %d, want 503", code)
	}
	if hits.Load() != 1 || notRunning.Load() != 1 {
		t.Errorf("after RemoveRoute: %d backend hits, %d NotRunning calls; want 1 and 1", hits.Load(), notRunning.Load())
	}
}

// deadTarget returns an address nothing listens on.
func deadTarget(t *testing.T) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "http", Host: addr}
}

func TestDeadTargetCallsUnavailable(t *testing.T) {
	type call struct {
		user, uri string
		err       error
	}
	calls := make(chan call, 10)
	var logged strings.Builder
	var logMu sync.Mutex
	p := New(Options{
		ErrorLog: log.New(writerFunc(func(b []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logged.Write(b)
		}), "", 0),
		Unavailable: func(w http.ResponseWriter, r *http.Request, user string, err error) {
			calls <- call{user, r.RequestURI, err}
			Unavailable(w, r, user, err)
		},
	})
	dead := deadTarget(t)
	p.SetRoute("alice", dead)
	front := newFrontend(t, p)

	code, body, _ := get(t, noRedirects, front.URL+"/user/alice/lab?x=1")
	if code != http.StatusServiceUnavailable {
		t.Errorf("dead target: %d, want 503", code)
	}
	if !strings.Contains(body, "The notebook server for alice is not answering") || !strings.Contains(body, "hub home") {
		t.Errorf("dead target body %q does not say what happened and what to do", body)
	}
	c := <-calls
	if c.user != "alice" || c.uri != "/user/alice/lab?x=1" || c.err == nil || !strings.Contains(c.err.Error(), dead.Host) {
		t.Errorf("Unavailable got user %q uri %q err %v; want alice, the client's request and an error naming %s", c.user, c.uri, c.err, dead.Host)
	}
	logMu.Lock()
	if !strings.Contains(logged.String(), dead.Host) {
		t.Errorf("ErrorLog got %q, want a line naming %s", logged.String(), dead.Host)
	}
	logMu.Unlock()

	// A websocket to a dead server fails with 503 too.
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(front.URL, "http")+"/user/alice/api/kernels/k/channels", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("websocket to dead server: err %v, response %v; want a 503", err, res)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func TestTrailingSlashRedirect(t *testing.T) {
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("alice's server got %s %s", r.Method, r.RequestURI)
	})
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	for _, tc := range []struct{ path, want string }{
		{"/user/alice", "/user/alice/"},
		{"/user/alice?next=%2Ftree&x=1", "/user/alice/?next=%2Ftree&x=1"},
		{"/user/%61lice", "/user/alice/"},
		{"/user/a%20b", "/user/a%20b/"},
		{"/user/nobody", "/user/nobody/"},
	} {
		code, _, h := get(t, noRedirects, front.URL+tc.path)
		if code != http.StatusMovedPermanently || h.Get("Location") != tc.want {
			t.Errorf("GET %s = %d Location %q, want 301 %q", tc.path, code, h.Get("Location"), tc.want)
		}
	}
	res, err := http.Post(front.URL+"/user/alice", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /user/alice = %d, want 400", res.StatusCode)
	}
}

func TestForwardedHeadersAndHost(t *testing.T) {
	seen := make(chan *http.Request, 1)
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) { seen <- r })
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))

	for _, tc := range []struct {
		name  string
		tls   bool
		host  string // Host header to send; "" keeps the frontend's
		proto string
		port  string // "" means the frontend's port
	}{
		{name: "plain", proto: "http"},
		{name: "named host", host: "hub.example:8443", proto: "http", port: "8443"},
		{name: "host without port", host: "hub.example", proto: "http", port: "80"},
		{name: "tls", tls: true, proto: "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var front *httptest.Server
			if tc.tls {
				front = httptest.NewTLSServer(p)
			} else {
				front = httptest.NewServer(p)
			}
			defer front.Close()
			req, err := http.NewRequest("GET", front.URL+"/user/alice/api/status", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			// Clients do not get to say who they are.
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Port", "1")
			req.Header.Set("X-Real-Ip", "203.0.113.9")
			req.Header.Set("X-Scheme", "https")
			req.Header.Set("Forwarded", "for=203.0.113.9;proto=https")
			res, err := front.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			r := <-seen
			wantHost := req.Host
			if wantHost == "" {
				wantHost = mustURL(t, front.URL).Host
			}
			wantPort := tc.port
			if wantPort == "" {
				_, wantPort, _ = net.SplitHostPort(mustURL(t, front.URL).Host)
			}
			for k, want := range map[string]string{
				"X-Forwarded-For":   "127.0.0.1",
				"X-Forwarded-Proto": tc.proto,
				"X-Forwarded-Host":  wantHost,
				"X-Forwarded-Port":  wantPort,
				"X-Real-Ip":         "",
				"X-Scheme":          "",
				"Forwarded":         "",
			} {
				if got := strings.Join(r.Header.Values(k), ","); got != want {
					t.Errorf("backend saw %s %q, want %q", k, got, want)
				}
			}
			if r.Host != wantHost {
				t.Errorf("backend saw Host %q, want the client's %q", r.Host, wantHost)
			}
		})
	}
}

func TestStreamingIsNotBuffered(t *testing.T) {
	for _, tc := range []struct {
		name, contentType string
		length            int // Content-Length to announce; 0 = none
		first, last       string
	}{
		// ReverseProxy flushes event streams by itself; downloads with a
		// known length need the proxy to flush every write (forwardWriter).
		{name: "event stream", contentType: "text/event-stream", first: "data: first\n\n", last: "data: last\n\n"},
		{name: "download with length", contentType: "application/octet-stream", length: 2048,
			first: strings.Repeat("a", 1024), last: strings.Repeat("b", 1024)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				if tc.length > 0 {
					w.Header().Set("Content-Length", fmt.Sprint(tc.length))
				}
				io.WriteString(w, tc.first)
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, tc.last)
			})
			defer unblock() // before the servers close, whatever happens
			p := New(Options{ErrorLog: discard})
			p.SetRoute("alice", mustURL(t, alice.URL))
			front := newFrontend(t, p)

			// The deadline only keeps a buffering proxy from hanging the
			// test: the server does not finish until the client has read
			// the first part.
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/user/alice/api/events/subscribe", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("no response while the server was still writing, the proxy held it back: %v", err)
			}
			defer res.Body.Close()
			buf := make([]byte, len(tc.first))
			if n, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != tc.first {
				t.Fatalf("first part = %q, %v; want %q while the server was still writing (the proxy buffered it)", buf[:n], err, tc.first)
			}
			unblock()
			rest, err := io.ReadAll(res.Body)
			if err != nil || string(rest) != tc.last {
				t.Errorf("rest = %q, %v; want %q", rest, err, tc.last)
			}
		})
	}
}

// TestSmallResponseIsOneWrite guards the flushing in forwardWriter: the
// header of a small response goes out with its body, not in a write of its
// own as ReverseProxy's FlushInterval -1 sends it.
func TestSmallResponseIsOneWrite(t *testing.T) {
	alice := newBackend(t, "alice", nil)
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front, wc := newCountingServer(t, p)
	code, body, _ := get(t, front.Client(), front.URL+"/user/alice/api/status")
	if want := "alice GET /user/alice/api/status"; code != http.StatusOK || !strings.HasPrefix(body, want) {
		t.Fatalf("GET = %d %q; want 200 %q…", code, body, want)
	}
	if n := wc.writes.Load(); n != 1 {
		t.Errorf("the response took %d writes to the client; want 1 (header and body together)", n)
	}
}

var echoUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// newEchoBackend starts a websocket echo server that reports the request
// URI and Host of each handshake on seen.
func newEchoBackend(t *testing.T, seen chan<- string) *httptest.Server {
	return newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r.RequestURI + " " + r.Host + " " + r.Header.Get("Cookie")
		}
		c, err := echoUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
}

func wsURL(front *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(front.URL, "http") + path
}

func TestWebSocketEcho(t *testing.T) {
	seen := make(chan string, 1)
	alice := newEchoBackend(t, seen)
	p := New(Options{ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)

	path := "/user/alice/api/kernels/k1/channels?session_id=s1&token=t"
	hdr := http.Header{"Cookie": {"jupyterhub-user-alice=v"}}
	d := websocket.Dialer{HandshakeTimeout: hangGuard}
	c, res, err := d.Dial(wsURL(front, path), hdr)
	if err != nil {
		t.Fatalf("dial through proxy: %v (response %v)", err, res)
	}
	defer c.Close()
	if want := path + " " + mustURL(t, front.URL).Host + " jupyterhub-user-alice=v"; <-seen != want {
		t.Errorf("backend handshake differs from %q", want)
	}
	c.SetReadDeadline(time.Now().Add(hangGuard))
	for i := range 3 {
		msg := fmt.Sprintf(`{"msg_id":"%d","content":%q}`, i, strings.Repeat("x", i*40000))
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != msg {
			t.Errorf("echo %d: got %d bytes, want %d", i, len(got), len(msg))
		}
	}
}

func TestConcurrentRoutesAndRequests(t *testing.T) {
	a := newBackend(t, "a", nil)
	b := newBackend(t, "b", nil)
	targets := []*url.URL{mustURL(t, a.URL), mustURL(t, b.URL)}
	p := New(Options{ErrorLog: discard, Activity: func(string, time.Time) {}})
	front := newFrontend(t, p)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			switch i % 3 {
			case 0, 1:
				p.SetRoute("alice", targets[i%2])
			case 2:
				p.RemoveRoute("alice")
			}
			p.Routes()
			p.Route("alice")
			time.Sleep(time.Millisecond)
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	var clients sync.WaitGroup
	for g := range 4 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := range 50 {
				path := fmt.Sprintf("/user/alice/x/%d/%d", g, i)
				res, err := client.Get(front.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode == http.StatusServiceUnavailable:
				case res.StatusCode == http.StatusOK && (strings.HasPrefix(string(body), "a GET "+path+" ") || strings.HasPrefix(string(body), "b GET "+path+" ")):
				default:
					t.Errorf("GET %s = %d %q", path, res.StatusCode, body)
				}
			}
		}()
	}
	clients.Wait()
	cancel()
	wg.Wait()
}

func TestClientLeavingIsNotUnavailable(t *testing.T) {
	arrived := make(chan struct{})
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	var unavailable atomic.Int32
	p := New(Options{ErrorLog: discard, Unavailable: func(w http.ResponseWriter, r *http.Request, user string, err error) {
		unavailable.Add(1)
	}})
	p.SetRoute("alice", mustURL(t, alice.URL))
	done := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		p.ServeHTTP(w, r)
	}))
	defer front.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/user/alice/api/slow", nil)
	go func() {
		<-arrived
		cancel()
	}()
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("proxy handler never returned after the client left")
	}
	if n := unavailable.Load(); n != 0 {
		t.Errorf("Unavailable called %d times for a client that left", n)
	}
}

// rawRequest sends a request line exactly as given (no client-side
// cleaning) and returns the response.
func rawRequest(t *testing.T, addr, method, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(hangGuard))
	body := ""
	if method != "GET" && method != "HEAD" {
		body = "x"
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, target, addr, len(body), body)
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return res, string(b)
}
