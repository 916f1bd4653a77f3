package web

import (
	"context"
	"errors"
	"github.com/classhub/classhub/internal/testclock"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/core/coretest"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

// env is a hub with fakes for Docker and the proxy, its pages and its
// API, routed as hub.New routes them.
type env struct {
	t       *testing.T
	store   *store.Store
	hub     *core.Lifecycle
	spawner *spawnertest.Spawner
	clock   *testclock.Clock
	web     *Web
	api     *api.API
	handler http.Handler
	logs    *strings.Builder
	logMu   sync.Mutex
	claim   bool
	joinMu  sync.Mutex
	sizer   *fakeSizer
}

// fakeSizer is a laptop of 8 GiB and 2 CPUs whose servers run
// classhub/notebook:latest, unless a test sets its memory.
type fakeSizer struct {
	mu     sync.Mutex
	memory uint64
	// nodes are a swarm's, which the swarm backend counts.
	nodes []spawner.Node
}

func (s *fakeSizer) Nodes(context.Context) ([]spawner.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes, nil
}

func (s *fakeSizer) setMemory(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memory = n
}

func (s *fakeSizer) Machine(context.Context) (uint64, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memory, 2, nil
}

func (s *fakeSizer) ImageFacts(context.Context, string) (string, string, error) {
	return "sha256:notebook", "classic", nil
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv whose hub runs wrap(its fake spawner), for fakes
// of what the engine does beyond starting servers, with the default
// settings each changed by mutate.
func newEnvWith(t *testing.T, wrap func(*spawnertest.Spawner) spawner.Spawner, mutate ...func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	for _, m := range mutate {
		m(&cfg)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "classhub.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, spawner: spawnertest.New(), logs: &strings.Builder{},
		clock: testclock.New(time.Date(2025, 3, 10, 9, 0, 0, 0, time.Local)), sizer: &fakeSizer{memory: 8 << 30}}
	var sp spawner.Spawner = e.spawner
	if wrap != nil {
		sp = wrap(e.spawner)
	}
	e.hub = core.New(core.Options{Config: cfg, Store: st, Spawner: sp,
		Router: spawnertest.NewRouter(), Bus: events.NewBus(64), HubPort: 8081, Sizer: e.sizer})
	if err := e.hub.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	logger := log.New(writerFunc(func(p []byte) (int, error) {
		e.logMu.Lock()
		defer e.logMu.Unlock()
		return e.logs.Write(p)
	}), "", 0)
	authn := &auth.Authenticator{Store: st, ClaimAccounts: func() bool {
		e.joinMu.Lock()
		defer e.joinMu.Unlock()
		return e.claim
	}}
	e.web = New(Options{Hub: e.hub, Auth: authn, Now: e.clock.Now, ErrorLog: logger})
	e.api = api.New(api.Options{Hub: e.hub, Auth: authn, ErrorLog: logger, Pages: e.web})
	mux := http.NewServeMux()
	mux.Handle("/hub/api/", e.api.Handler())
	mux.Handle("/", e.web.Handler())
	e.handler = mux
	e.web.sleep = func(context.Context, time.Duration) {}
	// Starts of the fake take no time, so waiting for them makes tests
	// deterministic; tests of slow starts hold the fake and set 0.
	e.web.spawnWait = time.Minute
	t.Cleanup(func() {
		e.hub.Close()
		st.Close()
	})
	return e
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// logged returns what the hub has logged so far.
func (e *env) logged() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// setJoinCode gives the class a join code, as the hub's settings do
// when it starts; call it between requests.
func (e *env) setJoinCode(code string) {
	if !e.web.noPasswords {
		e.web.joinCode = code
	}
}

// setClaimAccounts turns the class setting claim_accounts on or off.
func (e *env) setClaimAccounts(on bool) {
	e.joinMu.Lock()
	e.claim = on
	e.joinMu.Unlock()
}

// cheapHash is a bcrypt hash at the lowest cost, so tests log in fast;
// CompareHashAndPassword reads the cost from the hash.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// addUser creates a user with a password ("" for one who must choose it).
func (e *env) addUser(name, pw string, admin bool) store.User {
	e.t.Helper()
	nu := store.NewUser{Name: name, Admin: admin, MustSetPassword: pw == ""}
	if pw != "" {
		nu.PasswordHash = cheapHash(e.t, pw)
	}
	u, err := e.store.CreateUser(context.Background(), nu)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// waitReady waits for user's start in flight to end.
func (e *env) waitReady(user string) core.ServerStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.hub.Wait(ctx, user)
	if err != nil {
		e.t.Fatalf("wait for %s: %v", user, err)
	}
	return s
}

// waitPending waits until user's start in flight is recorded; the pages
// start servers in the background.
func (e *env) waitPending(user string) {
	e.t.Helper()
	e.waitStatus(user, coretest.Pending)
}

// waitStatus waits until user's server status satisfies ok.
func (e *env) waitStatus(user string, ok func(core.ServerStatus) bool) {
	e.t.Helper()
	coretest.WaitStatus(e.t, e.hub, user, ok)
}

// start starts user's server and waits until it is ready.
func (e *env) start(user string) {
	e.t.Helper()
	if _, err := e.hub.Start(context.Background(), user); err != nil {
		e.t.Fatal(err)
	}
	if s := e.waitReady(user); !s.Ready {
		e.t.Fatalf("%s's server is not ready: %+v", user, s)
	}
}

// client is a browser: it keeps cookies and does not follow redirects.
type client struct {
	e    *env
	jar  *cookiejar.Jar
	addr string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, jar: jar, addr: "192.0.2.10"}
}

// loggedIn returns a client with a session for user, made directly.
func (e *env) loggedIn(user string) *client {
	e.t.Helper()
	c := e.client()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://hub.test/hub/login", nil)
	if _, err := e.web.auth.Login(rec, req, user); err != nil {
		e.t.Fatal(err)
	}
	c.jar.SetCookies(req.URL, rec.Result().Cookies())
	return c
}

// page is a response with its body read.
type page struct {
	*http.Response
	Body string
}

func (c *client) do(method, target string, body io.Reader, header http.Header) page {
	c.e.t.Helper()
	req := httptest.NewRequest(method, "http://hub.test"+target, body)
	for k, v := range header {
		req.Header[k] = v
	}
	req.RemoteAddr = c.addr + ":40000"
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.e.handler.ServeHTTP(rec, req)
	res := rec.Result()
	c.jar.SetCookies(req.URL, res.Cookies())
	b, _ := io.ReadAll(res.Body)
	return page{Response: res, Body: string(b)}
}

func (c *client) get(target string) page { return c.do("GET", target, nil, nil) }

func (c *client) post(target string, form url.Values) page {
	return c.do("POST", target, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

var xsrfRE = regexp.MustCompile(`name="_xsrf" value="([^"]+)"`)

// xsrf returns the _xsrf value of the page's first form.
func (p page) xsrf(t *testing.T) string {
	t.Helper()
	m := xsrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no _xsrf field in the page:\n%s", p.Body)
	}
	return m[1]
}

// session returns the client's session cookie value, "" if none.
func (c *client) session() string {
	for _, ck := range c.jar.Cookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}) {
		if ck.Name == auth.SessionCookie {
			return ck.Value
		}
	}
	return ""
}

// csrf returns the anti-forgery token of the client's session.
func (c *client) csrf() string {
	c.e.t.Helper()
	s, err := c.e.store.LookupSession(context.Background(), c.session())
	if err != nil {
		c.e.t.Fatal(err)
	}
	return auth.CSRFToken(s)
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("status %d, want %d; Location %q; body:\n%s", p.StatusCode, status, p.Header.Get("Location"), p.Body)
	}
}

func wantRedirect(t *testing.T, p page, status int, location string) {
	t.Helper()
	wantStatus(t, p, status)
	if got := p.Header.Get("Location"); got != location {
		t.Fatalf("Location %q, want %q", got, location)
	}
}

func wantBody(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.Body)
		}
	}
}

func wantNoBody(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page has %q:\n%s", s, p.Body)
		}
	}
}

var errBoom = errors.New("the image classhub/notebook:latest is not in the Docker engine: build it with `classhub image build`")

func timeMinutes(n int) time.Duration { return time.Duration(n) * time.Minute }
