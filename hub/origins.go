package hub

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/store"
)

// origins opens, serves and closes the listeners of users' own ports (see
// proxy.Origins): one per user who ever started a server, on the public
// listener's address, each answering through proxy.UserOrigin for its
// user only. It is the hub's core.Origins.
type origins struct {
	store       *store.Store
	proxy       *proxy.Proxy // set once the proxy exists, before any Open
	listen      func(addr string) (net.Listener, error)
	ip          string // the public listener's address
	first, last int
	log         *log.Logger

	mu      sync.RWMutex
	ports   map[string]int        // user → port, as the store has it
	open    map[int]*userListener // port → its listener
	newSrv  func(user string, h http.Handler) *http.Server
	serving bool
}

// userListener is one user's port, served or waiting for Serve.
type userListener struct {
	user string
	l    net.Listener
	srv  *http.Server
}

// Port is proxy.Origins.Port: user's port, false while they have none.
func (o *origins) Port(user string) (int, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	p, ok := o.ports[user]
	return p, ok
}

// boot listens on every port users hold, so servers adopted from the last
// run are reachable at once. A port that cannot be bound is logged; the
// user's next start says so again.
func (o *origins) boot(ctx context.Context) error {
	ports, err := o.store.UserPorts(ctx)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for user, port := range ports {
		o.ports[user] = port
		if err := o.bind(user, port); err != nil {
			o.log.Printf("%v", keptPortError(user, port, err))
		}
	}
	return nil
}

// Open is core.Origins.Open: it gives name a port the first time and makes
// sure the hub listens on it.
func (o *origins) Open(ctx context.Context, name string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	port, err := o.store.UserPort(ctx, name, o.first, o.last, func(port int) error {
		return o.bind(name, port)
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	o.ports[name] = port
	// A renamed user's old listener answers for the old name; and no other
	// port may keep answering for this name.
	for p, ul := range o.open {
		if (p == port) != (ul.user == name) {
			o.closeLocked(p)
		}
	}
	if err := o.bind(name, port); err != nil {
		return fmt.Errorf("start %s: %w", name, keptPortError(name, port, err))
	}
	return nil
}

// keptPortError says what to do when a user's kept port cannot be bound.
// The port is theirs for good (a browser keeps an origin's storage), so
// another port is no remedy.
func keptPortError(user string, port int, err error) error {
	return fmt.Errorf("%w; port %d is %s's own since their first start: stop the program that uses it, then start their server again", err, port, user)
}

// Close is core.Origins.Close: name is deleted, their port retired (the
// store's cascade did that; see store.UserPort for why it goes to a new
// user only as late as possible) and no longer listened on.
func (o *origins) Close(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.ports, name)
	for p, ul := range o.open {
		if ul.user == name {
			o.closeLocked(p)
		}
	}
}

// bind listens on port for user, unless it already does, and serves it
// once the hub serves. o.mu is held.
func (o *origins) bind(user string, port int) error {
	if _, ok := o.open[port]; ok {
		return nil
	}
	addr := net.JoinHostPort(o.ip, strconv.Itoa(port))
	l, err := o.listen(addr)
	if err != nil {
		return fmt.Errorf("listen on %s for %s's notebook server: %w", addr, user, err)
	}
	ul := &userListener{user: user, l: l}
	o.open[port] = ul
	if o.serving {
		o.serve(ul)
	}
	return nil
}

func (o *origins) serve(ul *userListener) {
	ul.srv = o.newSrv(ul.user, o.proxy.UserOrigin(ul.user))
	go func() {
		if err := ul.srv.Serve(ul.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Printf("serve %s's port: %v", ul.user, err)
		}
	}()
}

func (o *origins) closeLocked(port int) {
	ul := o.open[port]
	delete(o.open, port)
	if ul.srv != nil {
		ul.srv.Close()
	}
	// The listener too: a Serve just started may not have taken it yet,
	// and the port must be free when this returns.
	ul.l.Close()
}

// start serves every port, now and as they open, with servers newSrv
// makes for the port's user and the handler of their origin.
func (o *origins) start(newSrv func(user string, h http.Handler) *http.Server) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.newSrv, o.serving = newSrv, true
	for _, ul := range o.open {
		o.serve(ul)
	}
}

// shutdown stops serving users' ports gracefully, as the public listener
// does.
func (o *origins) shutdown(ctx context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.serving = false
	var wg sync.WaitGroup
	for p, ul := range o.open {
		delete(o.open, p)
		if ul.srv == nil {
			ul.l.Close()
			continue
		}
		wg.Go(func() { ul.srv.Shutdown(ctx) })
	}
	wg.Wait()
}

// closeAll closes every port at once, connections and all.
func (o *origins) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.serving = false
	for p := range o.open {
		o.closeLocked(p)
	}
}
