package proxy

import (
	"net/http"
	"testing"
)

func TestRouteTable(t *testing.T) {
	p := New(Options{ErrorLog: discard})
	if _, ok := p.Route("alice"); ok {
		t.Fatal("new proxy has a route for alice")
	}
	p.SetRoute("alice", mustURL(t, "http://127.0.0.1:49153/ignored/path?q=1"))
	p.SetRoute("bob", mustURL(t, "http://172.17.0.5:8888"))

	u, ok := p.Route("alice")
	if !ok || u.String() != "http://127.0.0.1:49153" {
		t.Fatalf("Route(alice) = %v, %v; want http://127.0.0.1:49153 (scheme and host only)", u, ok)
	}
	u.Host = "evil:1"
	if u, _ := p.Route("alice"); u.Host != "127.0.0.1:49153" {
		t.Errorf("changing Route's result changed the table: %v", u)
	}

	all := p.Routes()
	if len(all) != 2 || all["alice"].String() != "http://127.0.0.1:49153" || all["bob"].String() != "http://172.17.0.5:8888" {
		t.Errorf("Routes() = %v", all)
	}
	all["bob"].Host = "evil:1"
	delete(all, "alice")
	if u, _ := p.Route("bob"); u.Host != "172.17.0.5:8888" {
		t.Errorf("changing Routes' result changed the table: %v", u)
	}
	if _, ok := p.Route("alice"); !ok {
		t.Error("deleting from Routes' result removed a route")
	}

	p.RemoveRoute("alice")
	if _, ok := p.Route("alice"); ok {
		t.Error("alice still routed after RemoveRoute")
	}
	p.RemoveRoute("nobody") // no-op
	p.SetRoute("bob", nil)
	if len(p.Routes()) != 0 {
		t.Errorf("SetRoute(bob, nil) left %v", p.Routes())
	}
}

func TestSetRouteReplacesTarget(t *testing.T) {
	a := newBackend(t, "a", nil)
	b := newBackend(t, "b", nil)
	p := New(Options{ErrorLog: discard})
	front := newFrontend(t, p)

	p.SetRoute("alice", mustURL(t, a.URL))
	if code, body, _ := get(t, noRedirects, front.URL+"/user/alice/"); code != http.StatusOK || body[:2] != "a " {
		t.Fatalf("first target: %d %q", code, body)
	}
	p.SetRoute("alice", mustURL(t, b.URL))
	if code, body, _ := get(t, noRedirects, front.URL+"/user/alice/"); code != http.StatusOK || body[:2] != "b " {
		t.Errorf("after SetRoute to the second target: %d %q", code, body)
	}
}
