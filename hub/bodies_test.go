package hub

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/store"
)

// refusingHub serves, as Hub.Serve does, the proxy in front of the real
// pages and API on a public listener, with two users' servers behind it:
// eve's answers 403 to every request without reading its body, mallory's
// hangs up on every request before reading its body; and the API's
// internal half on an internal listener.
func refusingHub(t *testing.T) (hub refusing) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	if hub.token, _, err = st.CreateToken(ctx, store.TokenSpec{User: "bob", Kind: "api", Scopes: []string{"inherit"}}); err != nil {
		t.Fatal(err)
	}
	hub.log = &syncBuffer{}
	logger := log.New(hub.log, "", 0)
	public, internal := hubHandlersOn(t, st, logger)
	p := proxy.New(proxy.Options{Hub: public, ErrorLog: logger})
	p.SetRoute("eve", serveBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n")
		}
	}))
	p.SetRoute("mallory", serveBackend(t, func(c net.Conn, br *bufio.Reader) {
		http.ReadRequest(br)
	}))
	hub.public = serveOnLoopback(t, newPublicServer(p, logger))
	hub.internal = serveOnLoopback(t, newInternalServer(internal, logger))
	return hub
}

// refusing is refusingHub's: the listeners' addresses, a plain user's
// token and the listeners' error log.
type refusing struct {
	public, internal, token string
	log                     *syncBuffer
}

// serveOnLoopback serves srv on a loopback port and returns its address.
func serveOnLoopback(t *testing.T, srv *http.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// serveBackend serves each connection with serve on a loopback port, as a
// notebook server the hub proxies to, and returns its URL.
func serveBackend(t *testing.T, serve func(net.Conn, *bufio.Reader)) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return &url.URL{Scheme: "http", Host: l.Addr().String()}
}

// A request the hub refuses without reading its body leaves the
// connection fit for the next: the server reads the rest of the body
// (or, when it is large, closes the connection) instead of panicking
// with "invalid concurrent Body.Read call" and resetting it, or reading
// the rest of the body as the next request. One raw connection, so no
// client retries hide a reset.
func TestRefusedBodyKeepsTheConnectionInStep(t *testing.T) {
	hub := refusingHub(t)
	auth := "Authorization: token " + hub.token + "\r\n"
	for _, tc := range []struct {
		name, method, path, header, body string
		status                           int // 0 for any refusal
	}{
		{"GET to the API with a body", "GET", "/hub/api/users", auth, "{}", http.StatusForbidden},
		{"GET to the API with a large body", "GET", "/hub/api/users", auth, bigBody, http.StatusForbidden},
		{"HEAD to the API with a body", "HEAD", "/hub/api/users", auth, "{}", http.StatusForbidden},
		{"POST the API refuses", "POST", "/hub/api/users", auth, `{"usernames":["x"]}`, http.StatusForbidden},
		{"GET to a page with a body", "GET", "/hub/login", "", smuggled, http.StatusOK},
		{"POST a page refuses", "POST", "/hub/login", "", "username=bob&password=no", http.StatusForbidden},
		{"POST a large body a page refuses", "POST", "/hub/login", "", bigBody, http.StatusForbidden},
		{"POST a server refuses", "POST", "/user/eve/api/contents", "", "{}", http.StatusForbidden},
		// The server stops reading; what the proxy answers depends on
		// when its send of the body fails.
		{"POST a large body a server refuses", "POST", "/user/eve/api/contents", "", bigBody, 0},
		{"POST to a server that hangs up", "POST", "/user/mallory/api/contents", "", "{}", 0},
		{"POST a large body to a server that hangs up", "POST", "/user/mallory/api/contents", "", bigBody, 0},
		{"GET to a server that is not running", "GET", "/user/nobody/lab", "", smuggled, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inStep(t, hub.public, hub.log, tc.method, tc.path, tc.header, tc.body, tc.status)
		})
	}
}

// smuggled is what the bodies carry that must never be read as a
// request: a client-side desync would answer the next request of the
// visitor's browser with the answer to it.
const smuggled = "GET /hub/api/smuggled HTTP/1.1\r\nHost: hub\r\n\r\n"

// bigBody is larger than the 256 KiB net/http reads of a body a handler
// left, so the server must close the connection after it.
var bigBody = strings.Repeat(smuggled, (1<<20)/len(smuggled))

// inStep sends one request with body on a fresh connection to addr and
// checks it is answered status (0 for any refusal) and leaves the
// connection fit for the next request, or closed: with nothing of the
// body read as a request and no panic in errorLog. The connection is a
// raw one, so no client's retry hides a reset.
func inStep(t *testing.T, addr string, errorLog *syncBuffer, method, path, header, body string, status int) {
	t.Helper()
	logged := len(errorLog.lines())
	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(patience))
	br := bufio.NewReader(c)
	// The body goes out from its own goroutine: the server may
	// answer, and stop reading, before all of it is sent.
	go fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: hub\r\n%sContent-Length: %d\r\n\r\n%s", method, path, header, len(body), body)
	first, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, first.Body)
	if status != 0 && first.StatusCode != status || status == 0 && first.StatusCode < 400 {
		t.Errorf("answered %s, want %d", first.Status, status)
	}
	if !first.Close {
		fmt.Fprintf(c, "GET /hub/api/next HTTP/1.1\r\nHost: hub\r\n\r\n")
		second, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the connection was kept alive, but the next request on it has no answer: %v", err)
		}
		got, _ := io.ReadAll(second.Body)
		if second.StatusCode != http.StatusNotFound || !strings.Contains(string(got), "GET /hub/api/next") {
			t.Fatalf("the next request on the connection was answered %s %q, not as itself", second.Status, got)
		}
	}
	// Nothing more comes: no answer to anything in the body.
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _ := br.Read(make([]byte, 1)); n > 0 {
		t.Errorf("the connection answered more than was asked: part of the body was read as a request")
	}
	if now := strings.Join(errorLog.lines()[logged:], "\n"); strings.Contains(now, "panic") {
		t.Fatalf("the server panicked:\n%s", now)
	}
}

// The internal listener, which the students' servers call, keeps in step
// the same way.
func TestRefusedBodyKeepsTheInternalConnectionInStep(t *testing.T) {
	hub := refusingHub(t)
	for _, tc := range []struct{ name, method, body string }{
		{"GET with a body", "GET", "{}"},
		{"GET with a large body", "GET", bigBody},
		{"HEAD with a body", "HEAD", smuggled},
		{"POST", "POST", "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inStep(t, hub.internal, hub.log, tc.method, "/hub/api/user", "", tc.body, 0)
		})
	}
}

// An upload that waits for "100 Continue" before it sends its body (curl
// waits so for large ones) and is refused is answered at once, and its
// connection closed, instead of the server waiting for the body it never
// asked for until the body timeout cuts it.
func TestRefusedUploadIsNotAskedToContinue(t *testing.T) {
	hub := refusingHub(t)
	for _, tc := range []struct{ name, path, header string }{
		{"the API", "/hub/api/users", "Authorization: token " + hub.token + "\r\n"},
		{"a server that is not running", "/user/nobody/api/contents/big.csv", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, hub.public)
			c.SetDeadline(time.Now().Add(patience))
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: hub\r\n%sExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", tc.path, tc.header, 10<<20)
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer without the body: %v", err)
			}
			if res.StatusCode < 400 || !res.Close {
				t.Errorf("answered %s (closing: %v), want a refusal that closes the connection", res.Status, res.Close)
			}
		})
	}
}
