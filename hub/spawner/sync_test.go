package spawner

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// positions records what each waiter was told.
type positions struct {
	mu   sync.Mutex
	seen map[int][]int
}

func (p *positions) notify(id int) func(int) {
	return func(ahead int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.seen == nil {
			p.seen = map[int][]int{}
		}
		p.seen[id] = append(p.seen[id], ahead)
	}
}

func (p *positions) of(id int) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.seen[id]...)
}

func waitQueued(t *testing.T, p *pool, n int) {
	t.Helper()
	waitFor(t, "waiters to queue", func() bool { _, q := p.load(); return q == n })
}

func TestPoolQueuesInOrder(t *testing.T) {
	p := newPool(2)
	ctx := context.Background()
	r1, err := p.acquire(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := p.acquire(ctx, nil)
	var pos positions
	granted := make(chan int, 3)
	for i := 0; i < 3; i++ {
		go func() {
			rel, err := p.acquire(ctx, pos.notify(i))
			if err != nil {
				t.Error(err)
				return
			}
			granted <- i
			_ = rel
		}()
		waitQueued(t, p, i+1) // enqueue in a known order
	}
	for i := 0; i < 3; i++ {
		if got := pos.of(i); len(got) != 1 || got[0] != i {
			t.Errorf("waiter %d was told %v, want [%d]", i, got, i)
		}
	}
	r1()
	r1() // a second release does nothing
	if first := <-granted; first != 0 {
		t.Errorf("first granted = %d, want 0", first)
	}
	if running, queued := p.load(); running != 2 || queued != 2 {
		t.Errorf("load = %d running, %d queued", running, queued)
	}
	// The others moved up one place and were told so.
	if got := pos.of(1); len(got) != 2 || got[1] != 0 {
		t.Errorf("waiter 1 was told %v", got)
	}
	if got := pos.of(2); len(got) != 2 || got[1] != 1 {
		t.Errorf("waiter 2 was told %v", got)
	}
	r2()
	if next := <-granted; next != 1 {
		t.Errorf("second granted = %d, want 1", next)
	}
}

func TestPoolCancelLeavesQueue(t *testing.T) {
	p := newPool(1)
	rel, _ := p.acquire(context.Background(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	var pos positions
	errc := make(chan error, 1)
	go func() {
		_, err := p.acquire(ctx, pos.notify(0))
		errc <- err
	}()
	waitQueued(t, p, 1)
	behind := make(chan struct{})
	go func() {
		r, err := p.acquire(context.Background(), pos.notify(1))
		if err == nil {
			r()
		}
		close(behind)
	}()
	waitQueued(t, p, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire = %v", err)
	}
	if got := pos.of(1); len(got) != 2 || got[1] != 0 {
		t.Errorf("the waiter behind was told %v, want to move to 0", got)
	}
	rel()
	<-behind
	if running, queued := p.load(); running != 0 || queued != 0 {
		t.Errorf("load after all released = %d, %d", running, queued)
	}
}

func TestPoolOfZeroAdmitsOne(t *testing.T) {
	if newPool(0).size != 1 {
		t.Error("a pool of 0 would never admit anyone")
	}
}

func TestUserLock(t *testing.T) {
	var u userLocks
	l := u.get("alice")
	if u.get("alice") != l || u.get("bob") == l {
		t.Fatal("one lock per user")
	}
	if err := l.lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.tryLock() {
		t.Fatal("tryLock succeeded on a held lock")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock on a held lock = %v", err)
	}
	opCtx, opCancel := context.WithCancel(context.Background())
	l.setCancel(opCancel)
	l.interrupt()
	if opCtx.Err() == nil {
		t.Error("interrupt did not cancel the operation")
	}
	l.unlock()
	if !l.tryLock() {
		t.Error("tryLock failed on a free lock")
	}
}

func TestFlight(t *testing.T) {
	var f flight
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	vals := make([]string, 5)
	call := func(i int) {
		defer wg.Done()
		vals[i], _ = f.do(context.Background(), "k", func(context.Context) (string, error) {
			calls.Add(1)
			<-release
			return "id", nil
		})
	}
	wg.Add(1)
	go call(0)
	joined := func(n int) func() bool {
		return func() bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			c := f.calls["k"]
			return c != nil && c.waiters == n
		}
	}
	waitFor(t, "the first call", joined(0))
	for i := 1; i < len(vals); i++ {
		wg.Add(1)
		go call(i)
	}
	waitFor(t, "the others to join", joined(len(vals)-1))
	close(release)
	wg.Wait()
	for _, v := range vals {
		if v != "id" {
			t.Errorf("a caller got %q", v)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the pull ran %d times for concurrent callers", n)
	}
	// After the call, a new one runs again.
	v, _ := f.do(context.Background(), "k", func(context.Context) (string, error) { return "new", nil })
	if v != "new" {
		t.Errorf("a later call reused %q", v)
	}
}
