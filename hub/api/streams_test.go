package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/limit"
)

// A script opening progress streams in parallel gets the cap's worth and
// a clear 429 for the rest; closing one frees its place.
func TestProgressStreamsAreCappedPerUser(t *testing.T) {
	e := newEnv(t)
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}, KeepAlive: time.Second, Streams: limit.NewPerKey(3)})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	defer e.spawner.Hold("alice")()
	go e.hub.Start(context.Background(), "alice")
	e.waitPending("alice")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(ctx context.Context, user string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/hub/api/users/alice/server/progress", nil)
		req.Header.Set("Authorization", "token "+e.tokens[user])
		return srv.Client().Do(req)
	}
	const tries = 20
	var mu sync.Mutex
	codes := map[int]int{}
	var refusal string
	var wg sync.WaitGroup
	for range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := open(ctx, "alice")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			codes[resp.StatusCode]++
			if resp.StatusCode == http.StatusTooManyRequests {
				var b strings.Builder
				buf := make([]byte, 512)
				n, _ := resp.Body.Read(buf)
				b.Write(buf[:n])
				refusal = b.String()
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] != 3 || codes[http.StatusTooManyRequests] != tries-3 {
		t.Fatalf("%d parallel streams answered %v, want 3 × 200 and the rest 429", tries, codes)
	}
	if !strings.Contains(refusal, "too many event streams") {
		t.Errorf("the 429 says %q", refusal)
	}
	// Another user, an admin watching the same start, has places of their own.
	if resp, err := open(ctx, "teacher"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the teacher's stream: %v %v", resp.Status, err)
	}
	// Closing alice's streams gives their places back.
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, stop := context.WithCancel(context.Background())
		resp, err := open(ctx, "alice")
		code := 0
		if err == nil {
			code = resp.StatusCode
		}
		stop()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place came free after closing the streams: %d %v", code, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
