package gate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
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

// A page of alice's server, opened by the instructor, cannot use the
// instructor's login for bob's server (bob's origin is this host on
// another port, so the cookie goes along) to load bob's files as scripts
// or images, fetch them, frame his server, or set off a GET: the browser says such a
// request came from another origin's page and was no navigation. The
// instructor opening bob's server from anywhere, and bob's own pages,
// still work.
func TestAnotherServersPageCannotUseALogin(t *testing.T) {
	e := newEnv(t)
	teacher := e.browser("teacher")
	teacher.open("bob", "/user/bob/lab")
	form := url.Values{"client_id": {core.OAuthClientID("bob")}, "redirect_uri": {core.OAuthCallback("bob")},
		"response_type": {"code"}, "state": {stateOf(t, teacher, "bob")}, "_xsrf": {auth.CSRFToken(teacher.session)}}
	req, _ := http.NewRequest(http.MethodPost, e.main.URL+api.AuthorizePath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if res, body := teacher.do(req); res.StatusCode != 200 || !strings.HasPrefix(body, "bob's server") {
		t.Fatalf("the teacher's consent = %d %q", res.StatusCode, body)
	}
	e.reached()
	get := func(site, mode, dest string) int {
		req, _ := http.NewRequest(http.MethodGet, e.origins["bob"].URL+"/user/bob/files/work/solution.js", nil)
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", mode)
		req.Header.Set("Sec-Fetch-Dest", dest)
		req.Header.Set("Referer", e.origins["alice"].URL+"/user/alice/files/evil.html")
		res, _ := teacher.do(req)
		return res.StatusCode
	}
	for _, tc := range [][3]string{{"same-site", "no-cors", "script"}, {"same-site", "no-cors", "image"}, {"same-site", "cors", "empty"},
		{"cross-site", "no-cors", "script"}, {"same-site", "navigate", "iframe"}} {
		if st := get(tc[0], tc[1], tc[2]); st != http.StatusForbidden {
			t.Errorf("a %s %s request for a %s = %d, want 403", tc[0], tc[1], tc[2], st)
		}
	}
	if got := e.reached(); len(got) != 0 {
		t.Errorf("requests from alice's page reached bob's server: %+v", got)
	}
	for _, tc := range [][3]string{{"same-site", "navigate", "document"}, {"same-origin", "cors", "empty"}, {"none", "navigate", "document"}} {
		if st := get(tc[0], tc[1], tc[2]); st != http.StatusOK {
			t.Errorf("a %s %s request for a %s = %d, want 200", tc[0], tc[1], tc[2], st)
		}
	}
}

// HEAD and OPTIONS, a CORS preflight among them, reach no server without
// a login; a HEAD that looks like opening a page is sent to log in.
func TestHeadAndOptionsWithoutLogin(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, mode string
		want         int
	}{
		{http.MethodHead, "navigate", http.StatusFound},
		{http.MethodHead, "cors", http.StatusForbidden},
		{http.MethodOptions, "cors", http.StatusForbidden},
		{http.MethodOptions, "navigate", http.StatusForbidden},
		{http.MethodOptions, "", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(tc.method, e.origins["alice"].URL+"/user/alice/api/contents", nil)
		if tc.mode != "" {
			req.Header.Set("Sec-Fetch-Mode", tc.mode)
		}
		req.Header.Set("Access-Control-Request-Method", "PUT")
		res, err := noRedirects().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s (%s) = %d, want %d", tc.method, tc.mode, res.StatusCode, tc.want)
		}
	}
	if got := e.reached(); len(got) != 0 {
		t.Errorf("requests without a login reached the server: %+v", got)
	}
}
