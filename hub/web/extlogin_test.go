package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/extauth/githubtest"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

const testCallback = "http://hub.test/hub/oauth_callback"

// withLogins rebuilds e's pages with external logins, as the hub's wiring
// passes them.
func (e *env) withLogins(passwordsOff bool, providers ...extauth.Provider) {
	e.t.Helper()
	old := e.web
	e.web = New(Options{Hub: e.hub, Auth: old.auth, Now: e.clock.Now, ErrorLog: old.log, JoinCode: old.joinCode,
		Providers: providers, PasswordsOff: passwordsOff})
	e.web.sleep = old.sleep
	e.web.spawnWait = old.spawnWait
	mux := http.NewServeMux()
	mux.Handle("/hub/api/", e.api.Handler())
	mux.Handle("/", e.web.Handler())
	e.handler = mux
}

// withGitHub adds GitHub login against a stand-in that allows alice and
// bob, the members of "maths", and teacher as an instructor.
func (e *env) withGitHub(passwordsOff bool) *githubtest.Server {
	gh := githubtest.New(e.t)
	cfg := gh.Settings()
	cfg.AllowedUsers = []string{"Alice", "bob"}
	cfg.AllowedOrganizations = []string{"maths"}
	cfg.AdminUsers = []string{"teacher"}
	e.withLogins(passwordsOff, extauth.NewGitHub(cfg, testCallback))
	return gh
}

// startGitHub clicks "Log in with GitHub" and follows the stand-in back:
// it returns the callback address the browser is sent to.
func (c *client) startGitHub(next string) string {
	c.e.t.Helper()
	target := "/hub/oauth_login?provider=github"
	if next != "" {
		target += "&next=" + url.QueryEscape(next)
	}
	p := c.get(target)
	wantStatus(c.e.t, p, http.StatusFound)
	nohop := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := nohop.Get(p.Header.Get("Location"))
	if err != nil {
		c.e.t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, testCallback+"?") {
		c.e.t.Fatalf("the stand-in answered %d to %q", resp.StatusCode, back)
	}
	return strings.TrimPrefix(back, "http://hub.test")
}

// users is every user as the store has them, to show that nothing changed.
func (e *env) users() string {
	e.t.Helper()
	us, _, err := e.store.ListUsers(context.Background(), store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range us {
		kind, _ := e.store.ExternalLogin(context.Background(), u.Name)
		fmt.Fprintf(&b, "%s admin=%v hash=%q must=%v login=%q\n", u.Name, u.Admin, u.PasswordHash, u.MustSetPassword, kind)
	}
	return b.String()
}

// wantRefused checks that a login attempt showed a page saying what to do
// and left no session and no changed account behind.
func wantRefused(t *testing.T, c *client, p page, before string, status int, says string) {
	t.Helper()
	wantStatus(t, p, status)
	wantBody(t, p, says)
	if c.session() != "" {
		t.Error("a refused login left a session")
	}
	if after := c.e.users(); after != before {
		t.Errorf("a refused login changed the accounts:\n%s\nwas\n%s", after, before)
	}
}

func TestGitHubLoginMakesAndReusesTheAccount(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	c := e.client()
	page := c.get("/hub/login?next=%2Fhub%2Fspawn%2Falice")
	wantBody(t, page, `href="/hub/oauth_login?provider=github&amp;next=%2fhub%2fspawn%2falice"`, "Log in with GitHub", `name="password"`)

	gh.LogInAs("Alice")
	first := c.get("/hub/oauth_login?provider=github&next=%2Fhub%2Fspawn%2Falice")
	wantStatus(t, first, http.StatusFound)
	var state *http.Cookie
	for _, ck := range first.Cookies() {
		if ck.Name == StateCookie {
			state = ck
		}
	}
	if state == nil || !state.HttpOnly || state.Path != "/hub/oauth_callback" || state.SameSite != http.SameSiteLaxMode || state.MaxAge <= 0 {
		t.Fatalf("state cookie %+v", state)
	}
	authorize, _ := url.Parse(first.Header.Get("Location"))
	if q := authorize.Query(); q.Get("state") != state.Value || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != testCallback {
		t.Fatalf("sent to %s", authorize)
	}

	back := c.startGitHub("/hub/spawn/alice")
	wantRedirect(t, c.get(back), http.StatusFound, "/hub/spawn/alice")
	if c.session() == "" {
		t.Fatal("no session after the GitHub login")
	}
	if got := e.users(); !strings.Contains(got, `alice admin=false hash="" must=false login="github"`) {
		t.Errorf("accounts after alice's first login:\n%s", got)
	}
	if strings.Contains(e.logged(), githubtest.ClientSecret) {
		t.Error("the log holds the client secret")
	}

	// The next login, from another browser, finds the same account.
	before := e.users()
	c2 := e.client()
	wantRedirect(t, c2.get(c2.startGitHub("")), http.StatusFound, "/hub/")
	if c2.session() == "" || e.users() != before {
		t.Errorf("second login: session %q, accounts\n%s", c2.session(), e.users())
	}

	// admin_users log in as instructors.
	gh.LogInAs("Teacher")
	c3 := e.client()
	wantRedirect(t, c3.get(c3.startGitHub("")), http.StatusFound, "/hub/")
	if got := e.users(); !strings.Contains(got, `teacher admin=true`) {
		t.Errorf("teacher is not an instructor:\n%s", got)
	}
	// Members of an allowed organization get in.
	gh.AddMember("maths", "carol")
	gh.LogInAs("carol")
	c4 := e.client()
	wantRedirect(t, c4.get(c4.startGitHub("")), http.StatusFound, "/hub/")
}

func TestGitHubLoginKeepsNextOnThisSite(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	gh.LogInAs("alice")
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`} {
		c := e.client()
		wantRedirect(t, c.get(c.startGitHub(next)), http.StatusFound, "/hub/")
	}
}

func TestGitHubLoginRefusesWrongAndReplayedState(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	gh.LogInAs("alice")
	before := e.users()

	// Another state than the browser's.
	c := e.client()
	back := c.startGitHub("")
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("state", strings.Repeat("ab", 32))
	wantRefused(t, c, c.get(u.Path+"?"+q.Encode()), before, http.StatusBadRequest, "Go back to the login page")

	// A browser that never started a login: a code someone else sends
	// it to cannot log it in (login CSRF).
	victim := e.client()
	back = c.startGitHub("")
	wantRefused(t, victim, victim.get(back), before, http.StatusBadRequest, "not started in this browser")

	// The same callback twice, cookie and all.
	calls := gh.Calls("POST /login/oauth/access_token")
	c = e.client()
	back = c.startGitHub("")
	var cookie *http.Cookie
	for _, ck := range c.jar.Cookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/oauth_callback"}) {
		if ck.Name == StateCookie {
			cookie = ck
		}
	}
	wantStatus(t, c.get(back), http.StatusFound)
	after := e.users()
	replay := e.client()
	replay.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/oauth_callback"}, []*http.Cookie{cookie})
	wantRefused(t, replay, replay.get(back), after, http.StatusBadRequest, "already used")
	if got := gh.Calls("POST /login/oauth/access_token"); got != calls+1 {
		t.Errorf("%d calls to the token endpoint; want 1: refused states must not reach GitHub", got-calls)
	}

	// A state that expired.
	c = e.client()
	back = c.startGitHub("")
	e.clock.Advance(extLoginTTL)
	wantRefused(t, c, c.get(back), after, http.StatusBadRequest, "expired")
}

func TestGitHubLoginRefusesBadCodesAndStrangers(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	gh.AddMember("physics", "erin")
	before := e.users()

	gh.LogInAs("alice")
	c := e.client()
	u, _ := url.Parse(c.startGitHub(""))
	q := u.Query()
	q.Set("code", "guessed")
	wantRefused(t, c, c.get(u.Path+"?"+q.Encode()), before, http.StatusBadGateway, "GitHub did not accept this login")

	c = e.client()
	c.startGitHub("")
	u, _ = url.Parse(c.startGitHub(""))
	q = u.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	wantRefused(t, c, c.get(u.Path+"?"+q.Encode()), before, http.StatusForbidden, "cancelled or refused (access_denied)")

	for _, who := range []string{"mallory", "erin"} {
		gh.LogInAs(who)
		c = e.client()
		wantRefused(t, c, c.get(c.startGitHub("")), before, http.StatusForbidden, "The GitHub account "+who+" is not allowed to log in to this hub: ask your teacher")
	}
	gh.LogInAs("alice")
	c = e.client()
	back := c.startGitHub("")
	gh.Fail(http.StatusInternalServerError)
	wantRefused(t, c, c.get(back), before, http.StatusBadGateway, "500")
}

func TestGitHubLoginNeverTakesOverAnAccount(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	e.addUser("alice", "alice-password", false) // has a password
	e.addUser("bob", "", false)                 // waits for a first login
	e.addUser("teacher", "", true)
	before := e.users()
	for _, who := range []string{"alice", "BOB", "teacher"} {
		gh.LogInAs(who)
		c := e.client()
		wantRefused(t, c, c.get(c.startGitHub("")), before, http.StatusConflict, "logs in another way")
	}
	// The password still works, and the GitHub account cannot be claimed
	// with the password form.
	gh.AddMember("maths", "carol")
	gh.LogInAs("carol")
	c := e.client()
	wantStatus(t, c.get(c.startGitHub("")), http.StatusFound)
	wantStatus(t, e.client().login("carol", "carol-chooses-this", ""), http.StatusForbidden)
	wantRedirect(t, e.client().login("alice", "alice-password", ""), http.StatusFound, "/hub/")
}

// fakeProvider vouches for whoever the test says.
type fakeProvider struct {
	id      string
	who     extauth.Identity
	err     error
	mu      sync.Mutex
	running int
	most    int
	hold    chan struct{}
}

func (f *fakeProvider) ID() string    { return f.id }
func (f *fakeProvider) Title() string { return "Log in with " + f.id }
func (f *fakeProvider) AuthCodeURL(state, _ string) string {
	return "https://idp.test/authorize?redirect_uri=" + url.QueryEscape(testCallback) + "&state=" + state
}
func (f *fakeProvider) Exchange(ctx context.Context, code, verifier string) (extauth.Identity, error) {
	f.mu.Lock()
	f.running++
	f.most = max(f.most, f.running)
	f.mu.Unlock()
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	f.running--
	f.mu.Unlock()
	return f.who, f.err
}

// fakeLogin runs a login with provider id through to its callback.
func (c *client) fakeLogin(id string) page {
	c.e.t.Helper()
	p := c.get("/hub/oauth_login?provider=" + id)
	wantStatus(c.e.t, p, http.StatusFound)
	u, _ := url.Parse(p.Header.Get("Location"))
	return c.get("/hub/oauth_callback?code=x&state=" + u.Query().Get("state"))
}

func TestExternalLoginNamesAreCheckedAndKeptApart(t *testing.T) {
	e := newEnv(t)
	oidc := &fakeProvider{id: "oidc", who: extauth.Identity{Name: "dana"}}
	gh := &fakeProvider{id: "github"}
	e.withLogins(false, gh, oidc)
	wantStatus(t, e.client().fakeLogin("oidc"), http.StatusFound)
	before := e.users()
	for _, name := range []string{"no/slashes", "-dash", "", strings.Repeat("x", 300)} {
		gh.who = extauth.Identity{Name: name}
		c := e.client()
		wantRefused(t, c, c.fakeLogin("github"), before, http.StatusBadRequest, "ask your teacher for a classhub account")
	}
	// dana logs in with the school's accounts; GitHub's dana is someone else.
	gh.who = extauth.Identity{Name: "Dana", Admin: true}
	c := e.client()
	wantRefused(t, c, c.fakeLogin("github"), before, http.StatusConflict, "logs in another way")
	// An error that is not "not allowed" is the provider's trouble.
	oidc.err = errors.New("the e-mail address is not verified: verify it with your school, then log in again")
	c = e.client()
	wantRefused(t, c, c.fakeLogin("oidc"), before, http.StatusBadGateway, "The e-mail address is not verified")
	wantStatus(t, e.client().get("/hub/oauth_login?provider=facebook"), http.StatusNotFound)
}

func TestExternalLoginsAreBounded(t *testing.T) {
	e := newEnv(t)
	f := &fakeProvider{id: "github", who: extauth.Identity{Name: "alice"}, hold: make(chan struct{})}
	e.withLogins(false, f)
	c := e.client()
	var backs []string
	for range maxExtLoginsPerAddr {
		p := c.get("/hub/oauth_login?provider=github")
		wantStatus(t, p, http.StatusFound)
		u, _ := url.Parse(p.Header.Get("Location"))
		backs = append(backs, "/hub/oauth_callback?code=x&state="+u.Query().Get("state"))
	}
	wantStatus(t, c.get("/hub/oauth_login?provider=github"), http.StatusTooManyRequests)
	other := e.client()
	other.addr = "192.0.2.11"
	wantStatus(t, other.get("/hub/oauth_login?provider=github"), http.StatusFound)

	// Many callbacks at once reach the provider a few at a time.
	var wg sync.WaitGroup
	for _, back := range backs[:10] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := e.client()
			u, _ := url.Parse(back)
			b.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/oauth_callback"},
				[]*http.Cookie{{Name: StateCookie, Value: u.Query().Get("state")}})
			b.get(back)
		}()
	}
	for range 10 {
		f.hold <- struct{}{}
	}
	wg.Wait()
	if f.most > maxExchanges || f.most == 0 {
		t.Errorf("%d exchanges ran at once; want at most %d", f.most, maxExchanges)
	}
}

func TestExternalLoginMovesToTheCallbacksAddress(t *testing.T) {
	e := newEnv(t)
	e.withLogins(false, &fakeProvider{id: "github"})
	wantStatus(t, e.client().get("/hub/oauth_login?provider=github&next=%2Fhub%2Ftoken"), http.StatusFound)
	req, _ := http.NewRequest("GET", "http://laptop.local:8000/hub/oauth_login?provider=github&next=%2Fhub%2Ftoken", nil)
	req.RemoteAddr = "192.0.2.10:40000"
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if loc := rec.Result().Header.Get("Location"); loc != "http://hub.test/hub/oauth_login?next=%2Fhub%2Ftoken&provider=github" {
		t.Errorf("from another address: %d to %q", rec.Code, loc)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Error("a state cookie was set on an address the provider does not come back to")
	}
}

func TestPasswordsOff(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.setJoinCode("ABC123")
	e.withGitHub(true)
	c := e.client()
	p := c.get("/hub/login")
	wantBody(t, p, "Log in with GitHub")
	wantNoBody(t, p, `name="password"`, "/hub/signup")
	var xsrf string
	for _, ck := range c.jar.Cookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}) {
		if ck.Name == formCookie {
			xsrf = ck.Value
		}
	}
	wantStatus(t, c.post("/hub/login", url.Values{"_xsrf": {xsrf}, "username": {"alice"}, "password": {"alice-password"}}), http.StatusForbidden)
	if c.session() != "" {
		t.Error("a password logged in with passwords off")
	}
	wantStatus(t, c.get("/hub/signup?code=ABC123"), http.StatusNotFound)
	// Nor does a setup code set a password that logs in.
	created, err := e.hub.AddUsers(context.Background(), []string{"bob"}, false)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/hub/setup"), http.StatusNotFound)
	wantStatus(t, c.post("/hub/setup", url.Values{"_xsrf": {xsrf}, "username": {"bob"}, "code": {created[0].SetupCode},
		"password": {"bobs-password"}, "confirm": {"bobs-password"}}), http.StatusNotFound)
	if u, _ := e.store.GetUser(context.Background(), "bob"); u.PasswordHash != "" || c.session() != "" {
		t.Error("a setup code set a password, or logged in, with passwords off")
	}
	// The tray's login links still work.
	link, err := e.store.CreateLoginLink(context.Background(), "alice", timeMinutes(1))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/hub/login-link/"+link), http.StatusFound)
	if c.session() == "" {
		t.Error("the login link did not log in")
	}
}

func TestStateCookieIsSecureOnHTTPS(t *testing.T) {
	e := newEnv(t)
	e.withLogins(false, &fakeProvider{id: "github", who: extauth.Identity{Name: "alice"}})
	e.web.auth.Secure = true
	p := e.client().get("/hub/oauth_login?provider=github")
	wantStatus(t, p, http.StatusFound)
	var state *http.Cookie
	for _, ck := range p.Cookies() {
		if ck.Name == HostStateCookie && ck.Secure && ck.HttpOnly && ck.Path == "/" && ck.Domain == "" {
			state = ck
		}
	}
	if state == nil {
		t.Fatalf("no __Host-, Secure, HttpOnly state cookie at / in %v", p.Cookies())
	}
	// The callback reads the __Host- cookie, never the plain name, which
	// a page on another port could set for any path.
	back := "/hub/oauth_callback?code=x&state=" + state.Value
	plain := e.client().do("GET", back, nil, http.Header{"Cookie": {StateCookie + "=" + state.Value}})
	wantBody(t, plain, "not started in this browser")
	p = e.client().get("/hub/oauth_login?provider=github")
	u, _ := url.Parse(p.Header.Get("Location"))
	state.Value = u.Query().Get("state")
	wantStatus(t, e.client().do("GET", "/hub/oauth_callback?code=x&state="+state.Value, nil,
		http.Header{"Cookie": {HostStateCookie + "=" + state.Value}}), http.StatusFound)
}

// plantState sets state as the state cookie at the callback's path, as a
// page on another port of the hub's host can.
func (c *client) plantState(back string) {
	u, _ := url.Parse(back)
	c.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: callbackPath},
		[]*http.Cookie{{Name: StateCookie, Value: u.Query().Get("state"), Path: callbackPath}})
}

func TestGitHubLoginNeverSwitchesALoggedInBrowser(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	e.addUser("bob", "bob-password", false)
	e.addUser("teacher", "teacher-password", true)
	gh.LogInAs("alice")

	// mallory (GitHub's alice) starts a login with curl, keeps its state,
	// approves at GitHub and copies the callback's code and state; her
	// page plants the state cookie in a logged-in visitor's browser and
	// sends it to the callback.
	for _, victim := range []string{"bob", "teacher"} {
		back := e.client().startGitHub("")
		before := e.users()
		c := e.loggedIn(victim)
		secret := c.session()
		c.plantState(back)
		p := c.get(back)
		wantStatus(t, p, http.StatusConflict)
		wantBody(t, p, "You are logged in as "+victim+": log out first, then log in with GitHub.")
		if c.session() != secret {
			t.Errorf("%s's browser lost its login", victim)
		}
		if _, err := e.store.LookupSession(context.Background(), secret); err != nil {
			t.Errorf("%s's session was ended: %v", victim, err)
		}
		if e.users() != before {
			t.Errorf("the refused callback changed the accounts:\n%s", e.users())
		}
	}

	// A login cookie planted next to the visitor's (so that the hub does
	// not see their login) does not let the callback through either.
	back := e.client().startGitHub("")
	c := e.loggedIn("bob")
	c.plantState(back)
	c.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: callbackPath},
		[]*http.Cookie{{Name: "jupyterhub-hub-login", Value: "junk", Path: callbackPath}})
	secret := c.session()
	p := c.get(back)
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "did not set")
	if c.session() != secret {
		t.Error("bob's browser lost its login to a planted cookie")
	}
	wantStatus(t, c.get(back), http.StatusConflict)

	// Logging in again as oneself is no switch.
	c = e.client()
	wantStatus(t, c.get(c.startGitHub("")), http.StatusFound)
	wantRedirect(t, c.get(c.startGitHub("/hub/home")), http.StatusFound, "/hub/home")
}

func TestGitHubLoginFailedCallbackUsesUpTheState(t *testing.T) {
	e := newEnv(t)
	gh := e.withGitHub(false)
	gh.LogInAs("alice")
	before := e.users()
	// mallory's browser follows GitHub back to the callback without the
	// state cookie (curl kept it): refused, and the state is spent, so
	// the copied code and state log no other browser in.
	back := e.client().startGitHub("")
	mallory := e.client()
	wantRefused(t, mallory, mallory.get(back), before, http.StatusBadRequest, "not started in this browser")
	victim := e.client()
	victim.plantState(back)
	wantRefused(t, victim, victim.get(back), before, http.StatusBadRequest, "already used")
	// So does a callback with another browser's state cookie.
	back = e.client().startGitHub("")
	other := e.client().startGitHub("")
	mallory = e.client()
	mallory.plantState(other)
	wantRefused(t, mallory, mallory.get(back), before, http.StatusBadRequest, "not started in this browser")
	victim = e.client()
	victim.plantState(back)
	wantRefused(t, victim, victim.get(back), before, http.StatusBadRequest, "already used")
}

func TestSignupLeavesExternalNamesFree(t *testing.T) {
	e := newEnv(t)
	cfg := config.Default()
	cfg.GitHub = config.GitHub{ClientID: "id", AllowedUsers: []string{"Alice", "bob"}, AdminUsers: []string{"teacher"}}
	cfg.OIDC = config.OIDC{Issuer: "https://idp.test"}
	e.hub = core.New(core.Options{Config: cfg, Store: e.store, Spawner: e.spawner, Router: spawnertest.NewRouter(),
		Bus: events.NewBus(64), HubPort: 8081})
	t.Cleanup(e.hub.Close)
	gh := e.withGitHub(false)
	e.setJoinCode("KT7-QX2")

	// A student with the join code tries to take the instructor's GitHub
	// login, a classmate's, and a school address.
	c := e.client()
	xsrf := c.get("/hub/signup").xsrf(t)
	before := e.users()
	for name, says := range map[string]string{"Teacher": "log in with GitHub on the login page", "alice": "log in with GitHub on the login page",
		"teacher@school.example": "use the school login on the login page"} {
		p := c.post("/hub/signup", url.Values{"_xsrf": {xsrf}, "code": {"KT7-QX2"}, "username": {name},
			"password": {"squatters-password"}, "confirm": {"squatters-password"}})
		wantRefused(t, c, p, before, http.StatusConflict, "if not, pick")
		wantBody(t, p, says, "The username "+strings.ToLower(name)+" is kept")
	}
	// So the instructor's GitHub login still works, as an instructor.
	gh.LogInAs("teacher")
	teacher := e.client()
	wantRedirect(t, teacher.get(teacher.startGitHub("")), http.StatusFound, "/hub/")
	if got := e.users(); !strings.Contains(got, `teacher admin=true hash="" must=false login="github"`) {
		t.Errorf("accounts after the teacher's GitHub login:\n%s", got)
	}
	// Other names sign up as before.
	wantStatus(t, c.post("/hub/signup", url.Values{"_xsrf": {xsrf}, "code": {"KT7-QX2"}, "username": {"carol"},
		"password": {"carols-password"}, "confirm": {"carols-password"}}), http.StatusFound)

	// The instructor may add such a name deliberately, warned that the
	// person's external login will be refused.
	root := e.loggedIn("teacher")
	p := root.post("/hub/admin/users", url.Values{"_xsrf": {root.csrf()}, "usernames": {"alice\ndave"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "The username alice is kept for an external login", "will be refused")
	wantNoBody(t, p, "The username dave")
	if _, err := e.store.GetUser(context.Background(), "alice"); err != nil {
		t.Errorf("the instructor could not add alice: %v", err)
	}
}
