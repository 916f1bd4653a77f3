package spawner

import (
	"context"
	"errors"
	"sync"
)

// pool bounds how many starts run at once. Waiters are served first come,
// first served and are told their place in the queue whenever it changes,
// so a class arriving together sees "queued, N ahead" instead of a timeout.
type pool struct {
	mu    sync.Mutex
	size  int
	busy  int
	queue []*waiter
}

type waiter struct {
	granted chan struct{}
	notify  func(ahead int)
}

func newPool(size int) *pool {
	if size < 1 {
		size = 1
	}
	return &pool{size: size}
}

// acquire waits for a slot. notify, if not nil, is called with the number
// of waiters ahead when the caller has to queue and again whenever that
// number changes; it is called with the pool's lock held and must not
// block (Bus.Publish never does). The returned release must be called
// exactly once; calling it again does nothing.
func (p *pool) acquire(ctx context.Context, notify func(ahead int)) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.busy < p.size && len(p.queue) == 0 {
		p.busy++
		p.mu.Unlock()
		return p.releaser(), nil
	}
	w := &waiter{granted: make(chan struct{}), notify: notify}
	p.queue = append(p.queue, w)
	if notify != nil {
		notify(len(p.queue) - 1)
	}
	p.mu.Unlock()

	select {
	case <-w.granted:
		return p.releaser(), nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	select {
	case <-w.granted:
		// Granted while giving up: hand the slot on.
		p.mu.Unlock()
		p.releaser()()
		return nil, ctx.Err()
	default:
	}
	for i, q := range p.queue {
		if q == w {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			p.renotify(i)
			break
		}
	}
	p.mu.Unlock()
	return nil, ctx.Err()
}

func (p *pool) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.busy--
			p.grant()
			p.mu.Unlock()
		})
	}
}

// grant hands free slots to the head of the queue; called with mu held.
func (p *pool) grant() {
	n := 0
	for p.busy < p.size && len(p.queue) > 0 {
		w := p.queue[0]
		p.queue = p.queue[1:]
		p.busy++
		close(w.granted)
		n++
	}
	if n > 0 {
		p.renotify(0)
	}
}

// renotify tells waiters from index i on their new place; called with mu
// held.
func (p *pool) renotify(from int) {
	for i := from; i < len(p.queue); i++ {
		if p.queue[i].notify != nil {
			p.queue[i].notify(i)
		}
	}
}

// load reports how many starts run and how many wait.
func (p *pool) load() (running, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy, len(p.queue)
}

// userLocks serializes operations on one user. A start registers its
// cancel func so that Stop or Delete can interrupt a start that is still
// queued or waiting.
type userLocks struct {
	mu sync.Mutex
	m  map[string]*userLock
}

type userLock struct {
	ch     chan struct{}
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (u *userLocks) get(user string) *userLock {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = make(map[string]*userLock)
	}
	l, ok := u.m[user]
	if !ok {
		l = &userLock{ch: make(chan struct{}, 1)}
		u.m[user] = l
	}
	return l
}

func (l *userLock) lock(ctx context.Context) error {
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *userLock) tryLock() bool {
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *userLock) unlock() { <-l.ch }

// setCancel records how to interrupt the operation holding the lock.
func (l *userLock) setCancel(c context.CancelFunc) {
	l.mu.Lock()
	l.cancel = c
	l.mu.Unlock()
}

// interrupt cancels the start holding the lock, if any.
func (l *userLock) interrupt() {
	l.mu.Lock()
	if l.cancel != nil {
		l.cancel()
	}
	l.mu.Unlock()
}

// flight runs one call per key at a time and shares its result with
// callers that arrive meanwhile. A caller whose ctx ends stops waiting;
// the call goes on for the others under the first caller's ctx.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done    chan struct{}
	val     string
	err     error
	waiters int // callers sharing the call, under flight.mu
}

func (f *flight) do(ctx context.Context, key string, fn func(context.Context) (string, error)) (string, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c, ok := f.calls[key]
	if !ok {
		c = &flightCall{done: make(chan struct{})}
		f.calls[key] = c
		f.mu.Unlock()
		c.val, c.err = fn(ctx)
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
		return c.val, c.err
	}
	c.waiters++
	f.mu.Unlock()
	select {
	case <-c.done:
		if c.err != nil && ctx.Err() == nil && errors.Is(c.err, context.Canceled) {
			// The leader gave up, not the image: try again ourselves.
			return f.do(ctx, key, fn)
		}
		return c.val, c.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
