package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/store"
)

// adminEnv has an admin "root", students alice and bob, and root's browser.
func adminEnv(t *testing.T) (*env, *client) {
	e := newEnv(t)
	e.addUser("root", "root-password", true)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	return e, e.loggedIn("root")
}

func TestAdminRefusesStudents(t *testing.T) {
	e, _ := adminEnv(t)
	wantRedirect(t, e.client().get("/hub/admin"), http.StatusFound, "/hub/login?next=%2Fhub%2Fadmin")
	alice := e.loggedIn("alice")
	p := alice.get("/hub/admin")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "for instructors")
	tok := alice.csrf()
	for path, form := range map[string]url.Values{
		"/hub/admin/users":  {"usernames": {"mallory"}},
		"/hub/admin/action": {"action": {"delete"}, "user": {"bob"}, "confirm": {"yes"}},
	} {
		form.Set("_xsrf", tok)
		wantStatus(t, alice.post(path, form), http.StatusForbidden)
	}
	wantStatus(t, postMultipart(alice, "/hub/admin/import", map[string]string{"_xsrf": tok, "roster_text": "mallory"}, "", ""), http.StatusForbidden)
	for _, name := range []string{"mallory"} {
		if _, err := e.store.GetUser(context.Background(), name); err == nil {
			t.Fatalf("a student created %s", name)
		}
	}
	if _, err := e.store.GetUser(context.Background(), "bob"); err != nil {
		t.Fatal("a student deleted bob")
	}
}

func TestAdminPage(t *testing.T) {
	e, root := adminEnv(t)
	e.start("alice")
	if err := e.store.RecordActivity(context.Background(), "alice", "", e.clock.Now().Add(-5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.spawner.FailWith("bob", errBoom)
	e.hub.Start(context.Background(), "bob")
	e.waitReady("bob")

	p := root.get("/hub/admin")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "3 users", "1 running",
		`data-user="alice" data-state="running"`, `href="/user/alice/"`, `data-key="stop:alice"`, "5 minutes ago",
		`data-user="bob" data-state="failed"`, "Start failed", "classhub image build", `data-key="start:bob"`,
		`data-user="root" data-state="stopped"`, `<span class="badge">admin</span>`, `<span class="badge">you</span>`,
		`<script src="/hub/static/admin.js?v=`, `name="usernames"`, `enctype="multipart/form-data"`)
	// Nobody deletes or resets themselves from here.
	wantNoBody(t, p, `data-key="delete:root"`, `data-key="reset-password:root"`)
	wantBody(t, p, `data-key="delete:alice"`, `data-key="reset-password:bob"`)
	wantNoBody(t, p, "/hub/signup")

	p = root.get("/hub/admin?q=AL")
	wantBody(t, p, "1 users matching", `data-user="alice"`)
	wantNoBody(t, p, `data-user="bob"`)

	e.setJoinCode("KT7-QX2")
	wantBody(t, root.get("/hub/admin"), "KT7-QX2", `href="/hub/signup"`)
}

func TestAdminAddUsers(t *testing.T) {
	e, root := adminEnv(t)
	ctx := context.Background()
	tok := root.csrf()
	wantStatus(t, root.post("/hub/admin/users", url.Values{"usernames": {"carol"}}), http.StatusForbidden)
	wantStatus(t, root.post("/hub/admin/users", url.Values{"usernames": {"carol"}, "_xsrf": {"forged"}}), http.StatusForbidden)
	if _, err := e.store.GetUser(ctx, "carol"); err == nil {
		t.Fatal("a forged form added carol")
	}

	p := root.post("/hub/admin/users", url.Values{"_xsrf": {tok}, "usernames": {"carol\nDave Smith\nerin"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "may only hold lowercase letters", "Nobody was added", "carol\nDave Smith\nerin")
	if _, err := e.store.GetUser(ctx, "carol"); err == nil {
		t.Fatal("carol was added from a list with a bad name")
	}
	wantStatus(t, root.post("/hub/admin/users", url.Values{"_xsrf": {tok}, "usernames": {" \n "}}), http.StatusBadRequest)

	// Students get setup codes, shown once with a copy button and as CSV.
	p = root.post("/hub/admin/users", url.Values{"_xsrf": {tok}, "usernames": {"Carol\r\ndave, alice\n\ncarol"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Added 2 users", "1 already existed", "shown only now", `data-copy="secret-0"`, "copy.js")
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q: setup codes must not be cached", cc)
	}
	codes := handouts(t, p)
	if len(codes) != 2 || codes["carol"][1] == "" || codes["dave"][1] == "" || codes["carol"][0] != "" {
		t.Fatalf("handouts %q", codes)
	}
	wantBody(t, p, `value="`+codes["carol"][1]+`"`)
	for _, name := range []string{"carol", "dave"} {
		u, err := e.store.GetUser(ctx, name)
		if err != nil || !u.MustSetPassword || u.Admin || u.PasswordHash != "" {
			t.Fatalf("%s: %+v %v", name, u, err)
		}
		if _, err := e.hub.SetUpAccount(ctx, name, codes[name][1], name+"s-password"); err != nil {
			t.Errorf("%s's setup code from the page: %v", name, err)
		}
	}
	// Shown once: the admin page does not have them.
	wantNoBody(t, root.get("/hub/admin"), codes["carol"][1])
	if strings.Contains(e.logged(), codes["carol"][1]) {
		t.Error("a setup code is in the log")
	}

	// Instructors get a generated password: nobody can claim them.
	p = root.post("/hub/admin/users", url.Values{"_xsrf": {tok}, "usernames": {"frank"}, "admin": {"1"}})
	wantStatus(t, p, http.StatusOK)
	frankPW := handouts(t, p)["frank"][0]
	if u, _ := e.store.GetUser(ctx, "frank"); !u.Admin || u.MustSetPassword ||
		bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(frankPW)) != nil {
		t.Fatalf("frank: %+v, the page's password %q", u, frankPW)
	}

	// Nothing new: back to the admin page.
	p = root.post("/hub/admin/users", url.Values{"_xsrf": {tok}, "usernames": {"carol"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, root.get(p.Header.Get("Location")), "Added 0 users. 1 user already existed")
}

var handoutsRE = regexp.MustCompile(`href="data:text/csv;charset=utf-8;base64,([^"]+)" download="classhub-accounts.csv"`)

// handouts reads the CSV download of a page that shows new credentials:
// each user's password and setup code.
func handouts(t *testing.T, p page) map[string][2]string {
	t.Helper()
	m := handoutsRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no download link:\n%s", p.Body)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 1 || strings.Join(rows[0], ",") != "username,password,setup_code,link" {
		t.Fatalf("CSV %q: %v", raw, err)
	}
	out := map[string][2]string{}
	for _, r := range rows[1:] {
		if !strings.HasPrefix(r[3], "http://hub.test/") {
			t.Errorf("CSV link %q", r[3])
		}
		out[r[0]] = [2]string{r[1], r[2]}
	}
	return out
}

func postMultipart(c *client, path string, fields map[string]string, fileField, fileBody string) page {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, "roster.csv")
		fw.Write([]byte(fileBody))
	}
	mw.Close()
	return c.do("POST", path, &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

func TestAdminImportRoster(t *testing.T) {
	e, root := adminEnv(t)
	ctx := context.Background()
	tok := root.csrf()
	roster := "Username;Password;Email\ncarol;;c@example.org\ndave;daves-password;d@example.org\nalice;;a@example.org\n"

	// CSRF first: a forged upload creates nobody.
	wantStatus(t, postMultipart(root, "/hub/admin/import", nil, "roster", roster), http.StatusForbidden)
	if _, err := e.store.GetUser(ctx, "carol"); err == nil {
		t.Fatal("a forged upload added carol")
	}

	// A bad roster: every problem with its line, nobody added.
	p := postMultipart(root, "/hub/admin/import", map[string]string{"_xsrf": tok, "roster_text": "carol\nBad Name\ncarol\neve,short"}, "", "")
	wantStatus(t, p, http.StatusBadRequest)
	body := html.UnescapeString(p.Body)
	for _, want := range []string{"line 2: invalid username", "line 3: carol is already on line 1", "line 4: eve's password is shorter", "Nobody was added"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if _, err := e.store.GetUser(ctx, "carol"); err == nil {
		t.Fatal("carol was added from a bad roster")
	}

	p = postMultipart(root, "/hub/admin/import", map[string]string{"_xsrf": tok, "generate": "1"}, "roster", roster)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "2 created, 1 already existed", "shown only now", "Created with the password from the file", "Already existed; unchanged")
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q: generated passwords must not be cached", cc)
	}
	rows := handouts(t, p)
	if len(rows) != 1 || rows["carol"][0] == "" {
		t.Fatalf("handouts %q", rows)
	}
	carolPW := rows["carol"][0]
	wantBody(t, p, `<code class="password">`+carolPW+`</code>`)
	carol, _ := e.store.GetUser(ctx, "carol")
	if carol.MustSetPassword || bcrypt.CompareHashAndPassword([]byte(carol.PasswordHash), []byte(carolPW)) != nil {
		t.Fatal("carol's generated password does not log her in")
	}
	dave, _ := e.store.GetUser(ctx, "dave")
	if bcrypt.CompareHashAndPassword([]byte(dave.PasswordHash), []byte("daves-password")) != nil {
		t.Fatal("dave's password from the file was not set")
	}
	if strings.Contains(p.Body, "daves-password") {
		t.Error("a password from the file was echoed")
	}
	alice, _ := e.store.GetUser(ctx, "alice")
	if bcrypt.CompareHashAndPassword([]byte(alice.PasswordHash), []byte("alice-password")) != nil {
		t.Fatal("importing changed an existing user's password")
	}
	// Shown once: the admin page does not have them.
	if strings.Contains(root.get("/hub/admin").Body, carolPW) {
		t.Fatal("the generated password is shown again")
	}

	// Without generate, new students get setup codes.
	p = postMultipart(root, "/hub/admin/import", map[string]string{"_xsrf": tok, "roster_text": "erin\nfrank"}, "", "")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "2 created", "chooses a password at first login with the setup code", "http://hub.test/hub/setup")
	rows = handouts(t, p)
	if u, _ := e.store.GetUser(ctx, "erin"); !u.MustSetPassword || rows["erin"][1] == "" {
		t.Fatalf("erin must choose a password with a code: %+v, %q", u, rows)
	}
	wantBody(t, p, `<code class="password">`+rows["erin"][1]+`</code>`)
	if _, err := e.hub.SetUpAccount(ctx, "erin", rows["erin"][1], "erins-password"); err != nil {
		t.Errorf("erin's setup code from the page: %v", err)
	}
}

func TestAdminActions(t *testing.T) {
	e, root := adminEnv(t)
	ctx := context.Background()
	tok := root.csrf()
	act := func(form url.Values) page {
		form.Set("_xsrf", tok)
		return root.post("/hub/admin/action", form)
	}
	follow := func(p page) page {
		t.Helper()
		wantStatus(t, p, http.StatusSeeOther)
		return root.get(p.Header.Get("Location"))
	}

	wantStatus(t, root.post("/hub/admin/action", url.Values{"action": {"start"}, "user": {"alice"}}), http.StatusForbidden)
	if e.spawner.Starts("alice") != 0 {
		t.Fatal("a forged form started alice's server")
	}

	wantBody(t, follow(act(url.Values{"action": {"start"}, "user": {"alice"}, "q": {"al"}})), "Starting alice&#39;s server.", `value="al"`)
	if s, _ := e.hub.Status(ctx, "alice"); !s.Ready {
		t.Fatal("alice's server did not start")
	}
	wantBody(t, follow(act(url.Values{"action": {"stop"}, "user": {"alice"}})), "Stopped alice&#39;s server.")
	if s, _ := e.hub.Status(ctx, "alice"); s.Ready {
		t.Fatal("alice's server still runs")
	}
	wantStatus(t, act(url.Values{"action": {"start"}, "user": {"nobody"}}), http.StatusNotFound)
	e.spawner.FailWith("bob", errBoom)
	p := act(url.Values{"action": {"start"}, "user": {"bob"}})
	wantStatus(t, p, http.StatusInternalServerError)
	wantBody(t, p, "Start bob: the image classhub/notebook:latest is not in the Docker engine")

	// Destructive actions ask first when the page's script cannot.
	p = act(url.Values{"action": {"delete"}, "user": {"bob"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Delete bob?", "files are kept", `name="confirm" value="yes"`, `name="user" value="bob"`)
	if _, err := e.store.GetUser(ctx, "bob"); err != nil {
		t.Fatal("bob was deleted without confirmation")
	}
	wantBody(t, follow(act(url.Values{"action": {"delete"}, "user": {"bob"}, "confirm": {"yes"}})), "Deleted bob.")
	if _, err := e.store.GetUser(ctx, "bob"); err == nil {
		t.Fatal("bob still exists")
	}
	p = act(url.Values{"action": {"delete"}, "user": {"root"}, "confirm": {"yes"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "cannot delete yourself")

	// Resetting a password: a new setup code, shown once; sessions end,
	// and so do API and OAuth tokens; the running server keeps running.
	e.start("alice")
	alice := e.loggedIn("alice")
	aliceSession, err := e.store.LookupSession(ctx, alice.session())
	if err != nil {
		t.Fatal(err)
	}
	viaSession, _, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindOAuth, SessionID: aliceSession.ID})
	if err != nil {
		t.Fatal(err)
	}
	apiToken, _, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindAPI, Scopes: []string{"inherit"}})
	if err != nil {
		t.Fatal(err)
	}
	oauthToken, _, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindOAuth, ClientID: core.OAuthClientID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{apiToken, oauthToken} {
		if code, body := e.apiCall(false, tok, "GET", "/hub/api/user", ""); code != http.StatusOK {
			t.Fatalf("before the reset: %d %s", code, body)
		}
	}
	wantBody(t, act(url.Values{"action": {"reset-password"}, "user": {"alice"}}), "Reset alice&#39;s password?")
	if u, _ := e.store.GetUser(ctx, "alice"); u.MustSetPassword {
		t.Fatal("reset without confirmation")
	}
	p = act(url.Values{"action": {"reset-password"}, "user": {"alice"}, "confirm": {"yes"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Reset alice&#39;s password", "shown only now")
	code := handouts(t, p)["alice"][1]
	if u, _ := e.store.GetUser(ctx, "alice"); !u.MustSetPassword || u.PasswordHash != "" || code == "" {
		t.Fatalf("alice's password was not reset: %+v, code %q", u, code)
	}
	wantRedirect(t, alice.get("/hub/home"), http.StatusFound, "/hub/login?next=%2Fhub%2Fhome")
	if _, err := e.store.LookupToken(ctx, viaSession); err == nil {
		t.Error("a token issued through alice's login survived the reset")
	}
	for _, tok := range []string{apiToken, oauthToken} {
		if code, body := e.apiCall(false, tok, "GET", "/hub/api/user", ""); code != http.StatusForbidden {
			t.Errorf("a token from before the reset: %d %s", code, body)
		}
	}
	if s, _ := e.hub.Status(ctx, "alice"); !s.Ready {
		t.Error("the reset stopped alice's server")
	}
	if strings.Contains(e.logged(), code) {
		t.Error("the setup code is in the log")
	}
	if _, err := e.hub.SetUpAccount(ctx, "alice", code, "alices-new-password"); err != nil {
		t.Errorf("the reset's setup code: %v", err)
	}
	wantStatus(t, act(url.Values{"action": {"reset-password"}, "user": {"root"}, "confirm": {"yes"}}), http.StatusBadRequest)

	wantStatus(t, act(url.Values{"action": {"explode"}, "user": {"alice"}}), http.StatusBadRequest)
}

func TestAdminStartStopAll(t *testing.T) {
	e, root := adminEnv(t)
	ctx := context.Background()
	e.addUser("carol", "carols-password", false)
	tok := root.csrf()
	e.start("bob")

	p := root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"start-all"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, root.get(p.Header.Get("Location")), "Starting 3 servers.")
	for _, name := range []string{"root", "alice", "bob", "carol"} {
		if s := e.waitReady(name); !s.Ready {
			t.Fatalf("%s is not running", name)
		}
	}
	if n := e.spawner.Starts("bob"); n != 1 {
		t.Errorf("bob, already running, was started again: %d starts", n)
	}

	// Only the users the page lists, and only when confirmed.
	p = root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"stop-all"}, "q": {"a"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Stop 2 servers?", `name="q" value="a"`, `name="action" value="stop-all"`)
	if s, _ := e.hub.Status(ctx, "alice"); !s.Ready {
		t.Fatal("stop-all stopped servers without confirmation")
	}
	p = root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"stop-all"}, "q": {"a"}, "confirm": {"yes"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, root.get(p.Header.Get("Location")), "Stopped 2 servers.")
	for name, running := range map[string]bool{"root": true, "alice": false, "bob": true, "carol": false} {
		if s, _ := e.hub.Status(ctx, name); s.Ready != running {
			t.Errorf("%s running %v, want %v", name, s.Ready, running)
		}
	}

	e.spawner.FailWith("alice", errBoom)
	p = root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"start-all"}})
	wantBody(t, root.get(p.Header.Get("Location")), "Asked 2 servers to start; 1 failed.", "“Why” on a failed row")

	// When every start fails, the page says so rather than "Starting".
	e.spawner.FailWith("carol", errBoom)
	root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"stop-all"}, "confirm": {"yes"}})
	p = root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"start-all"}, "q": {"a"}})
	wantBody(t, root.get(p.Header.Get("Location")), "Asked 2 servers to start; all 2 failed.")

	// Stop all cancels a start still queued too.
	e.spawner.FailWith("carol", nil)
	release := e.spawner.Hold("carol")
	defer release()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel() // the Start call would wait out the slow-spawn time
	go e.hub.Start(sctx, "carol")
	e.waitPending("carol")
	p = root.post("/hub/admin/action", url.Values{"_xsrf": {tok}, "action": {"stop-all"}, "q": {"carol"}, "confirm": {"yes"}})
	wantBody(t, root.get(p.Header.Get("Location")), "Stopped 1 server.")
	if s, _ := e.hub.Status(ctx, "carol"); s.Active() {
		t.Errorf("carol's queued start survived stop-all: %+v", s)
	}
}

func TestDoneSentence(t *testing.T) {
	for q, want := range map[string]string{
		"done=start&user=alice":             "Starting alice's server.",
		"done=start&user=Click+here+to+win": "",
		"done=delete&user=%3Cb%3Ex":         "",
		"done=start-all&n=1":                "Starting 1 server.",
		"done=stop-all&n=3&failed=1":        "Asked 3 servers to stop; 1 failed. The hub's log says why.",
		"done=start-all&n=1&failed=1":       "Asked 1 server to start; it failed. “Why” on a failed row says what went wrong.",
		"done=start-all&n=3&failed=3":       "Asked 3 servers to start; all 3 failed. “Why” on a failed row says what went wrong.",
		"done=added&n=2&skipped=1":          "Added 2 users. 1 user already existed and stayed as they were.",
		"done=whatever&user=alice":          "",
		"done=stop&user=alice&failed=x":     "Stopped alice's server.",
	} {
		v, _ := url.ParseQuery(q)
		if got := doneSentence(v); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
}

// feed is the admin event stream as a browser's EventSource reads it.
type feed struct {
	t    *testing.T
	resp *http.Response
	br   *bufio.Reader
}

// openFeed opens /hub/admin/events on ts with c's cookies and
// anti-forgery token, as the admin page's script does. A deadline
// turns a stream that never says anything into a failure, not a hang.
func (c *client) openFeed(ts *httptest.Server) *feed {
	c.e.t.Helper()
	target := "/hub/admin/events"
	if c.session() != "" {
		target += "?_xsrf=" + url.QueryEscape(c.csrf())
	}
	return c.openFeedAt(ts, target)
}

// openFeedAt opens target on ts with c's cookies.
func (c *client) openFeedAt(ts *httptest.Server, target string) *feed {
	c.e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c.e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+target, nil)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for _, ck := range c.jar.Cookies(&url.URL{Scheme: "http", Host: "hub.test", Path: "/hub/"}) {
		req.AddCookie(ck)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	c.e.t.Cleanup(func() { resp.Body.Close() })
	return &feed{t: c.e.t, resp: resp, br: bufio.NewReader(resp.Body)}
}

// next returns the next event of the bus, skipping keep-alive comments
// and named events (the admin feed's "usage").
func (f *feed) next() events.Event {
	f.t.Helper()
	named := false
	for {
		line, err := f.br.ReadString('\n')
		if err != nil {
			f.t.Fatalf("the feed ended before the next event: %v", err)
		}
		if strings.HasPrefix(line, "event: ") {
			named = true
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || named {
			named = named && line != "\n"
			continue
		}
		var e events.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			f.t.Fatalf("feed line %q: %v", line, err)
		}
		return e
	}
}

// ends reads the feed to its end, failing if another event of the bus
// comes first.
func (f *feed) ends() {
	f.t.Helper()
	named := false
	for {
		line, err := f.br.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			f.t.Fatalf("the feed did not end cleanly: %v", err)
		}
		if strings.HasPrefix(line, "event: ") || named {
			named = line != "\n"
			continue
		}
		if strings.HasPrefix(line, "data: ") {
			f.t.Fatalf("an event after the feed should have ended: %s", line)
		}
	}
}

func TestAdminEvents(t *testing.T) {
	e, root := adminEnv(t)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them

	f := root.openFeed(ts)
	if f.resp.StatusCode != http.StatusOK || f.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed answered %s, %q", f.resp.Status, f.resp.Header.Get("Content-Type"))
	}
	// The admin page has no use for notices or activity; a state change
	// published on the bus comes through as it is.
	bus := e.hub.Bus()
	bus.Publish(events.Event{Kind: events.Notice, User: "alice", Message: "not for the feed"})
	bus.Publish(events.Event{Kind: events.Activity, User: "alice"})
	sent := bus.Publish(events.Event{Kind: events.ServerState, User: "alice", State: "running", Message: "Server ready"})
	if got := f.next(); got.Seq != sent.Seq || got.Kind != events.ServerState || got.User != "alice" || got.State != "running" {
		t.Fatalf("first event %+v, want %+v", got, sent)
	}

	// A real start: its steps, an image pull's bytes among them, and
	// its end.
	release := e.spawner.Hold("bob")
	defer release()
	go e.hub.Start(context.Background(), "bob") // returns when bob is running
	e.waitPending("bob")
	e.spawner.Progress("bob", events.Event{Kind: events.ImageProgress, Progress: 40,
		Message: "Pulling classhub/notebook:latest", Current: 123_400_000, Total: 456_000_000})
	seen := map[events.Kind]bool{}
	for !seen[events.ImageProgress] {
		ev := f.next()
		if ev.User != "bob" {
			t.Fatalf("event for %q during bob's start: %+v", ev.User, ev)
		}
		seen[ev.Kind] = true
	}
	if !seen[events.ServerState] || !seen[events.SpawnProgress] {
		t.Errorf("bob's start sent %v, want a state change and steps", seen)
	}
	// The page the feed makes the browser fetch shows the step.
	wantBody(t, root.get("/hub/admin"), `data-user="bob" data-state="starting"`, `<progress max="100" value="40">`,
		"Pulling classhub/notebook:latest (123.4 MB of 456.0 MB)")
	release()
	for {
		if ev := f.next(); ev.Kind == events.ServerState && ev.User == "bob" && ev.State == "running" {
			break
		}
	}
}

func TestAdminEventsRefusesOthers(t *testing.T) {
	e, _ := adminEnv(t)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them
	for who, c := range map[string]*client{"a student": e.loggedIn("alice"), "nobody": e.client()} {
		f := c.openFeed(ts)
		if f.resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s opened the admin feed: %s", who, f.resp.Status)
		}
	}
}

func TestAdminEventsEndWithTheLogin(t *testing.T) {
	e, root := adminEnv(t)
	e.web.keepAlive = time.Millisecond
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them
	f := root.openFeed(ts)
	if f.resp.StatusCode != http.StatusOK {
		t.Fatalf("feed answered %s", f.resp.Status)
	}
	if _, err := e.store.DeleteSessionsForUser(context.Background(), "root"); err != nil {
		t.Fatal(err)
	}
	f.ends()
}

// TestAdminEventsEndOnShutdown: an open admin page must not keep the hub
// from shutting down, as http.Server.Shutdown waits for every request.
func TestAdminEventsEndOnShutdown(t *testing.T) {
	e, root := adminEnv(t)
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them
	f := root.openFeed(ts)
	if f.resp.StatusCode != http.StatusOK {
		t.Fatalf("feed answered %s", f.resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ts.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with the admin feed open: %v", err)
	}
	f.ends()
}
