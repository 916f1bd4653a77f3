package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// fakeOrigins records what the hub asks of its Origins.
type fakeOrigins struct {
	mu     sync.Mutex
	fail   error
	opened []string
	closed []string
}

func (o *fakeOrigins) Open(ctx context.Context, name string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opened = append(o.opened, name)
	return o.fail
}

func (o *fakeOrigins) Close(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = append(o.closed, name)
}

func TestStartOpensTheOriginFirstAndDeleteClosesIt(t *testing.T) {
	f := newFixture(t, "alice")
	o := &fakeOrigins{fail: errors.New("start alice: port 8100 is in use by another program: free it or change user_ports")}
	f.hub.origins = o
	ctx := context.Background()
	f.hub.Boot(ctx)
	s, err := f.startWait(t, "alice")
	if err != nil || s.Ready || !strings.Contains(s.Failed, "change user_ports") {
		t.Fatalf("Start with no origin = %+v, %v; want a failure naming the fix", s, err)
	}
	if n := f.sp.Starts("alice"); n != 0 || f.router.Route("alice") != "" {
		t.Errorf("a server without an origin was started %d times, route %q", n, f.router.Route("alice"))
	}
	o.mu.Lock()
	o.fail = nil
	o.mu.Unlock()
	if s, err := f.startWait(t, "alice"); err != nil || !s.Ready {
		t.Fatalf("Start = %+v, %v", s, err)
	}
	if err := f.hub.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if strings.Join(o.opened, " ") != "alice alice" || strings.Join(o.closed, " ") != "alice" {
		t.Errorf("opened %v, closed %v", o.opened, o.closed)
	}
}
