package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub is the part of the REST API the bench uses. Servers become
// ready after a number of list calls; "doomed" servers vanish instead.
type fakeHub struct {
	mu      sync.Mutex
	pending map[string]int // list calls left until ready
	ready   map[string]bool
	doomed  map[string]bool
}

func (f *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "token admin" {
		http.Error(w, "no", http.StatusForbidden)
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/hub/api/users/"), "/server")
	switch {
	case r.Method == "POST" && strings.HasPrefix(name, "fast"):
		f.ready[name] = true
		w.WriteHeader(201)
	case r.Method == "POST":
		f.pending[name] = 3
		w.WriteHeader(202)
	case r.Method == "DELETE":
		var body struct{ Remove bool }
		json.NewDecoder(r.Body).Decode(&body)
		if !body.Remove {
			http.Error(w, "want remove", 400)
			return
		}
		delete(f.ready, name)
		w.WriteHeader(204)
	case r.URL.Path == "/hub/api/users":
		var users []map[string]any
		for n, left := range f.pending {
			if left == 0 {
				delete(f.pending, n)
				if !f.doomed[n] {
					f.ready[n] = true
				}
				continue
			}
			f.pending[n] = left - 1
			users = append(users, map[string]any{"name": n, "servers": map[string]any{"": map[string]any{"ready": false, "pending": "spawn"}}})
		}
		for n := range f.ready {
			users = append(users, map[string]any{"name": n, "servers": map[string]any{"": map[string]any{"ready": true, "pending": nil}}})
		}
		users = append(users, map[string]any{"name": "idle", "servers": map[string]any{}})
		json.NewEncoder(w).Encode(users)
	default:
		http.NotFound(w, r)
	}
}

func newFakeClasshub(t *testing.T) (*Classhub, *fakeHub) {
	f := &fakeHub{pending: map[string]int{}, ready: map[string]bool{}, doomed: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &Classhub{Base: srv.URL, http: srv.Client()}, f
}

func TestClasshubStartWaitStop(t *testing.T) {
	c, _ := newFakeClasshub(t)
	ctx := context.Background()
	names := []string{"a", "b", "c"}
	start := time.Now()
	for _, n := range names {
		if created, err := c.StartServer(ctx, "admin", n); err != nil || created {
			t.Fatalf("start %s = %v, %v; want pending", n, created, err)
		}
	}
	if created, err := c.StartServer(ctx, "admin", "fast"); err != nil || !created {
		t.Errorf("start fast = %v, %v; want created", created, err)
	}
	ready, err := c.WaitReady(ctx, "admin", names, start, 5*time.Millisecond, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 3 {
		t.Errorf("ready = %v", ready)
	}
	for n, d := range ready {
		if d <= 0 {
			t.Errorf("%s ready at %v", n, d)
		}
	}
	if err := c.StopServer(ctx, "admin", "b"); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Servers(ctx, "admin"); s["b"].Exists || !s["a"].Ready || s["idle"].Exists {
		t.Errorf("after stopping b: %+v", s)
	}
	if _, err := c.StartServer(ctx, "wrong", "d"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("start with a wrong token: %v", err)
	}
}

func TestClasshubWaitReadyReportsAServerThatStopped(t *testing.T) {
	c, f := newFakeClasshub(t)
	f.doomed["x"] = true
	ctx := context.Background()
	c.StartServer(ctx, "admin", "x")
	c.StartServer(ctx, "admin", "y")
	ready, err := c.WaitReady(ctx, "admin", []string{"x", "y"}, time.Now(), 5*time.Millisecond, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "x's server stopped while starting") {
		t.Fatalf("WaitReady = %v, %v", ready, err)
	}
	if _, ok := ready["y"]; !ok {
		t.Errorf("y's readiness was lost: %v", ready)
	}
}
