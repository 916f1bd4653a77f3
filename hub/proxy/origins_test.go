package proxy

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// originHub is a proxy in port mode with the hub's origin and one origin
// per user, each a real listener, and backends that count what reaches them.
type originHub struct {
	p       *Proxy
	main    *httptest.Server
	origins map[string]*httptest.Server
	// hits counts requests that reached each backend, and the hub.
	hits map[string]*atomic.Int32
}

func newOriginHub(t *testing.T, opts Options, users ...string) *originHub {
	t.Helper()
	o := &originHub{origins: make(map[string]*httptest.Server), hits: map[string]*atomic.Int32{"hub": new(atomic.Int32)}}
	hub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits["hub"].Add(1)
		fmt.Fprintf(w, "hub %s %s", r.Method, r.RequestURI)
	})
	opts.Hub, opts.ErrorLog = hub, discard
	ports := make(map[string]int)
	opts.Origins = &Origins{Port: func(user string) (int, bool) { p, ok := ports[user]; return p, ok }}
	o.p = New(opts)
	o.main = newFrontend(t, o.p)
	opts.Origins.PublicPort = port(t, o.main)
	for _, u := range users {
		n := new(atomic.Int32)
		o.hits[u] = n
		backend := newBackend(t, u, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			fmt.Fprintf(w, "%s %s %s %s", u, r.Method, r.RequestURI, r.Host)
		})
		o.p.SetRoute(u, mustURL(t, backend.URL))
		o.origins[u] = httptest.NewServer(o.p.UserOrigin(u))
		t.Cleanup(o.origins[u].Close)
		ports[u] = port(t, o.origins[u])
	}
	return o
}

func port(t *testing.T, s *httptest.Server) int {
	t.Helper()
	n, err := strconv.Atoi(mustURL(t, s.URL).Port())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (o *originHub) noHits(t *testing.T, who ...string) {
	t.Helper()
	for _, w := range who {
		if n := o.hits[w].Load(); n != 0 {
			t.Errorf("%d requests reached %s", n, w)
		}
	}
}

func TestUserOriginForwardsOnlyItsOwnUser(t *testing.T) {
	o := newOriginHub(t, Options{}, "alice", "bob")
	alice := o.origins["alice"]
	code, body, _ := get(t, noRedirects, alice.URL+"/user/alice/lab?x=1")
	if want := "alice GET /user/alice/lab?x=1 " + mustURL(t, alice.URL).Host; code != 200 || body != want {
		t.Errorf("alice's origin, her path = %d %q, want 200 %q", code, body, want)
	}
	o.hits["alice"].Store(0)

	// Nothing else on alice's origin is forwarded anywhere: other users,
	// the hub, and every path trick move to the hub's origin.
	for _, path := range []string{
		"/user/bob/api/contents", "/user/bob/", "/hub/api/user", "/hub/home", "/", "/user/",
		"/user/alice/../bob/x", "/user/alice/%2e%2e/bob/x", "/user/alice%2F..%2Fbob/x", "/user/bob%2Falice/x",
		"/user/ALICE/x", "/user/alice/..%2F..%2Fhub/api/user",
	} {
		for _, method := range []string{"GET", "POST"} {
			res, _ := rawRequest(t, mustURL(t, alice.URL).Host, method, path)
			if res.StatusCode == http.StatusOK {
				t.Errorf("%s %s on alice's origin = 200, want no forwarding", method, path)
			}
			loc := res.Header.Get("Location")
			if res.StatusCode/100 == 3 && strings.HasPrefix(loc, "http") && !strings.HasPrefix(loc, o.main.URL+"/") {
				t.Errorf("%s %s on alice's origin redirects to %q, not the hub's origin", method, path, loc)
			}
		}
	}
	o.noHits(t, "alice", "bob", "hub")

	code, _, h := get(t, noRedirects, alice.URL+"/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&state=s")
	if want := o.main.URL + "/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&state=s"; code != http.StatusFound || h.Get("Location") != want {
		t.Errorf("authorize on alice's origin = %d %q, want 302 %q", code, h.Get("Location"), want)
	}
}

func TestHubOriginNeverForwardsToAServer(t *testing.T) {
	o := newOriginHub(t, Options{}, "alice", "bob")
	for _, u := range []string{"alice", "bob"} {
		code, _, h := get(t, noRedirects, o.main.URL+"/user/"+u+"/oauth_callback?code=c&state=s")
		if want := o.origins[u].URL + "/user/" + u + "/oauth_callback?code=c&state=s"; code != http.StatusFound || h.Get("Location") != want {
			t.Errorf("%s's path on the hub's origin = %d %q, want 302 %q", u, code, h.Get("Location"), want)
		}
		res, _ := rawRequest(t, mustURL(t, o.main.URL).Host, "POST", "/user/"+u+"/api/contents")
		if want := o.origins[u].URL + "/user/" + u + "/api/contents"; res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != want {
			t.Errorf("POST on the hub's origin = %d %q, want 307 %q", res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	// A websocket to the hub's origin is not spliced to a server either.
	_, res, err := websocket.DefaultDialer.Dial(wsURL(o.main, "/user/alice/api/kernels/k/channels"), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusFound {
		t.Errorf("websocket on the hub's origin: %v, %v; want a 302", err, res)
	}
	o.noHits(t, "alice", "bob")

	// Without a route, the hub's not-running page answers as before.
	o.p.RemoveRoute("bob")
	if code, body, _ := get(t, noRedirects, o.main.URL+"/user/bob/lab"); code != http.StatusServiceUnavailable || !strings.Contains(body, "No notebook server") {
		t.Errorf("bob not running = %d %q", code, body)
	}
	// On bob's own origin too, by way of the hub's origin.
	if code, _, h := get(t, noRedirects, o.origins["bob"].URL+"/user/bob/lab"); code != http.StatusFound || h.Get("Location") != o.main.URL+"/user/bob/lab" {
		t.Errorf("bob not running, on his origin = %d %q", code, h.Get("Location"))
	}
}

// TestOAuthRoundCrossesOrigins walks the unmodified singleuser's login with
// relative URLs: its redirect to the hub's authorize, the hub's back to the
// callback, and the callback's to the page, each landing on its origin.
func TestOAuthRoundCrossesOrigins(t *testing.T) {
	var callbackHost, authorizeHost string
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/user/alice/oauth_callback":
			callbackHost = r.Host
			http.SetCookie(w, &http.Cookie{Name: "jupyterhub-user-alice", Value: "tok", Path: "/user/alice/"})
			http.Redirect(w, r, "/user/alice/lab", http.StatusFound)
		case strings.Contains(r.Header.Get("Cookie"), "jupyterhub-user-alice=tok"):
			fmt.Fprintf(w, "lab at %s", r.Host)
		default:
			http.SetCookie(w, &http.Cookie{Name: "jupyterhub-user-alice-oauth-state", Value: "st", Path: "/user/alice/"})
			http.Redirect(w, r, "/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&redirect_uri=%2Fuser%2Falice%2Foauth_callback&state=st", http.StatusFound)
		}
	})
	o := newOriginHub(t, Options{}, "alice")
	o.p.SetRoute("alice", mustURL(t, alice.URL))
	o.p.hub = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorizeHost = r.Host
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c&state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	code, body, _ := get(t, client, o.main.URL+"/user/alice/lab")
	aliceHost := mustURL(t, o.origins["alice"].URL).Host
	if code != 200 || body != "lab at "+aliceHost {
		t.Errorf("login round = %d %q, want the lab on %s", code, body, aliceHost)
	}
	if authorizeHost != mustURL(t, o.main.URL).Host || callbackHost != aliceHost {
		t.Errorf("authorize on %s, callback on %s; want the hub's origin, then alice's", authorizeHost, callbackHost)
	}
}

func TestUserOriginRefusesCrossOriginRequests(t *testing.T) {
	seen := make(chan string, 8)
	echo := newEchoBackend(t, seen)
	o := newOriginHub(t, Options{}, "alice", "bob")
	o.p.SetRoute("alice", mustURL(t, echo.URL))
	alice, bob := o.origins["alice"], o.origins["bob"]

	post := func(hdr map[string]string) int {
		req, _ := http.NewRequest("POST", alice.URL+"/user/alice/api/contents", strings.NewReader("{}"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "same-site", "Origin": bob.URL},
		{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
		{"Origin": o.main.URL}, // an older browser: no Sec-Fetch-Site
		{"Origin": bob.URL},
	} {
		if code := post(hdr); code != http.StatusForbidden {
			t.Errorf("cross-origin POST %v = %d, want 403", hdr, code)
		}
	}
	if len(seen) != 0 {
		t.Fatalf("%d cross-origin requests reached alice's server", len(seen))
	}
	// Her own pages, and clients that are not browsers, get through.
	if code := post(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": alice.URL}); code == http.StatusForbidden {
		t.Errorf("same-origin POST = %d", code)
	}
	if code := post(nil); code == http.StatusForbidden {
		t.Errorf("POST without browser headers = %d", code)
	}
	for len(seen) > 0 {
		<-seen
	}

	d := websocket.Dialer{HandshakeTimeout: hangGuard}
	path := "/user/alice/api/kernels/k/channels"
	for _, origin := range []string{bob.URL, o.main.URL, "http://evil.example", "null"} {
		c, res, err := d.Dial(wsURL(alice, path), http.Header{"Origin": {origin}})
		if err == nil {
			c.Close()
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("websocket from %s: %v, %v; want 403", origin, err, res)
		}
	}
	if len(seen) != 0 {
		t.Fatalf("%d cross-origin websockets reached alice's server", len(seen))
	}
	c, res, err := d.Dial(wsURL(alice, path), http.Header{"Origin": {alice.URL}})
	if err != nil {
		t.Fatalf("websocket from alice's own origin: %v, %v", err, res)
	}
	c.Close()
}

func TestWebsocketCapPerUser(t *testing.T) {
	var open, most atomic.Int32
	release := make(chan struct{})
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		c, err := echoUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		n := open.Add(1)
		defer open.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		c.ReadMessage() // until the client closes
	})
	const limit, tries = 3, 12
	p := New(Options{ErrorLog: discard, MaxWebsockets: limit})
	p.SetRoute("alice", mustURL(t, alice.URL))
	front := newFrontend(t, p)

	d := websocket.Dialer{HandshakeTimeout: hangGuard}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*websocket.Conn
	refused := 0
	for range tries {
		wg.Go(func() {
			c, res, err := d.Dial(wsURL(front, "/user/alice/api/kernels/k/channels"), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				conns = append(conns, c)
			case res != nil && res.StatusCode == http.StatusTooManyRequests:
				refused++
			default:
				t.Errorf("dial: %v, %v", err, res)
			}
		})
	}
	wg.Wait()
	close(release)
	if len(conns) != limit || refused != tries-limit {
		t.Errorf("%d open, %d refused; want %d, %d", len(conns), refused, limit, tries-limit)
	}
	// The server accepted every handshake (the places count websockets
	// it accepted), and the refused ones were closed at once.
	for deadline := time.Now().Add(hangGuard); open.Load() != limit; {
		if time.Now().After(deadline) {
			t.Fatalf("%d websockets open at the server, at most %d at once; want %d", open.Load(), most.Load(), limit)
		}
		time.Sleep(time.Millisecond)
	}
	// Closing one makes room for one more; other users have their own cap.
	conns[0].Close()
	var c *websocket.Conn
	for deadline := 0; deadline < 1000; deadline++ {
		var err error
		if c, _, err = d.Dial(wsURL(front, "/user/alice/api/kernels/k/channels"), nil); err == nil {
			break
		}
	}
	if c == nil {
		t.Fatal("no websocket after one closed")
	}
	c.Close()
	for _, c := range conns[1:] {
		c.Close()
	}
}

func TestSubdomainOrigins(t *testing.T) {
	hits := new(atomic.Int32)
	alice := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "alice %s %s", r.RequestURI, r.Host)
	})
	label := func(u string) string { return "u-" + u }
	p := New(Options{ErrorLog: discard, Hub: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hub %s", r.Host)
	}), Origins: &Origins{SubdomainHost: "hub.test", Label: label}})
	p.SetRoute("alice", mustURL(t, alice.URL))
	p.SetRoute("bob", mustURL(t, alice.URL))
	front := newFrontend(t, p)
	port := mustURL(t, front.URL).Port()

	send := func(host, path string) (int, string, string) {
		req, _ := http.NewRequest("GET", front.URL+path, nil)
		req.Host = host
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header.Get("Location")
	}
	if code, body, _ := send("U-Alice.hub.test:"+port, "/user/alice/lab"); code != 200 || !strings.HasPrefix(body, "alice /user/alice/lab") {
		t.Errorf("alice's host = %d %q", code, body)
	}
	for _, tc := range []struct{ host, path, loc string }{
		{"u-alice.hub.test:" + port, "/user/bob/lab", "http://hub.test:" + port + "/user/bob/lab"},
		{"u-alice.hub.test:" + port, "/hub/api/user", "http://hub.test:" + port + "/hub/api/user"},
		{"u-bob.hub.test:" + port, "/user/alice/x", "http://hub.test:" + port + "/user/alice/x"},
		{"hub.test:" + port, "/user/alice/x?y=1", "http://u-alice.hub.test:" + port + "/user/alice/x?y=1"},
		{"127.0.0.1:" + port, "/user/alice/x", "http://u-alice.hub.test:" + port + "/user/alice/x"},
	} {
		if code, _, loc := send(tc.host, tc.path); code != http.StatusFound || loc != tc.loc {
			t.Errorf("%s%s = %d %q, want 302 %q", tc.host, tc.path, code, loc, tc.loc)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests reached the servers, want only alice's own", n)
	}
	if code, body, _ := send("hub.test:"+port, "/hub/home"); code != 200 || body != "hub hub.test:"+port {
		t.Errorf("hub's host = %d %q", code, body)
	}
}

// TestUserOriginsSource: the policy source names every user's origin as
// the hub's redirects make it, and nothing a crafted Host can widen.
func TestUserOriginsSource(t *testing.T) {
	ports := New(Options{Origins: &Origins{PublicPort: 8000, Port: func(string) (int, bool) { return 9001, true }}})
	subdomains := New(Options{Origins: &Origins{SubdomainHost: "hub.school.test", Label: func(u string) string { return u }}})
	none := New(Options{})
	for _, tc := range []struct {
		p     *Proxy
		host  string
		tls   bool
		want  string
		label string
	}{
		{ports, "192.168.1.5:8000", false, "http://192.168.1.5:*", "ports"},
		{ports, "laptop.local:8000", true, "https://laptop.local:*", "ports over TLS"},
		{ports, "laptop.local", true, "https://laptop.local:*", "ports, default port"},
		{subdomains, "hub.school.test:8443", true, "https://*.hub.school.test:8443", "subdomains"},
		{subdomains, "hub.school.test", true, "https://*.hub.school.test", "subdomains, default port"},
		{ports, "[::1]:8000", false, "", "an IPv6 literal"},
		{ports, "evil;script-src *:8000", false, "", "a Host with a directive"},
		{ports, "a b:8000", false, "", "a Host with a space"},
		{subdomains, "hub.school.test:1;x", true, "", "a port with a directive"},
		{none, "192.168.1.5:8000", false, "", "no origins"},
	} {
		r := httptest.NewRequest("GET", "/hub/login", nil)
		r.Host = tc.host
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := tc.p.UserOriginsSource(r); got != tc.want {
			t.Errorf("%s: UserOriginsSource(%q) = %q, want %q", tc.label, tc.host, got, tc.want)
		}
	}
}

// A page of bob's server, opened by someone logged in to alice's server
// too, cannot have the browser load alice's files as scripts or images,
// fetch them or frame them: her server's origin is this host on another
// port, so the visitor's cookie for her server goes along. Only opening
// her server in a tab comes through from another origin.
func TestUserOriginRefusesAnotherPagesSubresources(t *testing.T) {
	seen := make(chan string, 16)
	echo := newEchoBackend(t, seen)
	o := newOriginHub(t, Options{}, "alice", "bob")
	o.p.SetRoute("alice", mustURL(t, echo.URL))
	alice, bob := o.origins["alice"], o.origins["bob"]
	get := func(site, mode, dest string) int {
		req, _ := http.NewRequest("GET", alice.URL+"/user/alice/files/work/solution.js", nil)
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", mode)
		req.Header.Set("Sec-Fetch-Dest", dest)
		req.Header.Set("Referer", bob.URL+"/user/bob/files/evil.html")
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range [][3]string{{"same-site", "no-cors", "script"}, {"same-site", "no-cors", "image"},
		{"same-site", "cors", "empty"}, {"cross-site", "no-cors", "style"}, {"same-site", "navigate", "iframe"}} {
		if code := get(tc[0], tc[1], tc[2]); code != http.StatusForbidden {
			t.Errorf("a %s %s request for a %s = %d, want 403", tc[0], tc[1], tc[2], code)
		}
	}
	if len(seen) != 0 {
		t.Fatalf("%d requests from bob's page reached alice's server", len(seen))
	}
	for _, tc := range [][3]string{{"same-site", "navigate", "document"}, {"cross-site", "navigate", "document"},
		{"same-origin", "no-cors", "script"}, {"none", "navigate", "document"}, {"", "", ""}} {
		if code := get(tc[0], tc[1], tc[2]); code == http.StatusForbidden {
			t.Errorf("a %q %q request for a %q = %d, want it through", tc[0], tc[1], tc[2], code)
		}
	}
}
