package gate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/classhub/classhub/hub/auth"
)

// countingLogins counts the tokens the gate asks the store about.
type countingLogins struct {
	Logins
	asked atomic.Int64
}

func (c *countingLogins) FromToken(ctx context.Context, secret string) (auth.Principal, error) {
	c.asked.Add(1)
	return c.Logins.FromToken(ctx, secret)
}

// A request anyone can send, with thousands of made-up login cookies in
// its headers (the public listener takes a megabyte of them, and net/http
// parses up to 3000), has the store asked about a few of them, not about
// each: otherwise every such request costs the hub thousands of lookups. The owner's real login,
// first among a browser's few, still admits her.
func TestManyLoginCookiesAreNotEachLookedUp(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	if res, _ := alice.open("alice", "/user/alice/lab"); res.StatusCode != 200 {
		t.Fatal("alice cannot open her server")
	}
	tok := alice.loginCookie("alice")
	logins := &countingLogins{Logins: e.auth}
	g := New(Options{Logins: logins, ErrorLog: discard})

	var b strings.Builder
	for i := range 2900 {
		b.WriteString(LoginCookie + "=made-up-" + strconv.Itoa(i) + "; ")
	}
	req := httptest.NewRequest(http.MethodGet, "/user/alice/api/contents", nil)
	req.Header.Set("Cookie", b.String())
	if g.Admit(httptest.NewRecorder(), req, "alice") {
		t.Fatal("made-up cookies admitted")
	}
	if n := logins.asked.Load(); n > maxLogins {
		t.Errorf("one request had the store asked about %d tokens, want at most %d", n, maxLogins)
	}

	req = httptest.NewRequest(http.MethodGet, "/user/alice/api/contents", nil)
	req.Header.Set("Cookie", LoginCookie+"=x; "+LoginCookie+"="+tok)
	if !g.Admit(httptest.NewRecorder(), req, "alice") {
		t.Error("her login after one stale cookie no longer admits her")
	}
}

var _ Logins = (*countingLogins)(nil)

// The OAuth callback, however its path is spelled (escapes, dot
// segments, doubled slashes, case, the user's name escaped), is answered
// by the gate or redirected, never forwarded: a code in its address
// reaches no server, even with a login for it.
func TestCallbackSpellingsNeverReachTheServer(t *testing.T) {
	e := newEnv(t)
	alice := e.browser("alice")
	if res, _ := alice.open("alice", "/user/alice/lab"); res.StatusCode != 200 {
		t.Fatal("alice cannot open her server")
	}
	e.reached()
	for _, p := range []string{
		"/user/alice/oauth_callback", "/user/alice/oauth%5Fcallback", "/user/alice/oauth%5fcallback",
		"/user/%61lice/oauth_callback", "/user/alice//oauth_callback", "/user/alice/./oauth_callback",
		"/user/alice/x/../oauth_callback", "/user/alice/%2e/oauth_callback", "/user/alice/x/%2e%2e/oauth_callback",
		"/USER/alice/oauth_callback", "/user//alice/oauth_callback", "/user/alice/%2Foauth_callback",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
			req, _ := http.NewRequest(method, e.origins["alice"].URL+p+"?code=victims-code&state=S", nil)
			req.Header.Set("Sec-Fetch-Mode", "navigate")
			alice.do(req)
		}
	}
	for _, s := range e.reached() {
		if strings.Contains(s.path, "oauth_callback") {
			t.Errorf("a callback reached the server as %q", s.path)
		}
	}
}
