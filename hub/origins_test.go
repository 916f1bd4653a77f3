package hub

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/store"
	"github.com/classhub/classhub/internal/freeport"
)

// newOrigins is the hub's origins over a real store and proxy, on
// loopback ports of its own, serving.
func newOrigins(t *testing.T, st *store.Store, users ...string) (*origins, *proxy.Proxy, int) {
	t.Helper()
	first, err := freeport.Block("127.0.0.1", 4)
	if err != nil {
		t.Fatal(err)
	}
	o := &origins{store: st, listen: (&Hub{}).listenPublic, ip: "127.0.0.1", first: first, last: first + 3,
		log: log.New(io.Discard, "", 0), ports: make(map[string]int), open: make(map[int]*userListener)}
	p := proxy.New(proxy.Options{Origins: &proxy.Origins{PublicPort: 1, Port: o.Port}, ErrorLog: o.log})
	o.proxy = p
	for _, u := range users {
		if _, err := st.CreateUser(context.Background(), store.NewUser{Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.start(func(_ string, h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	})
	t.Cleanup(o.closeAll)
	return o, p, first
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var noFollow = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// answer GETs path on port and returns the status and Location, or -1 when
// nothing listens.
func answer(t *testing.T, port int, path string) (int, string) {
	t.Helper()
	res, err := noFollow.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
	if err != nil {
		return -1, err.Error()
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

func TestUsersPortsServeOnlyTheirUser(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	o, p, first := newOrigins(t, st, "alice", "bob")
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "server") })}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(l)
	t.Cleanup(func() { backend.Close() })
	target := &url.URL{Scheme: "http", Host: l.Addr().String()}
	p.SetRoute("alice", target)
	p.SetRoute("bob", target)

	if err := o.Open(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := o.Open(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	alice, _ := o.Port("alice")
	bob, _ := o.Port("bob")
	if alice != first || bob != first+1 {
		t.Fatalf("ports alice %d, bob %d; want %d, %d", alice, bob, first, first+1)
	}
	if code, _ := answer(t, alice, "/user/alice/tree"); code != 200 {
		t.Errorf("alice's path on her port = %d", code)
	}
	for _, path := range []string{"/user/bob/tree", "/hub/api/user"} {
		if code, loc := answer(t, alice, path); code != http.StatusFound || loc != "http://127.0.0.1:1"+path {
			t.Errorf("%s on alice's port = %d %q, want a redirect to the hub's origin", path, code, loc)
		}
	}

	// Deleting bob retires his port: nothing listens there any more, and
	// it goes to a new user only once the range has no port never used
	// (what bob's pages left in browsers stays with his origin).
	if err := st.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	o.Close("bob")
	if code, _ := answer(t, bob, "/user/bob/tree"); code != -1 {
		t.Errorf("deleted bob's port still answers %d", code)
	}
	for i, u := range []string{"carol", "dave"} {
		st.CreateUser(ctx, store.NewUser{Name: u})
		if err := o.Open(ctx, u); err != nil {
			t.Fatal(err)
		}
		if port, _ := o.Port(u); port != first+2+i {
			t.Errorf("%s's port = %d, want %d, never used", u, port, first+2+i)
		}
	}
	st.CreateUser(ctx, store.NewUser{Name: "erin"})
	p.SetRoute("erin", target)
	if err := o.Open(ctx, "erin"); err != nil {
		t.Fatal(err)
	}
	if erin, _ := o.Port("erin"); erin != bob {
		t.Errorf("erin's port = %d, want bob's retired %d, the last left", erin, bob)
	}
	if code, _ := answer(t, bob, "/user/bob/tree"); code != http.StatusFound {
		t.Errorf("bob's path on erin's port = %d, want a redirect", code)
	}
	if code, _ := answer(t, bob, "/user/erin/tree"); code != 200 {
		t.Errorf("erin's path on her port = %d", code)
	}

	// A renamed user keeps her port, which then answers for her new name
	// only.
	newName := "alicia"
	if _, err := st.UpdateUser(ctx, "alice", store.UserUpdate{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	p.RemoveRoute("alice")
	p.SetRoute("alicia", target)
	if err := o.Open(ctx, "alicia"); err != nil {
		t.Fatal(err)
	}
	if code, _ := answer(t, alice, "/user/alicia/tree"); code != 200 {
		t.Errorf("alicia's path on her kept port = %d", code)
	}
	p.SetRoute("alice", target)
	if code, _ := answer(t, alice, "/user/alice/tree"); code != http.StatusFound {
		t.Errorf("the old name on the renamed user's port = %d, want a redirect", code)
	}
}

func TestABusyPortIsPassedOverAndReportedAtBoot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	o, _, first := newOrigins(t, st, "alice", "bob")
	// Another program holds the first port: alice gets the next one.
	squatter, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first)))
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	if err := o.Open(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if p, _ := o.Port("alice"); p != first+1 {
		t.Errorf("alice = %d, want %d past the busy port", p, first+1)
	}
	o.closeAll()

	// At the next boot her port is taken by someone else: the boot logs a
	// sentence that says what to do, and her start says so too.
	taken, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var logged strings.Builder
	o2 := &origins{store: st, listen: (&Hub{}).listenPublic, ip: "127.0.0.1", first: first, last: first + 3,
		log: log.New(&logged, "", 0), ports: make(map[string]int), open: make(map[int]*userListener)}
	if err := o2.boot(ctx); err != nil {
		t.Fatal(err)
	}
	defer o2.closeAll()
	if !strings.Contains(logged.String(), "stop the program that uses it") {
		t.Errorf("boot logged %q, want a sentence that says what to do", logged.String())
	}
	if err := o2.Open(ctx, "alice"); err == nil || !strings.Contains(err.Error(), "stop the program that uses it") {
		t.Errorf("alice's start with her port taken: %v", err)
	}
}
