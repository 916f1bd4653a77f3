package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/store"
)

// login fills in and posts the login form as a browser does.
func (c *client) login(user, pw, next string) page {
	c.e.t.Helper()
	target := "/hub/login"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	form := c.get(target)
	wantStatus(c.e.t, form, http.StatusOK)
	return c.post(target, url.Values{"_xsrf": {form.xsrf(c.e.t)}, "username": {user}, "password": {pw}})
}

func TestLoginForm(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	p := c.get("/hub/login?next=%2Fuser%2Falice%2Flab")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="username"`, `name="password"`, `name="_xsrf"`, `autocomplete="current-password"`,
		`action="/hub/login?next=%2fuser%2falice%2flab"`)
	var xsrf *http.Cookie
	for _, ck := range p.Cookies() {
		if ck.Name == formCookie {
			xsrf = ck
		}
	}
	if xsrf == nil || !xsrf.HttpOnly || xsrf.Path != "/hub/" || xsrf.Value != p.xsrf(t) {
		t.Fatalf("form cookie %+v does not match the form's _xsrf", xsrf)
	}
	// The same browser keeps its token across page loads.
	if again := c.get("/hub/login"); again.xsrf(t) != p.xsrf(t) {
		t.Error("the form token changed between two loads")
	}
	wantNoBody(t, p, "/hub/signup")
	e.setJoinCode("ABC123")
	wantBody(t, c.get("/hub/login"), `href="/hub/signup"`)
}

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.client()
	p := c.login("  Alice ", "alice-password", "/user/alice/lab")
	wantRedirect(t, p, http.StatusFound, "/user/alice/lab")
	var sess *http.Cookie
	for _, ck := range p.Cookies() {
		if ck.Name == auth.SessionCookie && ck.MaxAge > 0 {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/hub/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, path /hub/", sess)
	}
	s, err := e.store.LookupSession(context.Background(), sess.Value)
	if err != nil || s.User != "alice" {
		t.Fatalf("session %+v, %v", s, err)
	}
	// Logged in, the login page moves on.
	wantRedirect(t, c.get("/hub/login?next=%2Fhub%2Ftoken"), http.StatusFound, "/hub/token")
	wantRedirect(t, c.get("/hub/login"), http.StatusFound, "/hub/")
	// Without next, a login lands on /hub/.
	wantRedirect(t, e.client().login("alice", "alice-password", ""), http.StatusFound, "/hub/")
}

func TestLoginWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	for _, tc := range []struct{ user, pw string }{{"alice", "wrong-password"}, {"nobody", "alice-password"}} {
		c := e.client()
		p := c.login(tc.user, tc.pw, "")
		wantStatus(t, p, http.StatusForbidden)
		wantBody(t, p, "Invalid username or password.", `value="`+tc.user+`"`)
		if c.session() != "" {
			t.Errorf("%s/%s: a session was set", tc.user, tc.pw)
		}
	}
}

func TestLoginBadUsername(t *testing.T) {
	e := newEnv(t)
	p := e.client().login("Bob Smith", "whatever-pw", "")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "may only hold lowercase letters, digits and . _ - @")
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	creds := url.Values{"username": {"alice"}, "password": {"alice-password"}}

	// A cross-site form: no cookie, no token.
	c := e.client()
	p := c.post("/hub/login", creds)
	wantStatus(t, p, http.StatusForbidden)
	if c.session() != "" {
		t.Fatal("logged in without a form token")
	}

	// The browser has a token, but the forged form cannot know it.
	c.get("/hub/login")
	for _, tok := range []string{"", "0123456789abcdef0123456789abcdef"} {
		form := url.Values{"_xsrf": {tok}}
		for k, v := range creds {
			form[k] = v
		}
		wantStatus(t, c.post("/hub/login", form), http.StatusForbidden)
		if c.session() != "" {
			t.Fatalf("logged in with _xsrf %q", tok)
		}
	}
	// The refusal is a login form again, usable right away.
	p = c.post("/hub/login", creds)
	wantBody(t, p, "too old or came from another site")
	form := url.Values{"_xsrf": {p.xsrf(t)}}
	for k, v := range creds {
		form[k] = v
	}
	wantStatus(t, c.post("/hub/login", form), http.StatusFound)
}

func TestLoginNextOpenRedirect(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example",
		"javascript:alert(1)", "evil.example", "http:evil.example"} {
		c := e.client()
		wantRedirect(t, c.login("alice", "alice-password", next), http.StatusFound, "/hub/")
		wantRedirect(t, c.get("/hub/login?next="+url.QueryEscape(next)), http.StatusFound, "/hub/")
		// Nor does the form carry it on.
		wantNoBody(t, e.client().get("/hub/login?next="+url.QueryEscape(next)), "evil.example")
	}
}

// TestFirstLoginSetsPassword: a class with claim_accounts lets the first
// login of a pre-created student choose its password.
func TestFirstLoginSetsPassword(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "", false)
	ctx := context.Background()
	wantNoBody(t, e.client().get("/hub/login"), "the password you type the first time becomes your password")
	e.setClaimAccounts(true)
	wantBody(t, e.client().get("/hub/login"), "the password you type the first time becomes your password")

	// A password that breaks the rules is refused, saying the rule, and
	// sets nothing.
	c := e.client()
	p := c.login("bob", "short", "/hub/home")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "first login", "too short", strconv.Itoa(auth.MinPasswordLen), `value="bob"`)
	wantNoBody(t, p, `name="confirm"`)
	if u, _ := e.store.GetUser(ctx, "bob"); !u.MustSetPassword || u.PasswordHash != "" {
		t.Fatal("a refused password was set")
	}
	if c.session() != "" {
		t.Fatal("logged in with a refused password")
	}

	// The first password typed on the login form is hers, and she is in.
	wantRedirect(t, c.login("bob", "bobs-new-password", "/hub/home"), http.StatusFound, "/hub/home")
	if s, err := e.store.LookupSession(ctx, c.session()); err != nil || s.User != "bob" {
		t.Fatalf("no session for bob after the first login: %+v, %v", s, err)
	}
	u, _ := e.store.GetUser(ctx, "bob")
	if u.MustSetPassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("bobs-new-password")) != nil {
		t.Fatalf("password not stored: %+v", u)
	}
	if !strings.Contains(e.logs.String(), "bob set their password at first login") {
		t.Errorf("the first login was not logged: %s", e.logs.String())
	}
	// From now on it is an ordinary account.
	wantStatus(t, e.client().login("bob", "another-password", ""), http.StatusForbidden)
	wantRedirect(t, e.client().login("bob", "bobs-new-password", ""), http.StatusFound, "/hub/")
}

// TestFirstLoginRace has two people log in to the same unclaimed account
// at once with different passwords: one gets in, the other is told the
// password is wrong.
func TestFirstLoginRace(t *testing.T) {
	e := newEnv(t)
	e.setClaimAccounts(true)
	e.addUser("bob", "", false)
	type result struct {
		pw string
		p  page
	}
	var wg sync.WaitGroup
	results := make(chan result, 2)
	start := make(chan struct{})
	for i, pw := range []string{"first-claimer-pw", "second-claimer-pw"} {
		c := e.client()
		c.addr = "192.0.2." + strconv.Itoa(30+i)
		form := c.get("/hub/login")
		wg.Go(func() {
			<-start
			results <- result{pw, c.post("/hub/login", url.Values{"_xsrf": {form.xsrf(t)}, "username": {"bob"}, "password": {pw}})}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var in []string
	for r := range results {
		switch r.p.StatusCode {
		case http.StatusFound:
			in = append(in, r.pw)
		case http.StatusForbidden:
			wantBody(t, r.p, "Invalid username or password.")
		default:
			t.Errorf("%s: status %d:\n%s", r.pw, r.p.StatusCode, r.p.Body)
		}
	}
	if len(in) != 1 {
		t.Fatalf("%d people got in (%v), want exactly 1", len(in), in)
	}
	u, _ := e.store.GetUser(context.Background(), "bob")
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(in[0])) != nil {
		t.Errorf("bob's password is not that of the one who got in (%s)", in[0])
	}
}

// TestOwnerCannotBeClaimed types the name of an admin without a password
// that is not waiting for one, as the laptop's owner is (they log in by
// the tray's login links only).
func TestOwnerCannotBeClaimed(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.CreateUser(context.Background(), store.NewUser{Name: "owner", Admin: true}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	p := c.login("owner", "i am the owner now", "/hub/admin")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "Invalid username or password.")
	if c.session() != "" {
		t.Fatal("typing the owner's name logged in")
	}
	if u, _ := e.store.GetUser(context.Background(), "owner"); u.PasswordHash != "" || u.MustSetPassword {
		t.Fatalf("the owner's account changed: %+v", u)
	}
}

func TestLoginDelayPerNameAndAddress(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	guesser := e.client()
	for i := 0; i < pairFree; i++ {
		wantStatus(t, guesser.login("alice", "guess-"+strconv.Itoa(i), ""), http.StatusForbidden)
	}
	p := guesser.login("alice", "alice-password", "")
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many failed logins for alice", "Try again in 1 second.")
	if ra := p.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	if guesser.session() != "" {
		t.Fatal("logged in while slowed down")
	}
	// Each failure doubles the wait, up to its cap.
	want := time.Second
	for want < pairMaxDelay {
		e.clock.Advance(want)
		wantStatus(t, guesser.login("alice", "another-guess", ""), http.StatusForbidden)
		want *= 2
		p = guesser.login("alice", "alice-password", "")
		wantStatus(t, p, http.StatusTooManyRequests)
		if ra := p.Header.Get("Retry-After"); ra != strconv.Itoa(int(min(want, pairMaxDelay).Seconds())) {
			t.Fatalf("Retry-After %q, want %v", ra, min(want, pairMaxDelay))
		}
	}
	wantBody(t, p, "Try again at "+e.clock.Now().Add(pairMaxDelay).Format("15:04"), "in 4 minutes")

	// The owner, elsewhere, is not slowed; nor is another account here.
	owner := e.client()
	owner.addr = "198.51.100.7"
	wantStatus(t, owner.login("alice", "alice-password", ""), http.StatusFound)
	e.addUser("bob", "bobs-password", false)
	wantStatus(t, guesser.login("bob", "bobs-password", ""), http.StatusFound)

	e.clock.Advance(pairMaxDelay)
	wantStatus(t, e.client().login("alice", "alice-password", ""), http.StatusFound)
}

func TestLoginRateLimitSuccessResets(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	for round := 0; round < 2; round++ {
		for i := 0; i < pairFree-1; i++ {
			wantStatus(t, e.client().login("alice", "typo", ""), http.StatusForbidden)
		}
		wantStatus(t, e.client().login("alice", "alice-password", ""), http.StatusFound)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	for i := 0; i < addrFailures; i++ {
		// Different usernames, so only the address limit can trip.
		// (Existing ones: a missing user costs a full-cost bcrypt.)
		name := "user" + strconv.Itoa(i)
		e.addUser(name, "right-password", false)
		wantStatus(t, e.client().login(name, "guess", ""), http.StatusForbidden)
	}
	p := e.client().login("alice", "alice-password", "")
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "from this computer")
	other := e.client()
	other.addr = "203.0.113.5"
	wantStatus(t, other.login("alice", "alice-password", ""), http.StatusFound)
	e.clock.Advance(failWindow)
	wantStatus(t, e.client().login("alice", "alice-password", ""), http.StatusFound)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	ctx := context.Background()
	c := e.client()
	wantStatus(t, c.login("alice", "alice-password", ""), http.StatusFound)
	secret := c.session()
	sess, err := e.store.LookupSession(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	// A token issued through the session (as OAuth tokens in server
	// cookies are) and one made on its own.
	viaSession, _, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindOAuth, SessionID: sess.ID})
	if err != nil {
		t.Fatal(err)
	}
	own, _, err := e.store.CreateToken(ctx, store.TokenSpec{User: "alice", Kind: store.KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	// The menu's link, on the hub's own page.
	wantRedirect(t, c.do("GET", "/hub/logout", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}}), http.StatusFound, "/hub/login")
	if c.session() != "" {
		t.Error("the session cookie was not cleared")
	}
	if _, err := e.store.LookupSession(ctx, secret); err == nil {
		t.Error("the session still exists")
	}
	if _, err := e.store.LookupToken(ctx, viaSession); err == nil {
		t.Error("a token issued through the session survived logout")
	}
	if _, err := e.store.LookupToken(ctx, own); err != nil {
		t.Errorf("an unrelated token was revoked: %v", err)
	}
	wantRedirect(t, c.get("/hub/home"), http.StatusFound, "/hub/login?next=%2Fhub%2Fhome")
}

func TestLoginLink(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	ctx := context.Background()
	secret, err := e.store.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	wantRedirect(t, c.get("/hub/login-link/"+secret), http.StatusFound, "/hub/spawn/alice")
	if s, err := e.store.LookupSession(ctx, c.session()); err != nil || s.User != "alice" {
		t.Fatalf("no session for alice: %+v %v", s, err)
	}
	// Single use.
	again := e.client()
	p := again.get("/hub/login-link/" + secret)
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "already used or has expired")
	if again.session() != "" {
		t.Fatal("a used link logged in again")
	}

	// next is honoured when it stays on the site.
	secret, _ = e.store.CreateLoginLink(ctx, "alice", time.Minute)
	wantRedirect(t, e.client().get("/hub/login-link/"+secret+"?next=%2Fuser%2Falice%2Ftree"), http.StatusFound, "/user/alice/tree")
	secret, _ = e.store.CreateLoginLink(ctx, "alice", time.Minute)
	wantRedirect(t, e.client().get("/hub/login-link/"+secret+"?next=https%3A%2F%2Fevil.example%2F"), http.StatusFound, "/hub/spawn/alice")

	// A link replaces whoever was logged in before.
	e.addUser("bob", "bobs-password", false)
	bob := e.loggedIn("bob")
	old := bob.session()
	secret, _ = e.store.CreateLoginLink(ctx, "alice", time.Minute)
	wantStatus(t, bob.get("/hub/login-link/"+secret), http.StatusFound)
	if s, err := e.store.LookupSession(ctx, bob.session()); err != nil || s.User != "alice" {
		t.Fatalf("session after the link: %+v %v", s, err)
	}
	if _, err := e.store.LookupSession(ctx, old); err == nil {
		t.Error("the previous session was left behind")
	}
}

func TestLoginLinkGuessingIsLimited(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	c := e.client()
	for i := 0; i < pairFree; i++ {
		wantStatus(t, c.get("/hub/login-link/guess"+strconv.Itoa(i)), http.StatusForbidden)
	}
	secret, _ := e.store.CreateLoginLink(context.Background(), "alice", time.Minute)
	wantStatus(t, c.get("/hub/login-link/"+secret), http.StatusTooManyRequests)
	if c.session() != "" {
		t.Fatal("logged in while rate-limited")
	}
	// Refused without being spent.
	e.clock.Advance(time.Second)
	wantStatus(t, c.get("/hub/login-link/"+secret), http.StatusFound)
}

func TestSignup(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	wantStatus(t, c.get("/hub/signup"), http.StatusNotFound)
	wantStatus(t, c.post("/hub/signup", url.Values{"code": {""}}), http.StatusNotFound)

	e.setJoinCode("KT7-QX2")
	p := c.get("/hub/signup?code=KT7-QX2")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="code"`, `value="KT7-QX2"`, `name="username"`, `name="confirm"`)
	xsrf := p.xsrf(t)
	try := func(code, user, pw, confirm string) page {
		return c.post("/hub/signup", url.Values{"_xsrf": {xsrf}, "code": {code}, "username": {user}, "password": {pw}, "confirm": {confirm}})
	}
	p = try("WRONG", "carol", "carols-password", "carols-password")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "class code is not right")
	p = try("kt7-qx2", "Carol Smith", "carols-password", "carols-password")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "may only hold lowercase letters")
	wantStatus(t, try("kt7-qx2", "carol", "carols-password", "carols-passwort"), http.StatusBadRequest)
	wantStatus(t, try("kt7-qx2", "carol", "short", "short"), http.StatusBadRequest)
	e.addUser("dave", "daves-password", false)
	p = try("kt7-qx2", "dave", "carols-password", "carols-password")
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "dave is taken")
	if _, err := e.store.GetUser(context.Background(), "carol"); err == nil {
		t.Fatal("carol was created by a refused sign-up")
	}

	wantRedirect(t, try(" kt7-QX2 ", "Carol", "carols-password", "carols-password"), http.StatusFound, "/hub/spawn/carol")
	u, err := e.store.GetUser(context.Background(), "carol")
	if err != nil || u.Admin || u.MustSetPassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("carols-password")) != nil {
		t.Fatalf("carol: %+v, %v", u, err)
	}
	if s, _ := e.store.LookupSession(context.Background(), c.session()); s.User != "carol" {
		t.Fatal("carol is not logged in after signing up")
	}

	// Sign-up forms need the form token too, and wrong codes are limited.
	forged := e.client()
	wantStatus(t, forged.post("/hub/signup", url.Values{"code": {"KT7-QX2"}, "username": {"eve"}, "password": {"eves-password"},
		"confirm": {"eves-password"}}), http.StatusForbidden)
	guesser := e.client()
	guesser.addr = "203.0.113.9"
	gx := guesser.get("/hub/signup").xsrf(t)
	for i := 0; i < pairFree; i++ {
		wantStatus(t, guesser.post("/hub/signup", url.Values{"_xsrf": {gx}, "code": {"GUESS" + strconv.Itoa(i)}}), http.StatusForbidden)
	}
	p = guesser.post("/hub/signup", url.Values{"_xsrf": {gx}, "code": {"KT7-QX2"}, "username": {"eve"}, "password": {"eves-password"},
		"confirm": {"eves-password"}})
	wantStatus(t, p, http.StatusTooManyRequests)
	if _, err := e.store.GetUser(context.Background(), "eve"); err == nil {
		t.Fatal("eve signed up while rate-limited")
	}

	// Turning the code off closes sign-up at once.
	e.setJoinCode("")
	wantStatus(t, e.client().get("/hub/signup"), http.StatusNotFound)
}

func TestSameCode(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		ok        bool
	}{
		{"abc123", "ABC123", true},
		{" ab c1 23 ", "ABC123", true},
		{"ABC124", "ABC123", false},
		{"", "ABC123", false},
		{"ABC1234", "ABC123", false},
	} {
		if sameCode(tc.got, tc.want) != tc.ok {
			t.Errorf("sameCode(%q, %q) = %v", tc.got, tc.want, !tc.ok)
		}
	}
}

// guessAtOnce loads the login form in each of clients, then posts a wrong
// password for name from all of them at the same moment. It returns each
// post's status (-1 for a 429 without Retry-After), how many posts got
// each, and how many were checked against the hash.
func guessAtOnce(t *testing.T, e *env, name string, clients []*client) (statuses []int, codes map[int]int, checks int) {
	t.Helper()
	var checked atomic.Int32
	check := e.web.checkPassword
	e.web.checkPassword = func(ctx context.Context, name, pw string) (store.User, bool, error) {
		checked.Add(1)
		return check(ctx, name, pw)
	}
	defer func() { e.web.checkPassword = check }()
	forms := make([]url.Values, len(clients))
	for i, c := range clients {
		forms[i] = url.Values{"_xsrf": {c.get("/hub/login").xsrf(t)}, "username": {name}, "password": {"guess-" + strconv.Itoa(i)}}
	}
	statuses = make([]int, len(clients))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p := c.post("/hub/login", forms[i])
			statuses[i] = p.StatusCode
			if p.StatusCode == http.StatusTooManyRequests && p.Header.Get("Retry-After") == "" {
				statuses[i] = -1
			}
		}()
	}
	close(start)
	wg.Wait()
	codes = map[int]int{}
	for _, s := range statuses {
		codes[s]++
	}
	return statuses, codes, int(checked.Load())
}

// realUser creates name with its password hashed as the hub hashes it,
// so each check costs a full bcrypt.
func realUser(t *testing.T, e *env, name, pw string) {
	t.Helper()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateUser(context.Background(), store.NewUser{Name: name, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

// TestLoginParallelGuessesFromOneAddress is finding 7 (a): 100 wrong
// passwords sent at once from one machine. Only the free tries reach the
// hash; the rest are told to wait, and the owner, elsewhere, logs in.
func TestLoginParallelGuessesFromOneAddress(t *testing.T) {
	e := newEnv(t)
	realUser(t, e, "alice", "alice-password")
	clients := make([]*client, 100)
	for i := range clients {
		clients[i] = e.client()
		clients[i].addr = "192.0.2.66"
	}
	_, codes, checks := guessAtOnce(t, e, "alice", clients)
	if checks > pairFree || codes[http.StatusForbidden] != checks || codes[http.StatusTooManyRequests] != 100-checks || codes[-1] != 0 {
		t.Fatalf("100 parallel guesses: %d checked against the hash, answers %v; want at most %d checked and the rest 429 with Retry-After",
			checks, codes, pairFree)
	}
	owner := e.client()
	owner.addr = "198.51.100.7"
	wantStatus(t, owner.login("alice", "alice-password", ""), http.StatusFound)
}

// TestLoginParallelGuessesFromManyAddresses is finding 7 (a) and (b) from
// a hundred machines: the name locks after nameFailures tries, and the
// owner still logs in from an address that has not failed. (A cheap hash:
// fifty full ones take a minute under the race detector.)
func TestLoginParallelGuessesFromManyAddresses(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	clients := make([]*client, 100)
	for i := range clients {
		clients[i] = e.client()
		clients[i].addr = "10.9." + strconv.Itoa(i/200) + "." + strconv.Itoa(1+i%200)
	}
	statuses, codes, checks := guessAtOnce(t, e, "alice", clients)
	// The lock trips at the last counted try; one more may go through it
	// from an address that has not failed.
	if checks > nameFailures+1 || codes[http.StatusForbidden] != checks || codes[http.StatusTooManyRequests] != 100-checks || codes[-1] != 0 {
		t.Fatalf("100 parallel guesses from 100 addresses: %d checked against the hash, answers %v; want at most %d checked and the rest 429 with Retry-After",
			checks, codes, nameFailures+1)
	}
	// One guess went through the lock; the next waits its turn.
	owner := e.client()
	owner.addr = "198.51.100.7"
	p := owner.login("alice", "alice-password", "")
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Try again in 10 seconds.")
	e.clock.Advance(throughEvery)
	wantStatus(t, owner.login("alice", "alice-password", ""), http.StatusFound)
	// A guesser is locked out until the lock ends, right password or not.
	again := e.client()
	for i, s := range statuses {
		if s == http.StatusForbidden {
			again.addr = clients[i].addr
		}
	}
	p = again.login("alice", "alice-password", "")
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Try again at "+e.clock.Now().Add(nameLock-throughEvery).Format("15:04"))
	e.clock.Advance(nameLock)
	wantStatus(t, again.login("alice", "alice-password", ""), http.StatusFound)
}

// TestSignupParallelWrongCodes: the class code is guessed like a
// password, so 100 wrong codes sent at once from one machine get only the
// free tries, and a student elsewhere still signs up.
func TestSignupParallelWrongCodes(t *testing.T) {
	e := newEnv(t)
	e.setJoinCode("KT7-QX2")
	forms := make([]url.Values, 100)
	clients := make([]*client, 100)
	for i := range clients {
		clients[i] = e.client()
		clients[i].addr = "192.0.2.66"
		forms[i] = url.Values{"_xsrf": {clients[i].get("/hub/signup").xsrf(t)}, "code": {"GUESS" + strconv.Itoa(i)},
			"username": {"eve" + strconv.Itoa(i)}, "password": {"eves-password"}, "confirm": {"eves-password"}}
	}
	var wg sync.WaitGroup
	var wrong, slowed atomic.Int32
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			switch p := c.post("/hub/signup", forms[i]); p.StatusCode {
			case http.StatusForbidden:
				wrong.Add(1)
			case http.StatusTooManyRequests:
				if p.Header.Get("Retry-After") != "" {
					slowed.Add(1)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if wrong.Load() > pairFree || wrong.Load()+slowed.Load() != 100 {
		t.Fatalf("100 parallel wrong class codes: %d compared, %d told to wait; want at most %d compared and the rest 429 with Retry-After",
			wrong.Load(), slowed.Load(), pairFree)
	}
	student := e.client()
	student.addr = "198.51.100.7"
	xsrf := student.get("/hub/signup").xsrf(t)
	wantRedirect(t, student.post("/hub/signup", url.Values{"_xsrf": {xsrf}, "code": {"KT7-QX2"}, "username": {"carol"},
		"password": {"carols-password"}, "confirm": {"carols-password"}}), http.StatusFound, "/hub/spawn/carol")
}

// TestLoginLinkSecretIsNeverLogged: a link the hub cannot check, its
// state gone, is logged by its route alone; the secret would log
// someone in.
func TestLoginLinkSecretIsNeverLogged(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	secret, err := e.store.CreateLoginLink(context.Background(), "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.store.Close()
	wantStatus(t, e.client().get("/hub/login-link/"+secret), http.StatusInternalServerError)
	logged := e.logged()
	if !strings.Contains(logged, "/hub/login-link/…") {
		t.Errorf("the failure was not logged by its route:\n%s", logged)
	}
	if strings.Contains(logged, secret) {
		t.Errorf("the login link's secret is in the log:\n%s", logged)
	}
}
