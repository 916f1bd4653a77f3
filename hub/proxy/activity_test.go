package proxy

import (
	"context"
	"fmt"
	"github.com/classhub/classhub/internal/testclock"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var epoch = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// recorder collects Activity calls as "user@seconds since epoch".
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) hook(user string, t time.Time) {
	r.mu.Lock()
	r.calls = append(r.calls, fmt.Sprintf("%s@%d", user, t.Sub(epoch)/time.Second))
	r.mu.Unlock()
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, " ")
}

func newActivityProxy(opts Options) (*Proxy, *recorder, *testclock.Clock) {
	rec := &recorder{}
	clock := testclock.New(epoch)
	opts.Activity = rec.hook
	if opts.ErrorLog == nil {
		opts.ErrorLog = discard
	}
	p := New(opts)
	p.now = clock.Now
	return p, rec, clock
}

func TestTouchRateLimitsPerUser(t *testing.T) {
	p, rec, clock := newActivityProxy(Options{})
	alice, bob := &route{user: "alice"}, &route{user: "bob"}
	p.touch(alice)
	p.touch(alice)
	p.touch(bob)
	clock.Advance(29 * time.Second)
	p.touch(alice)
	clock.Advance(2 * time.Second)
	p.touch(alice)
	p.touch(alice)
	p.touch(bob)
	if want := "alice@0 bob@0 alice@31 bob@31"; rec.String() != want {
		t.Errorf("calls %q, want %q", rec, want)
	}

	// Many goroutines at the same moment report once.
	clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				p.touch(alice)
			}
		}()
	}
	wg.Wait()
	if want := "alice@0 bob@0 alice@31 bob@31 alice@91"; rec.String() != want {
		t.Errorf("calls %q, want %q", rec, want)
	}
}

func TestActivityIntervalOption(t *testing.T) {
	p, rec, clock := newActivityProxy(Options{ActivityInterval: 5 * time.Second})
	alice := &route{user: "alice"}
	for range 3 {
		p.touch(alice)
		clock.Advance(5 * time.Second)
	}
	if want := "alice@0 alice@5 alice@10"; rec.String() != want {
		t.Errorf("calls %q, want %q", rec, want)
	}
	// Without a hook touch is a no-op.
	New(Options{}).touch(alice)
}

func TestActivityThroughProxy(t *testing.T) {
	backend := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/missing"):
				http.NotFound(w, r)
			case strings.HasSuffix(r.URL.Path, "/moved"):
				http.Redirect(w, r, "/user/"+name+"/ok", http.StatusFound)
			default:
				io.WriteString(w, name)
			}
		}
	}
	alice := newBackend(t, "alice", backend("alice"))
	bob := newBackend(t, "bob", backend("bob"))
	p, rec, clock := newActivityProxy(Options{})
	p.SetRoute("alice", mustURL(t, alice.URL))
	p.SetRoute("bob", mustURL(t, bob.URL))
	p.SetRoute("dead", deadTarget(t))
	front := newFrontend(t, p)

	// The hook runs before the response reaches the client, so each check
	// below sees every call the request caused.
	steps := []struct{ path, want string }{
		{"/user/alice/missing", ""},
		{"/user/alice/moved", ""},
		{"/user/carol/ok", ""},
		{"/user/dead/ok", ""},
		{"/user/bob/../alice/ok", ""},
		{"/user/bob/ok", "bob@0"},
		{"/user/alice/ok", "bob@0 alice@0"},
		{"/user/alice/ok", "bob@0 alice@0"},
	}
	for _, s := range steps {
		get(t, noRedirects, front.URL+s.path)
		if rec.String() != s.want {
			t.Fatalf("after GET %s: calls %q, want %q", s.path, rec, s.want)
		}
	}
	clock.Advance(DefaultActivityInterval)
	get(t, noRedirects, front.URL+"/user/alice/ok")
	if want := "bob@0 alice@0 alice@30"; rec.String() != want {
		t.Errorf("after the interval: calls %q, want %q", rec, want)
	}
}

func TestActivityWhileStreaming(t *testing.T) {
	next := make(chan string)
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		for {
			select {
			case ev, ok := <-next:
				if !ok {
					return
				}
				io.WriteString(w, ev)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	})
	p, rec, clock := newActivityProxy(Options{})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)

	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/user/alice/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	defer close(next)
	for i, want := range []string{"alice@0", "alice@0 alice@31", "alice@0 alice@31 alice@62"} {
		if i > 0 {
			clock.Advance(31 * time.Second)
			ev := fmt.Sprintf("data: %d\n\n", i)
			next <- ev
			buf := make([]byte, len(ev))
			if _, err := io.ReadFull(res.Body, buf); err != nil {
				t.Fatal(err)
			}
		}
		if rec.String() != want {
			t.Errorf("event %d: calls %q, want %q", i, rec, want)
		}
	}
}

func TestActivityOnWebSocketFrames(t *testing.T) {
	alice := newEchoBackend(t, nil)
	p, rec, clock := newActivityProxy(Options{})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)

	d := websocket.Dialer{HandshakeTimeout: hangGuard}
	c, _, err := d.Dial(wsURL(front, "/user/alice/api/kernels/k/channels"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(hangGuard))
	if want := "alice@0"; rec.String() != want {
		t.Errorf("after the handshake: calls %q, want %q", rec, want)
	}
	// Frames within the interval are not reported; after it, one is.
	for i, want := range []string{"alice@0", "alice@0 alice@40"} {
		if i > 0 {
			clock.Advance(40 * time.Second)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte("execute_request")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if rec.String() != want {
			t.Errorf("frame %d: calls %q, want %q", i, rec, want)
		}
	}
}
