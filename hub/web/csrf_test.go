package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/limit"
)

// formHeader is a browser's form post with extra headers.
func formHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// studentOrigin is a student's server: the hub's host on another port.
const studentOrigin = "http://hub.test:8101"

func (e *env) tokenCount(user string) int {
	e.t.Helper()
	toks, err := e.store.ListTokens(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(toks)
}

// A page on another port of the hub's host is the same site but another
// origin: its forms are refused even with the right token, and change
// nothing.
func TestFormsFromAnotherOriginAreRefused(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	form := url.Values{"_xsrf": {c.csrf()}, "action": {"create"}, "note": {"stolen"}, "expires_in": {"0"}}
	for _, hdr := range []http.Header{
		formHeader("Origin", studentOrigin, "Sec-Fetch-Site", "same-site"),
		formHeader("Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"),
		formHeader("Origin", studentOrigin), // plain HTTP on the LAN: no Sec-Fetch-*
		formHeader("Origin", "null"),
	} {
		p := c.do("POST", "/hub/token", strings.NewReader(form.Encode()), hdr)
		wantStatus(t, p, http.StatusForbidden)
		wantBody(t, p, "another port of this computer")
		if p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("the refusal may be framed")
		}
	}
	if n := e.tokenCount("alice"); n != 0 {
		t.Fatalf("refused forms made %d tokens", n)
	}
	// The hub's own page, and a browser that sends neither header.
	for _, hdr := range []http.Header{formHeader("Origin", "http://hub.test", "Sec-Fetch-Site", "same-origin"), formHeader()} {
		wantStatus(t, c.do("POST", "/hub/token", strings.NewReader(form.Encode()), hdr), http.StatusOK)
	}
	if n := e.tokenCount("alice"); n != 2 {
		t.Fatalf("the hub's own forms made %d tokens, want 2", n)
	}
}

// The notebook's API calls reach /hub/user/ from the server's own origin
// when the server is gone; they get the 424 that offers a restart, not a
// refusal.
func TestNotebookCallsToAStoppedServerGetTheir424(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	p := c.do("POST", "/hub/user/alice/api/contents/x.ipynb", strings.NewReader("{}"),
		http.Header{"Content-Type": {"application/json"}, "Origin": {studentOrigin}, "Sec-Fetch-Site": {"same-site"}})
	wantStatus(t, p, http.StatusFailedDependency)
	if e.spawner.Starts("alice") != 0 {
		t.Fatal("the call started the server")
	}
}

// Login CSRF: a page on another port plants the login form's cookie
// (cookies ignore ports) and posts its own account's password, to log
// its visitor in as the student and watch what they type. The origin
// check refuses it; curl, the CLI and forms without Origin still log in.
func TestLoginFromAnotherOriginIsRefused(t *testing.T) {
	e := newEnv(t)
	e.addUser("mallory", "mallory-password", false)
	victim := e.client()
	victim.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}, []*http.Cookie{{Name: formCookie, Value: strings.Repeat("a", 32), Path: "/hub/"}})
	form := url.Values{"_xsrf": {strings.Repeat("a", 32)}, "username": {"mallory"}, "password": {"mallory-password"}}
	p := victim.do("POST", "/hub/login", strings.NewReader(form.Encode()), formHeader("Origin", studentOrigin))
	wantStatus(t, p, http.StatusForbidden)
	if victim.session() != "" {
		t.Fatal("a page on another port logged its visitor in")
	}
	wantStatus(t, victim.do("POST", "/hub/login", strings.NewReader(form.Encode()), formHeader()), http.StatusFound)
	if victim.session() == "" {
		t.Fatal("a login without Origin (curl, the CLI) failed")
	}
}

// /hub/logout is a GET: a link or an image on a student's page must not
// log its visitor out without them saying so.
func TestLogoutAsksUnlessTheHubAsked(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.loggedIn("alice")
	for _, hdr := range []http.Header{
		{"Sec-Fetch-Site": {"same-site"}},
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Referer": {studentOrigin + "/user/bob/files/page.html"}}, // plain HTTP: no Sec-Fetch-*
		nil, // no Referer either: cannot tell, so ask
	} {
		p := c.do("GET", "/hub/logout", nil, hdr)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, "Log out?", `action="/hub/logout"`, `name="_xsrf"`)
		// fetch(…, {method: "HEAD", mode: "no-cors"}) is a safe method too.
		c.do("HEAD", "/hub/logout", nil, hdr)
		if c.session() == "" {
			t.Fatalf("GET or HEAD /hub/logout with %v logged alice out", hdr)
		}
	}
	wantStatus(t, c.post("/hub/logout", url.Values{}), http.StatusForbidden)
	if c.session() == "" {
		t.Fatal("a logout form without the token logged alice out")
	}
	wantRedirect(t, c.post("/hub/logout", url.Values{"_xsrf": {c.csrf()}}), http.StatusFound, "/hub/login")
	if c.session() != "" {
		t.Fatal("the confirmed logout left the session")
	}
	// The menu's link over plain HTTP: the hub's own page as Referer.
	c = e.loggedIn("alice")
	wantRedirect(t, c.do("GET", "/hub/logout", nil, http.Header{"Referer": {"http://hub.test/hub/home"}}), http.StatusFound, "/hub/login")
	if c.session() != "" {
		t.Fatal("the menu's logout link did not log out")
	}
}

// A link on a student's page to /hub/spawn/NAME must not make an admin
// who follows it start NAME's server; the admin gets a button instead. A
// student's own link (the notebook's restart item) still starts theirs.
func TestSpawnOfAnotherServerAsksUnlessTheHubAsked(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	e.addUser("root", "root-password", true)
	root := e.loggedIn("root")
	for _, hdr := range []http.Header{
		{"Sec-Fetch-Site": {"same-site"}},
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Referer": {studentOrigin + "/"}},
		nil,
	} {
		root.do("HEAD", "/hub/spawn/alice", nil, hdr)
		p := root.do("GET", "/hub/spawn/alice", nil, hdr)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, "Start alice&#39;s server?", `method="post" action="/hub/spawn/alice"`, `name="_xsrf"`)
	}
	wantStatus(t, root.post("/hub/spawn/alice", url.Values{}), http.StatusForbidden)
	p := root.do("POST", "/hub/spawn/alice", strings.NewReader(url.Values{"_xsrf": {root.csrf()}}.Encode()),
		formHeader("Origin", studentOrigin))
	wantStatus(t, p, http.StatusForbidden)
	if n := e.spawner.Starts("alice"); n != 0 {
		t.Fatalf("links and forms from elsewhere started alice's server %d times", n)
	}
	wantRedirect(t, root.post("/hub/spawn/alice", url.Values{"_xsrf": {root.csrf()}}), http.StatusFound, "/user/alice/")
	if n := e.spawner.Starts("alice"); n != 1 {
		t.Fatalf("the confirmed start started alice's server %d times, want 1", n)
	}
	wantRedirect(t, e.loggedIn("root").do("GET", "/hub/spawn/bob", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}}), http.StatusFound, "/user/bob/")

	// A student's own restart link, from their server's origin.
	c := e.loggedIn("bob")
	e.hub.Stop(context.Background(), "bob", false)
	wantRedirect(t, c.do("GET", "/hub/spawn/bob", nil, http.Header{"Sec-Fetch-Site": {"same-site"}}), http.StatusFound, "/user/bob/")
}

// The admin page's event feed says who starts and stops: a page that
// runs in the admin's browser gets nothing from it without the token,
// and a planted cookie does not stand in for it.
func TestAdminEventsNeedTheToken(t *testing.T) {
	e, root := adminEnv(t)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	root.jar.SetCookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}, []*http.Cookie{{Name: formCookie, Value: "planted", Path: "/hub/"}})
	for _, target := range []string{"/hub/admin/events", "/hub/admin/events?_xsrf=planted", "/hub/admin/events?_xsrf=" + strings.Repeat("0", 64)} {
		if f := root.openFeedAt(ts, target); f.resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s opened the admin feed: %s", target, f.resp.Status)
		}
	}
	if f := root.openFeed(ts); f.resp.StatusCode != http.StatusOK {
		t.Errorf("the admin page's own feed: %s", f.resp.Status)
	}
}

// An admin's event feeds are capped: a script cannot hold the laptop's
// connections open by the hundred.
func TestAdminEventsAreCappedPerUser(t *testing.T) {
	e, root := adminEnv(t)
	e.web.streams = limit.NewPerKey(2)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	for range 2 {
		if f := root.openFeed(ts); f.resp.StatusCode != http.StatusOK {
			t.Fatalf("feed within the cap: %s", f.resp.Status)
		}
	}
	f := root.openFeed(ts)
	if f.resp.StatusCode != http.StatusTooManyRequests || f.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third feed: %s, Retry-After %q; want 429 with Retry-After", f.resp.Status, f.resp.Header.Get("Retry-After"))
	}
}
