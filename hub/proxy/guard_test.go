package proxy

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// admitNone is a Guard that lets nothing through and counts what it saw.
type admitNone struct{ asked atomic.Int32 }

func (g *admitNone) Admit(w http.ResponseWriter, r *http.Request, user string) bool {
	g.asked.Add(1)
	http.Error(w, "no", http.StatusForbidden)
	return false
}

// A guarded route forwards only what its Guard admits, only on the
// server's own origin; with no Guard, or no origins for its cookies,
// nothing.
func TestGuardedRoutes(t *testing.T) {
	g := &admitNone{}
	o := newOriginHub(t, Options{Guard: g}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) { o.hits["alice"].Add(1) })
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab"); code != http.StatusForbidden || g.asked.Load() != 1 {
		t.Errorf("alice's origin = %d, guard asked %d times", code, g.asked.Load())
	}
	if code, _, _ := get(t, noRedirects, o.main.URL+"/user/alice/lab"); code != http.StatusFound || g.asked.Load() != 1 {
		t.Errorf("the hub's origin = %d, want a redirect to alice's, without forwarding", code)
	}
	if u, ok := o.p.Route("alice"); !ok || u.String() != backend.URL {
		t.Errorf("Route = %v %v", u, ok)
	}

	bare := newOriginHub(t, Options{}, "alice")
	bare.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, bare.origins["alice"].URL+"/user/alice/lab"); code != http.StatusServiceUnavailable {
		t.Errorf("a guarded route without a Guard = %d, want 503", code)
	}
	noOrigins := New(Options{Guard: &admitAll{}, ErrorLog: discard})
	noOrigins.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	if code, _, _ := get(t, noRedirects, newFrontend(t, noOrigins).URL+"/user/alice/lab"); code != http.StatusServiceUnavailable {
		t.Errorf("a guarded route without origins = %d, want 503", code)
	}
	o.noHits(t, "alice")

	// SetRoute makes the route unguarded again.
	o.p.SetRoute("alice", mustURL(t, backend.URL))
	if code, _, _ := get(t, noRedirects, o.origins["alice"].URL+"/user/alice/lab"); code != http.StatusOK || g.asked.Load() != 1 {
		t.Errorf("after SetRoute = %d", code)
	}
}

type admitAll struct{}

func (admitAll) Admit(http.ResponseWriter, *http.Request, string) bool { return true }
