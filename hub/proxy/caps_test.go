package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A student's server that never answers must not let her hold the hub's
// connections, goroutines and ports without end by asking it again and
// again: past the cap, requests to her server are refused at once, and
// other users' are not affected.
func TestRequestCapPerUser(t *testing.T) {
	var waiting atomic.Int32
	hang := func(w http.ResponseWriter, r *http.Request) {
		waiting.Add(1)
		defer waiting.Add(-1)
		<-r.Context().Done()
	}
	alice := newBackend(t, "alice", hang)
	bob := newBackend(t, "bob", nil)
	const limit, tries = 4, 12
	p := New(Options{ErrorLog: discard, MaxRequests: limit})
	p.SetRoute("alice", mustURL(t, alice.URL))
	p.SetRoute("bob", mustURL(t, bob.URL))
	front := newFrontend(t, p)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0}}
	var refused atomic.Int32
	var wg sync.WaitGroup
	for range tries {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/user/alice/hang", nil)
			res, err := client.Do(req)
			if err != nil {
				return // cancelled at the end
			}
			res.Body.Close()
			if res.StatusCode == http.StatusTooManyRequests {
				refused.Add(1)
			} else {
				t.Errorf("a request past the cap: %d", res.StatusCode)
			}
		})
	}
	for deadline := time.Now().Add(hangGuard); refused.Load() != tries-limit || waiting.Load() != limit; {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests waiting at alice's server, %d refused; want %d, %d", waiting.Load(), refused.Load(), limit, tries-limit)
		}
		time.Sleep(time.Millisecond)
	}
	if code, body, _ := get(t, client, front.URL+"/user/bob/api/status"); code != http.StatusOK {
		t.Errorf("bob's server while alice's hangs: %d %q", code, body)
	}
	cancel()
	wg.Wait()
	// Answered or abandoned, the requests give their places back.
	for deadline := time.Now().Add(hangGuard); waiting.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("abandoned requests still wait at alice's server")
		}
		time.Sleep(time.Millisecond)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	req, _ := http.NewRequestWithContext(ctx2, "GET", front.URL+"/user/alice/hang", nil)
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("after the others left, a request was answered %d instead of reaching the server", res.StatusCode)
	}
}

// Anyone can send handshakes to a classmate's server: with a body they
// could trickle, they are refused; without one, the server refuses or
// holds them, and either way they take none of the classmate's websocket
// places, which count only websockets the server accepted.
func TestHandshakesTakeNoWebsocketPlace(t *testing.T) {
	var hits atomic.Int32
	bob := newBackend(t, "bob", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/hang"):
			<-r.Context().Done()
		case r.Header.Get("Cookie") == "":
			http.Error(w, "not logged in", http.StatusForbidden)
		default:
			c, err := echoUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.ReadMessage()
		}
	})
	const limit = 2
	p := New(Options{ErrorLog: discard, MaxWebsockets: limit})
	p.SetRoute("bob", mustURL(t, bob.URL))
	front := newFrontend(t, p)
	addr := mustURL(t, front.URL).Host

	// handshake sends a handshake for path, with extra headers, and
	// leaves the connection open.
	handshake := func(path, extra string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(hangGuard))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n", path, addr, extra)
		return c
	}
	// A handshake with a body, trickled: refused before it reaches bob.
	c := handshake("/user/bob/api/kernels/k/channels", "Content-Length: 100000\r\n")
	c.Write([]byte("x"))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a handshake with a body: %v, %v; want 400", res, err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("a handshake with a body reached bob's server")
	}

	// Handshakes bob's server holds, or refuses for want of his login.
	d := websocket.Dialer{HandshakeTimeout: hangGuard}
	for range 2 * limit {
		handshake("/user/bob/api/kernels/k/hang", "")
		if _, res, err := d.Dial(wsURL(front, "/user/bob/api/kernels/k/channels"), nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("a handshake without bob's login: %v, %v; want his server's 403", err, res)
		}
	}
	for deadline := time.Now().Add(hangGuard); hits.Load() != 4*limit; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d handshakes reached bob's server", hits.Load(), 4*limit)
		}
		time.Sleep(time.Millisecond)
	}
	// Bob still opens his kernels, as many as his cap, and no more.
	login := http.Header{"Cookie": {"jupyterhub-user-bob=v"}}
	for i := range limit + 1 {
		c, res, err := d.Dial(wsURL(front, "/user/bob/api/kernels/k/channels"), login)
		if i < limit && err != nil {
			t.Fatalf("bob's websocket %d while others' handshakes wait: %v, %v", i+1, err, res)
		}
		if i == limit && (err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests) {
			t.Fatalf("bob's websocket past his cap: %v, %v; want 429", err, res)
		}
		if c != nil {
			defer c.Close()
		}
	}
}

// The transport to users' servers bounds what one server can hold: the
// connections to it, and the wait for an answer to start.
func TestTransportBoundsEachServer(t *testing.T) {
	tr := New(Options{}).transport.(*http.Transport)
	if tr.ResponseHeaderTimeout <= 0 || tr.MaxConnsPerHost < DefaultMaxRequests+DefaultMaxWebsockets {
		t.Errorf("ResponseHeaderTimeout %s, MaxConnsPerHost %d: a server that never answers holds the hub's connections", tr.ResponseHeaderTimeout, tr.MaxConnsPerHost)
	}
}
