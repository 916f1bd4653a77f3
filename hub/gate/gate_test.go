package gate

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/proxy"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

var discard = log.New(io.Discard, "", 0)

// seen is one request as a plain server received it.
type seen struct {
	user, path, authorization, cookie string
}

// env is a hub as classhub wires it, minus Docker and the pages: the real
// store, core, REST API (its OAuth endpoint), proxy with an origin (port)
// per user and this gate, and one plain-server stand-in behind every
// guarded route that records what reaches it.
type env struct {
	t       *testing.T
	store   *store.Store
	auth    *auth.Authenticator
	hub     *core.Lifecycle
	gate    *Gate
	proxy   *proxy.Proxy
	main    *httptest.Server
	origins map[string]*httptest.Server
	clock   *clock
	spawner *spawnertest.Spawner

	mu   sync.Mutex
	seen []seen
	// serverCookie, if set, is a Set-Cookie the server answers with.
	serverCookie string
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, auth: &auth.Authenticator{Store: st}, origins: map[string]*httptest.Server{},
		clock: &clock{t: time.Now()}}
	backend := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(backend.Close)

	e.gate = New(Options{Logins: e.auth, ErrorLog: discard})
	e.gate.now = e.clock.now
	ports := map[string]int{}
	var portsMu sync.Mutex
	hubMux := http.NewServeMux()
	origins := &proxy.Origins{Port: func(u string) (int, bool) {
		portsMu.Lock()
		defer portsMu.Unlock()
		p, ok := ports[u]
		return p, ok
	}}
	e.proxy = proxy.New(proxy.Options{Hub: hubMux, ErrorLog: discard, Guard: e.gate, Origins: origins,
		HubCookies: []string{auth.SessionCookie, auth.HostSessionCookie, LoginCookie, StateCookie}})
	// The hub's port is known once it listens; the proxy reads it only
	// for redirects, none of which happen before.
	e.main = httptest.NewServer(e.proxy)
	t.Cleanup(e.main.Close)
	origins.PublicPort = portOf(t, e.main.URL)

	sp := spawnertest.New()
	e.spawner = sp
	sp.Target, sp.Mode = backend.URL, spawner.ModeServer
	e.hub = core.New(core.Options{Config: config.Default(), Store: st, Spawner: sp, Router: e.proxy,
		Bus: events.NewBus(64), HubPort: 8081, SlowSpawn: 5 * time.Second})
	t.Cleanup(e.hub.Close)
	a := api.New(api.Options{Hub: e.hub, Auth: e.auth, ErrorLog: discard})
	hubMux.Handle("/hub/api/", a.Handler())

	ctx := context.Background()
	if _, err := e.hub.AddUsers(ctx, []string{"alice", "bob"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.AddUsers(ctx, []string{"teacher"}, true); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		srv := httptest.NewServer(e.proxy.UserOrigin(u))
		t.Cleanup(srv.Close)
		e.origins[u] = srv
		portsMu.Lock()
		ports[u] = portOf(t, srv.URL)
		portsMu.Unlock()
		if s, err := e.hub.Start(ctx, u); err != nil || !s.Ready {
			t.Fatalf("start %s: %+v %v", u, s, err)
		}
	}
	return e
}

func portOf(t *testing.T, raw string) int {
	u, _ := url.Parse(raw)
	n, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// serve is the plain servers' stand-in: it records what reached it and
// accepts websockets.
func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	user := strings.Split(r.URL.Path, "/")[2]
	e.mu.Lock()
	e.seen = append(e.seen, seen{user: user, path: r.URL.Path, authorization: r.Header.Get("Authorization"), cookie: r.Header.Get("Cookie")})
	setCookie := e.serverCookie
	e.mu.Unlock()
	if websocket.IsWebSocketUpgrade(r) {
		up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			c.WriteMessage(websocket.TextMessage, []byte("hello"))
			c.Close()
		}
		return
	}
	if setCookie != "" {
		w.Header().Add("Set-Cookie", setCookie)
	}
	fmt.Fprintf(w, "%s's server: %s", user, r.URL.Path)
}

func (e *env) reached() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.seen
	e.seen = nil
	return out
}

// browser is a person's browser, logged in to the hub as user.
type browser struct {
	e       *env
	user    string
	jar     *cookiejar.Jar
	c       *http.Client
	session store.Session
}

func (e *env) browser(user string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e, user: user, jar: jar}
	b.c = &http.Client{Jar: jar}
	if user != "" {
		secret, s, err := e.store.CreateSession(context.Background(), user, time.Hour)
		if err != nil {
			e.t.Fatal(err)
		}
		b.session = s
		u, _ := url.Parse(e.main.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: e.auth.CookieName(), Value: secret, Path: "/"}})
	}
	return b
}

// open navigates to path on owner's origin, following redirects as a
// browser does, and returns the last answer.
func (b *browser) open(owner, path string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.origins[owner].URL+path, nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// loginCookie is the gate's cookie the browser holds for owner's server.
func (b *browser) loginCookie(owner string) string {
	u, _ := url.Parse(b.e.origins[owner].URL + "/user/" + owner + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == LoginCookie {
			return c.Value
		}
	}
	return ""
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// The owner opens their server: sent through the hub's OAuth flow and
// back, they reach it; the server sees its own token and none of the
// visitor's credentials; the address never carries a token.
func TestOwnerLogsIn(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	var urls []string
	alice.c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		urls = append(urls, r.URL.String())
		return nil
	}
	res, body := alice.open("alice", "/user/alice/lab/tree/work?x=1")
	if res.StatusCode != 200 || body != "alice's server: /user/alice/lab/tree/work" {
		t.Fatalf("alice opens her server = %d %q", res.StatusCode, body)
	}
	if got := res.Request.URL.RequestURI(); got != "/user/alice/lab/tree/work?x=1" {
		t.Errorf("she lands on %q, not where she began", got)
	}
	token := alice.loginCookie("alice")
	if token == "" {
		t.Fatal("no login cookie for alice's server")
	}
	got := e.reached()
	if len(got) != 1 {
		t.Fatalf("the server was reached %d times, want once: %+v", len(got), got)
	}
	if !strings.HasPrefix(got[0].authorization, "token ") || len(got[0].authorization) != len("token ")+64 {
		t.Errorf("the server got Authorization %q, want its own token", got[0].authorization)
	}
	for _, secret := range []string{token, alice.session.ID, e.auth.CookieName(), LoginCookie, StateCookie} {
		if strings.Contains(got[0].cookie, secret) || strings.Contains(got[0].authorization, secret) {
			t.Errorf("the server received the visitor's %q", secret)
		}
	}
	for _, u := range urls {
		if strings.Contains(u, got[0].authorization[len("token "):]) || strings.Contains(u, "token=") {
			t.Errorf("an address on the way carries a token: %s", u)
		}
	}
	// The cookie is the server's alone: HttpOnly, under its path.
	res, _ = alice.open("alice", "/user/alice/lab")
	if res.StatusCode != 200 {
		t.Errorf("alice again = %d", res.StatusCode)
	}
}

func TestSetCookieAttributes(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	c := noRedirects()
	c.Jar = alice.jar
	req, _ := http.NewRequest(http.MethodGet, e.origins["alice"].URL+"/user/alice/lab", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Path != api.AuthorizePath || loc.Query().Get("client_id") != core.OAuthClientID("alice") ||
		loc.Query().Get("redirect_uri") != core.OAuthCallback("alice") || loc.Query().Get("state") == "" {
		t.Fatalf("a navigation without login = %d %q, want the hub's authorize with alice's client", res.StatusCode, loc)
	}
	state := findCookie(res, StateCookie)
	if state == nil || !state.HttpOnly || state.Path != "/user/alice/" || state.SameSite != http.SameSiteLaxMode || state.MaxAge <= 0 {
		t.Errorf("state cookie = %+v", state)
	}
	code, err := e.store.CreateCode(context.Background(), store.CodeSpec{ClientID: core.OAuthClientID("alice"), User: "alice",
		SessionID: alice.session.ID, RedirectURI: core.OAuthCallback("alice"), Scopes: []string{"access:servers!server=alice/"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Get(e.origins["alice"].URL + "/user/alice/oauth_callback?code=" + code + "&state=" + loc.Query().Get("state"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	login := findCookie(res, LoginCookie)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/user/alice/lab" || login == nil {
		t.Fatalf("callback = %d %q, login cookie %v", res.StatusCode, res.Header.Get("Location"), login != nil)
	}
	if !login.HttpOnly || login.Path != "/user/alice/" || login.SameSite != http.SameSiteLaxMode || login.Secure || login.Domain != "" {
		t.Errorf("login cookie = %+v, want HttpOnly, SameSite=Lax, Path=/user/alice/, no Domain (Secure only on HTTPS)", login)
	}
	if len(e.reached()) != 0 {
		t.Error("the callback or the redirect reached the server")
	}
}

func findCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Requests without a login never reach the server: a navigation is sent
// to log in, anything else is refused; a client's Authorization header,
// even holding the server's own token, is no login.
func TestNoLoginIsRefused(t *testing.T) {
	e := newEnv(t)
	c := noRedirects()
	for _, tc := range []struct {
		method string
		header map[string]string
		want   int
	}{
		{"GET", map[string]string{"Sec-Fetch-Mode": "navigate"}, http.StatusFound},
		{"GET", map[string]string{"Accept": "text/html,application/xhtml+xml"}, http.StatusFound},
		{"GET", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, http.StatusForbidden},
		{"GET", nil, http.StatusForbidden},
		{"GET", map[string]string{"Authorization": "token " + e.serverToken("alice")}, http.StatusForbidden},
		{"GET", map[string]string{"Authorization": "token " + e.serverToken("alice"), "Sec-Fetch-Mode": "navigate"}, http.StatusFound},
		{"POST", map[string]string{"Sec-Fetch-Mode": "navigate"}, http.StatusForbidden},
		{"DELETE", nil, http.StatusForbidden},
	} {
		req, _ := http.NewRequest(tc.method, e.origins["alice"].URL+"/user/alice/api/contents/work", nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s %v = %d, want %d", tc.method, tc.header, res.StatusCode, tc.want)
		}
	}
	_, res, err := websocket.DefaultDialer.Dial(wsURL(e.origins["alice"], "/user/alice/api/kernels/k/channels"), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a websocket without login: %v %v, want 403", err, res)
	}
	if got := e.reached(); len(got) != 0 {
		t.Errorf("requests without a login reached the server: %+v", got)
	}
}

// serverToken is the token user's guarded route adds: the one the
// spawner derives from the secret of the server's start.
func (e *env) serverToken(user string) string {
	var secret string
	for _, r := range e.spawner.Requests() {
		if r.User == user {
			secret = r.APIToken
		}
	}
	return spawner.JupyterToken(secret)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Bob, logged in to the hub, cannot reach alice's server: the hub refuses
// him a code, his login for his own server is no login for hers, and a
// token alice's gate never issued does not count.
func TestAnotherStudentCannotReachTheServer(t *testing.T) {
	e := newEnv(t)
	bob := e.browser("bob")
	res, body := bob.open("alice", "/user/alice/lab")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not use alice's server") {
		t.Errorf("bob opens alice's server = %d %q", res.StatusCode, body)
	}
	// His own server's login, sent to hers.
	if res, _ := bob.open("bob", "/user/bob/lab"); res.StatusCode != 200 {
		t.Fatalf("bob opens his own = %d", res.StatusCode)
	}
	bobs := bob.loginCookie("bob")
	for _, cookie := range []string{LoginCookie + "=" + bobs, LoginCookie + "=x; " + LoginCookie + "=" + bobs} {
		req, _ := http.NewRequest(http.MethodGet, e.origins["alice"].URL+"/user/alice/api/contents", nil)
		req.Header.Set("Cookie", cookie)
		res, err := noRedirects().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("bob's login cookie on alice's server = %d", res.StatusCode)
		}
	}
	// Bob's API token with every scope he has is no login either.
	secret, _, err := e.store.CreateToken(context.Background(), store.TokenSpec{User: "bob", Kind: "api", Scopes: []string{"inherit"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.admits(secret, "alice") || e.admits(secret, "bob") {
		t.Error("an API token, not the gate's, is a login")
	}
	for _, s := range e.reached() {
		if s.user == "alice" {
			t.Errorf("bob reached alice's server: %+v", s)
		}
	}
}

// admits reports whether a request with token as login reaches user's
// server.
func (e *env) admits(token, user string) bool {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.origins[user].URL+"/user/"+user+"/api/status", nil)
	req.Header.Set("Cookie", LoginCookie+"="+token)
	res, err := noRedirects().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// The instructor opening a student's server gets the consent page first,
// as for any server, and the token the consent gives opens that server
// and no other.
func TestInstructorNeedsConsentAndGetsOneServer(t *testing.T) {
	e := newEnv(t)
	teacher := e.browser("teacher")
	res, body := teacher.open("alice", "/user/alice/lab")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "consent") {
		t.Fatalf("the teacher opens alice's server = %d %q, want the consent", res.StatusCode, body)
	}
	if len(e.reached()) != 0 {
		t.Fatal("the server was reached before consent")
	}
	// Consenting: the consent page's form, posted with the session's token.
	state := stateOf(t, teacher, "alice")
	form := url.Values{"client_id": {core.OAuthClientID("alice")}, "redirect_uri": {core.OAuthCallback("alice")},
		"response_type": {"code"}, "state": {state}, "_xsrf": {auth.CSRFToken(teacher.session)}}
	req, _ := http.NewRequest(http.MethodPost, e.main.URL+api.AuthorizePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, body = teacher.do(req)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "alice's server") {
		t.Fatalf("after consent = %d %q", res.StatusCode, body)
	}
	tok := teacher.loginCookie("alice")
	if !e.admits(tok, "alice") || e.admits(tok, "bob") {
		t.Error("the teacher's login for alice's server does not open exactly that server")
	}
}

// stateOf starts a login to owner's server in b and returns its state.
func stateOf(t *testing.T, b *browser, owner string) string {
	t.Helper()
	c := noRedirects()
	c.Jar = b.jar
	req, _ := http.NewRequest(http.MethodGet, b.e.origins[owner].URL+"/user/"+owner+"/lab", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	return loc.Query().Get("state")
}

// The callback takes only a code the hub issued for this server, once,
// with the state this browser began with.
func TestCallbackAttacks(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	code := func(user, server string) string {
		s := alice.session
		if user != "alice" {
			s = e.browser(user).session
		}
		c, err := e.store.CreateCode(context.Background(), store.CodeSpec{ClientID: core.OAuthClientID(server), User: user,
			SessionID: s.ID, RedirectURI: core.OAuthCallback(server), Scopes: []string{"access:servers!server=" + server + "/"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := noRedirects()
	c.Jar = alice.jar
	callback := func(code, state string) (int, string) {
		res, err := c.Get(e.origins["alice"].URL + "/user/alice/oauth_callback?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if findCookie(res, LoginCookie) != nil && res.StatusCode != http.StatusFound {
			t.Errorf("a refused callback set a login cookie")
		}
		return res.StatusCode, string(b)
	}

	// A forged state: the code stays unspent, the browser gets no login.
	good := code("alice", "alice")
	stateOf(t, alice, "alice")
	if st, _ := callback(good, "forged"); st != http.StatusForbidden {
		t.Errorf("forged state = %d", st)
	}
	if st, _ := callback(good, ""); st != http.StatusForbidden {
		t.Errorf("no state = %d", st)
	}
	// The state is spent by a failed try too: a right one needs a new login.
	state := stateOf(t, alice, "alice")
	if st, _ := callback(good, state); st != http.StatusFound {
		t.Fatalf("the right state and code = %d", st)
	}
	// Logged in now; from here on the browser forgets it, so that each
	// try below begins a login.
	alice.jar.SetCookies(mustParse(e.origins["alice"].URL+"/user/alice/"), []*http.Cookie{{Name: LoginCookie, Path: "/user/alice/", MaxAge: -1}})
	// Replayed code, with a fresh state.
	if st, body := callback(good, stateOf(t, alice, "alice")); st != http.StatusForbidden || !strings.Contains(body, "already used") {
		t.Errorf("replayed code = %d %q", st, body)
	}
	// A code for bob's server at alice's callback, and alice's state.
	if st, _ := callback(code("bob", "bob"), stateOf(t, alice, "alice")); st != http.StatusForbidden {
		t.Errorf("bob's server's code at alice's callback = %d", st)
	}
	// The hub's error, and a made-up one, are not repeated.
	if st, body := callback("", stateOf(t, alice, "alice")+"&error=%3Cscript%3E"); st != http.StatusForbidden || strings.Contains(body, "script") {
		t.Errorf("error callback = %d %q", st, body)
	}
	if len(e.reached()) != 0 {
		t.Error("a callback reached the server")
	}

	// A state cookie planted for alice's path (a page on another port of
	// this host can) leads nowhere but her server.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/hub/admin", "/user/bob/", "/user/alice/../bob/", "/user/alice/\\evil"} {
		u, _ := url.Parse(e.origins["alice"].URL + "/user/alice/")
		alice.jar.SetCookies(u, []*http.Cookie{{Name: StateCookie, Value: "S." + b64(next), Path: "/user/alice/"}})
		res, err := c.Get(e.origins["alice"].URL + "/user/alice/oauth_callback?code=" + code("alice", "alice") + "&state=S")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != "/user/alice/" {
			t.Errorf("planted next %q: %d → %q, want /user/alice/", next, res.StatusCode, loc)
		}
	}
}

// A server cannot set or shadow the gate's cookies, for its own path or
// a classmate's; and a login cookie planted for a classmate's path (pages
// on every port of a host share its cookies) holds no login for that
// classmate's server.
func TestServerCannotPlantLogins(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	if res, _ := alice.open("alice", "/user/alice/lab"); res.StatusCode != 200 {
		t.Fatal("alice cannot open her server")
	}
	aliceToken := alice.loginCookie("alice")
	for _, sc := range []string{
		LoginCookie + "=" + aliceToken + "; Path=/user/bob/",
		LoginCookie + "=x; Path=/user/alice/",
		"__Host-" + LoginCookie + "=x; Path=/",
		StateCookie + "=S.x; Path=/user/bob/",
	} {
		e.mu.Lock()
		e.serverCookie = sc
		e.mu.Unlock()
		req, _ := http.NewRequest(http.MethodGet, e.origins["alice"].URL+"/user/alice/x", nil)
		req.Header.Set("Cookie", LoginCookie+"="+aliceToken)
		res, err := noRedirects().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || len(res.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("server's Set-Cookie %q reached the browser: %q", sc, res.Header.Values("Set-Cookie"))
		}
	}
	// Planted by script for bob's path: alice's login is no login for bob's.
	if e.admits(aliceToken, "bob") {
		t.Error("alice's login, planted for bob's path, opens bob's server")
	}
	for _, s := range e.reached() {
		if s.user == "bob" {
			t.Errorf("bob's server was reached: %+v", s)
		}
	}
}

// With a login, the client's own Authorization header never reaches the
// server, and state-changing requests and websockets from another
// origin's page are refused before the login is looked at.
func TestLoggedInRequests(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	if res, _ := alice.open("alice", "/user/alice/lab"); res.StatusCode != 200 {
		t.Fatal("alice cannot open her server")
	}
	e.reached()
	tok := alice.loginCookie("alice")
	server := "token " + e.serverToken("alice")

	req, _ := http.NewRequest(http.MethodPut, e.origins["alice"].URL+"/user/alice/api/contents/work/a.ipynb", strings.NewReader("{}"))
	req.Header.Set("Cookie", LoginCookie+"="+tok)
	req.Header.Set("Authorization", "token chosen-by-the-client")
	req.Header.Set("Origin", e.origins["alice"].URL)
	res, body := alice.do(req)
	got := e.reached()
	if res.StatusCode != 200 || len(got) != 1 || got[0].authorization != server {
		t.Fatalf("a same-origin PUT = %d %q; the server saw %+v, want only its own token", res.StatusCode, body, got)
	}

	for _, origin := range []string{e.origins["bob"].URL, e.main.URL, "http://evil.example"} {
		req, _ := http.NewRequest(http.MethodPost, e.origins["alice"].URL+"/user/alice/api/kernels", nil)
		req.Header.Set("Cookie", LoginCookie+"="+tok)
		req.Header.Set("Origin", origin)
		if res, _ := alice.do(req); res.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from %s = %d", origin, res.StatusCode)
		}
		h := http.Header{"Cookie": {LoginCookie + "=" + tok}, "Origin": {origin}}
		if _, res, err := websocket.DefaultDialer.Dial(wsURL(e.origins["alice"], "/user/alice/api/kernels/k/channels"), h); err == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("a websocket from %s: %v", origin, err)
		}
	}
	if got := e.reached(); len(got) != 0 {
		t.Errorf("cross-origin requests reached the server: %+v", got)
	}

	// A websocket from the server's own page goes through, with the
	// server's token.
	h := http.Header{"Cookie": {LoginCookie + "=" + tok}, "Origin": {e.origins["alice"].URL}, "Authorization": {"token mine"}}
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(e.origins["alice"], "/user/alice/api/kernels/k/channels"), h)
	if err != nil {
		t.Fatalf("a same-origin websocket: %v", err)
	}
	_, msg, err := conn.ReadMessage()
	conn.Close()
	if err != nil || string(msg) != "hello" {
		t.Errorf("websocket message %q %v", msg, err)
	}
	if got := e.reached(); len(got) != 1 || got[0].authorization != server || strings.Contains(got[0].cookie, tok) {
		t.Errorf("the websocket reached the server as %+v", got)
	}
}

// Logging out of the hub revokes the tokens its login gave, and the
// gate stops believing them once its cache time is over.
func TestLogoutRevokes(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	if res, _ := alice.open("alice", "/user/alice/lab"); res.StatusCode != 200 {
		t.Fatal("alice cannot open her server")
	}
	tok := alice.loginCookie("alice")
	if !e.admits(tok, "alice") {
		t.Fatal("her login does not admit her")
	}
	req := httptest.NewRequest(http.MethodPost, "/hub/logout", nil)
	for _, c := range alice.jar.Cookies(mustParse(e.main.URL)) {
		req.AddCookie(c)
	}
	if err := e.auth.Logout(httptest.NewRecorder(), req); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(DefaultCacheTTL + time.Second)
	if e.admits(tok, "alice") {
		t.Error("a login ended by logging out of the hub still opens the server after the cache time")
	}
	// A reset ends every login of the user too.
	bob := e.browser("bob")
	if res, _ := bob.open("bob", "/user/bob/lab"); res.StatusCode != 200 {
		t.Fatal("bob cannot open his server")
	}
	bobTok := bob.loginCookie("bob")
	if _, err := e.hub.ResetUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(DefaultCacheTTL + time.Second)
	if e.admits(bobTok, "bob") {
		t.Error("a reset account's login still opens its server")
	}
}

func mustParse(s string) *url.URL { u, _ := url.Parse(s); return u }

func wsURL(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}
