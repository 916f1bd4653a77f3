package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// TestOffLoopback: with servers' ports on this machine's loopback, a
// browser opening a page at a loopback host is sent to the class link's
// host, where no server's port is, before any login cookie could be set
// for loopback; scripts and API clients stay.
func TestOffLoopback(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, c := range []struct {
		name, method, host, target string
		header                     map[string]string
		away                       string
		want                       string // Location, "" for next, "refused" for errNoClassHost's answer
	}{
		{"a page at 127.0.0.1", "GET", "127.0.0.1:8000", "/hub/home?x=1", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5:8000/hub/home?x=1"},
		{"a page at localhost, no Sec-Fetch", "GET", "localhost:8000", "/hub/login", map[string]string{"Accept": "text/html,*/*"}, "192.0.2.5", "http://192.0.2.5:8000/hub/login"},
		{"a page at [::1]", "GET", "[::1]:8000", "/", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5:8000/"},
		{"a page at 127.1.2.3 without port", "GET", "127.1.2.3", "/hub/", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5/hub/"},
		{"a page at 0.0.0.0, the address the dashboard shows", "GET", "0.0.0.0:8000", "/hub/home", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5:8000/hub/home"},
		{"a page at [::]", "GET", "[::]:8000", "/", map[string]string{"Accept": "text/html"}, "192.0.2.5", "http://192.0.2.5:8000/"},
		{"a form posted to loopback", "POST", "127.0.0.1:8000", "/hub/login", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5:8000/hub/login"},
		{"a user's origin at localhost", "GET", "app.localhost:9001", "/user/alice/lab", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", "http://192.0.2.5:9001/user/alice/lab"},
		{"to an IPv6 class host", "GET", "127.0.0.1", "/", map[string]string{"Sec-Fetch-Mode": "navigate"}, "2001:db8::5", "http://[2001:db8::5]/"},
		{"an API call at loopback", "GET", "127.0.0.1:8000", "/hub/api/user", map[string]string{"Accept": "application/json"}, "192.0.2.5", ""},
		{"a script's fetch at loopback", "GET", "127.0.0.1:8000", "/hub/api/user", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, "192.0.2.5", ""},
		{"a page at the class host", "GET", "192.0.2.5:8000", "/hub/home", map[string]string{"Sec-Fetch-Mode": "navigate"}, "192.0.2.5", ""},
		{"a page at loopback, loopback not shared", "GET", "127.0.0.1:8000", "/hub/home", map[string]string{"Sec-Fetch-Mode": "navigate"}, "", ""},
		{"a page at loopback, shared, no class host", "GET", "127.0.0.1:8000", "/hub/login", map[string]string{"Sec-Fetch-Mode": "navigate"}, "none", "refused"},
		{"an API call at loopback, shared, no class host", "GET", "127.0.0.1:8000", "/hub/api/user", map[string]string{"Accept": "application/json"}, "none", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://"+c.host+c.target, nil)
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			away := func() (string, error) {
				if c.away == "none" {
					return "", errNoClassHost
				}
				return c.away, nil
			}
			offLoopback(next, "http", away).ServeHTTP(w, r)
			switch {
			case c.want == "refused":
				if body := w.Body.String(); w.Code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "This computer has no address on a network") ||
					!strings.HasSuffix(strings.TrimSpace(body), "personal to work alone.") {
					t.Errorf("answered %d %q, want it refused", w.Code, w.Body.String())
				}
			case c.want == "" && w.Code != http.StatusTeapot:
				t.Errorf("answered %d (Location %q), want it passed on", w.Code, w.Header().Get("Location"))
			case c.want != "" && (w.Code != http.StatusFound || w.Header().Get("Location") != c.want):
				t.Errorf("answered %d to %q, want a redirect to %q", w.Code, w.Header().Get("Location"), c.want)
			}
		})
	}
}

// TestAwayFromLoopbackOnlyWhenShared: browsers are sent off loopback only
// in class mode with servers published there, and only to a class link
// that is not itself on loopback.
func TestAwayFromLoopbackOnlyWhenShared(t *testing.T) {
	for _, c := range []struct {
		mode     string
		routable bool
		want     bool
	}{
		{config.ModeClass, false, true},
		{config.ModeClass, true, false},
		{config.ModePersonal, false, false},
	} {
		h := &Hub{cfg: config.Config{Mode: c.mode}, network: spawner.Network{ContainerIPsRoutable: c.routable}}
		if got := h.loopbackShared(); got != c.want {
			t.Errorf("mode %s, container IPs routable %v: loopbackShared = %v, want %v", c.mode, c.routable, got, c.want)
		}
	}
	for classURL, want := range map[string]string{
		"http://192.0.2.5:8000/":      "192.0.2.5",
		"https://[2001:db8::5]:8000/": "2001:db8::5",
		"http://127.0.0.1:8000/":      "",
		"http://localhost:8000/":      "",
		"http://0.0.0.0:8000/":        "",
	} {
		if got := classHost(classURL); got != want {
			t.Errorf("classHost(%s) = %q, want %q", classURL, got, want)
		}
	}
}

// TestEndLoopbackLogins: a login a browser took at 127.0.0.1 (personal
// mode, an earlier classhub, no LAN) lasts two weeks, and that browser
// sends it to every port of 127.0.0.1; once students' servers are
// published there, the hub ends it when it opens. Logins taken at the
// class link's host, and all logins where loopback is not shared, stay.
func TestEndLoopbackLogins(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		mode       string
		routable   bool
		loopbackOK bool
	}{
		{config.ModeClass, false, false},
		{config.ModeClass, true, true},
		{config.ModePersonal, false, true},
	} {
		st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, u := range []store.NewUser{{Name: "teacher", Admin: true}, {Name: "alice"}} {
			if _, err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		atLoopback, se, err := st.CreateSession(ctx, "teacher", auth.SessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MarkSessionAtLoopback(ctx, se.ID); err != nil {
			t.Fatal(err)
		}
		atClassHost, _, err := st.CreateSession(ctx, "teacher", auth.SessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		student, _, err := st.CreateSession(ctx, "alice", auth.SessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		h := &Hub{cfg: config.Config{Mode: c.mode}, network: spawner.Network{ContainerIPsRoutable: c.routable}, store: st,
			slog: slog.New(slog.NewTextHandler(io.Discard, nil))}
		for open := range 2 {
			if err := h.endLoopbackLogins(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := st.LookupSession(ctx, atLoopback); (err == nil) != c.loopbackOK {
				t.Errorf("mode %s, container IPs routable %v, open %d: the login taken at loopback looked up with %v, want it kept %v", c.mode, c.routable, open, err, c.loopbackOK)
			}
			for who, secret := range map[string]string{"the owner's at the class host": atClassHost, "a student's": student} {
				if _, err := st.LookupSession(ctx, secret); err != nil {
					t.Errorf("mode %s, container IPs routable %v, open %d: %s login ended: %v", c.mode, c.routable, open, who, err)
				}
			}
		}
	}
}

// TestOthersOffLoopback: with servers' ports on loopback and no class
// link's host to send the browser to, this machine's browser, logged in
// at 127.0.0.1, opens no page of a student's server there; its owner's
// own server, scripts, and hubs whose servers are not on loopback are
// served.
func TestOthersOffLoopback(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	page := map[string]string{"Sec-Fetch-Mode": "navigate"}
	for _, c := range []struct {
		name, mode string
		routable   bool
		user, host string
		header     map[string]string
		want       int
	}{
		{"a student's page, personal mode", config.ModePersonal, false, "alice", "127.0.0.1:8101", page, http.StatusForbidden},
		{"a student's page at localhost, no Sec-Fetch", config.ModePersonal, false, "alice", "localhost:8101", map[string]string{"Accept": "text/html"}, http.StatusForbidden},
		{"a student's page, class mode with no LAN", config.ModeClass, false, "alice", "127.0.0.1:8101", page, http.StatusForbidden},
		{"the owner's page", config.ModePersonal, false, "teacher", "127.0.0.1:8100", page, http.StatusTeapot},
		{"a student's server's script", config.ModePersonal, false, "alice", "127.0.0.1:8101", map[string]string{"Sec-Fetch-Mode": "cors"}, http.StatusTeapot},
		{"servers not on loopback", config.ModePersonal, true, "alice", "127.0.0.1:8101", page, http.StatusTeapot},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Hub{cfg: config.Config{Mode: c.mode, Owner: "teacher"}, network: spawner.Network{ContainerIPsRoutable: c.routable}, public: l}
			r := httptest.NewRequest("GET", "http://"+c.host+"/user/"+c.user+"/lab", nil)
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.othersOffLoopback(c.user, next).ServeHTTP(w, r)
			if w.Code != c.want {
				t.Errorf("answered %d, want %d", w.Code, c.want)
			}
		})
	}
}

// TestLoginLinkNotOnSharedLoopback: where students' servers share this
// machine's loopback, a login link never leads this machine's browser to
// a loopback host; with no class link's host to lead it to, there is
// none, and the error says what to do. Elsewhere the link is at loopback.
func TestLoginLinkNotOnSharedLoopback(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "teacher", Admin: true}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []struct {
		mode     string
		routable bool
		wantErr  bool
	}{
		{config.ModeClass, false, true},
		{config.ModeClass, true, false},
		{config.ModePersonal, false, false},
	} {
		h := &Hub{cfg: config.Config{Mode: c.mode}, network: spawner.Network{ContainerIPsRoutable: c.routable}, store: st, public: l}
		link, err := h.LoginLink(ctx, "teacher", "/hub/home")
		switch {
		case c.wantErr && !errors.Is(err, errNoClassHost):
			t.Errorf("mode %s, container IPs routable %v: link %q, error %v; want errNoClassHost", c.mode, c.routable, link, err)
		case !c.wantErr && (err != nil || !strings.HasPrefix(link, "http://127.0.0.1:")):
			t.Errorf("mode %s, container IPs routable %v: link %q, error %v; want one at 127.0.0.1", c.mode, c.routable, link, err)
		}
	}
}

// TestClassHostCache: a request naming a loopback host, which anyone who
// reaches the hub can send, finds the class link's host (a run of route
// on macOS and Windows) at most once per classHostTTL.
func TestClassHostCache(t *testing.T) {
	var c classHostCache
	n := 0
	find := func() string { n++; return "192.0.2.5" }
	t0 := time.Now()
	for i := range 1000 {
		if got := c.get(t0.Add(time.Duration(i)*time.Millisecond), find); got != "192.0.2.5" {
			t.Fatalf("get = %q", got)
		}
	}
	if n != 1 {
		t.Errorf("1000 requests in a second found the host %d times, want once", n)
	}
	c.get(t0.Add(classHostTTL), find)
	if n != 2 {
		t.Errorf("found %d times after classHostTTL, want twice", n)
	}
}
