package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/store"
)

const appRedirect = "http://127.0.0.1:49152/callback"

// pkce is a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// appAuthorize sends who's browser to the authorization endpoint as the
// app would (GET) or as the consent page's Allow does (POST, with who's
// anti-forgery token); it returns the recorder.
func appAuthorize(t *testing.T, a *API, who cred, method string, q url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if method == "POST" {
		f := url.Values{"_xsrf": {who.xsrf}}
		for k, v := range q {
			f[k] = v
		}
		req = httptest.NewRequest("POST", AuthorizePath, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest("GET", AuthorizePath+"?"+q.Encode(), nil)
	}
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: who.cookie})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

func appQuery(challenge string) url.Values {
	return url.Values{"client_id": {auth.AppClientID}, "redirect_uri": {appRedirect}, "response_type": {"code"}, "state": {"st"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// appCode runs who's consent and returns the code the hub sends the app.
func appCode(t *testing.T, a *API, who cred, challenge string) string {
	t.Helper()
	rec := appAuthorize(t, a, who, "POST", appQuery(challenge))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" ||
		!strings.HasPrefix(loc.String(), appRedirect+"?") {
		t.Fatalf("the app's authorize = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	return loc.Query().Get("code")
}

func appExchange(t *testing.T, a *API, code, verifier, redirect string) (int, string) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {auth.AppClientID}, "redirect_uri": {redirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return do(t, a.Handler(), cred{}, "POST", "/hub/api/oauth2/token", f.Encode())
}

func appToken(t *testing.T, a *API, who cred, seed string) string {
	t.Helper()
	verifier, challenge := pkce(seed)
	status, body := appExchange(t, a, appCode(t, a, who, challenge), verifier, appRedirect)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal([]byte(body), &tok); status != 200 || tok.AccessToken == "" {
		t.Fatalf("the app's token exchange = %d %s", status, body)
	}
	return tok.AccessToken
}

// The app's login asks every time, even for the user's own server, and
// its token, even an admin's, acts on the user's own server and identity
// only; the token is an "oauth" one in the user's list, which it can
// delete itself, and deleting it leaves other learners' apps logged in.
func TestAppLoginGivesAnOwnServerToken(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	teacher, alice := login(t, authn, "teacher"), login(t, authn, "alice")

	_, challenge := pkce("a")
	rec := appAuthorize(t, a, teacher, "GET", appQuery(challenge))
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "code=") || !strings.Contains(rec.Body.String(), "the classhub app") {
		t.Fatalf("a GET from the app issued a code or no consent page: %d %s %s", rec.Code, loc, rec.Body)
	}

	tok := appToken(t, a, teacher, "t")
	aliceTok := appToken(t, a, alice, "u")
	me := cred{token: tok}
	status, body := do(t, a.Handler(), me, "GET", "/hub/api/user", "")
	var self struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		TokenID string   `json:"token_id"`
	}
	json.Unmarshal([]byte(body), &self)
	if status != 200 || self.Name != "teacher" || self.TokenID == "" {
		t.Fatalf("/hub/api/user with the app's token = %d %s", status, body)
	}
	for _, s := range self.Scopes {
		if strings.HasPrefix(s, "admin") || !strings.Contains(s, "=teacher") {
			t.Errorf("the app's token for the instructor holds %q", s)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/hub/api/users/teacher/server", "{}"},
		{"GET", "/hub/api/users/teacher/server/progress", ""},
		{"DELETE", "/hub/api/users/teacher/server", ""},
	} {
		if status, body := do(t, a.Handler(), me, c.method, c.path, c.body); status >= 300 {
			t.Errorf("%s %s with the app's token = %d %s", c.method, c.path, status, body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/hub/api/users/alice/server", "{}"},
		{"DELETE", "/hub/api/users/alice/server", ""},
		{"GET", "/hub/api/users/alice", ""},
		{"GET", "/hub/api/users", ""},
		{"POST", "/hub/api/users/teacher/tokens", "{}"},
		{"POST", "/hub/api/users/alice/tokens", "{}"},
		{"GET", "/hub/api/users/teacher/tokens", ""},
		{"POST", "/hub/api/users", `{"usernames": ["mallory"]}`},
		{"PATCH", "/hub/api/users/teacher", `{"admin": true}`},
		{"DELETE", "/hub/api/users/alice", ""},
		{"GET", "/hub/api/info", ""},
	} {
		if status, body := do(t, a.Handler(), me, c.method, c.path, c.body); status < 400 {
			t.Errorf("%s %s with the app's token = %d %s", c.method, c.path, status, body)
		}
	}

	toks, _ := e.store.ListTokens(t.Context(), "teacher")
	if !slices.ContainsFunc(toks, func(t store.Token) bool {
		return t.APIID() == self.TokenID && t.Kind == "oauth" && t.SessionID == "" && t.Note == auth.AppTokenNote
	}) {
		t.Errorf("the app's token %s is not an oauth token in the instructor's list, apart from the session: %+v", self.TokenID, toks)
	}
	// Its own id only: not alice's.
	aliceID := ""
	if _, b := do(t, a.Handler(), cred{token: aliceTok}, "GET", "/hub/api/user", ""); true {
		var m struct {
			TokenID string `json:"token_id"`
		}
		json.Unmarshal([]byte(b), &m)
		aliceID = m.TokenID
	}
	if status, _ := do(t, a.Handler(), me, "DELETE", "/hub/api/users/alice/tokens/"+aliceID, ""); status < 400 {
		t.Errorf("the instructor's app deleted alice's app token: %d", status)
	}
	if status, body := do(t, a.Handler(), me, "DELETE", "/hub/api/users/teacher/tokens/"+self.TokenID, ""); status != 204 {
		t.Fatalf("the app deleting its own token = %d %s", status, body)
	}
	if status, _ := do(t, a.Handler(), me, "GET", "/hub/api/user", ""); status != 403 {
		t.Errorf("a deleted app token still answers %d", status)
	}
	if status, body := do(t, a.Handler(), cred{token: aliceTok}, "GET", "/hub/api/user", ""); status != 200 {
		t.Errorf("deleting the instructor's app token logged alice's app out: %d %s", status, body)
	}
}

// Attacks on the app's login: every one is refused, and none gets a token.
func TestAppLoginAttacks(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	aliceServer := e.startServer("alice")
	alice := login(t, authn, "alice")
	verifier, challenge := pkce("a")

	t.Run("code replay", func(t *testing.T) {
		code := appCode(t, a, alice, challenge)
		if status, body := appExchange(t, a, code, verifier, appRedirect); status != 200 {
			t.Fatalf("first exchange = %d %s", status, body)
		}
		if status, body := appExchange(t, a, code, verifier, appRedirect); status == 200 || strings.Contains(body, "access_token") {
			t.Errorf("a replayed code = %d %s", status, body)
		}
	})
	t.Run("wrong or missing verifier", func(t *testing.T) {
		other, _ := pkce("b")
		for _, v := range []string{other, "", challenge} {
			code := appCode(t, a, alice, challenge)
			if status, body := appExchange(t, a, code, v, appRedirect); status == 200 || strings.Contains(body, "access_token") {
				t.Errorf("verifier %q = %d %s", v, status, body)
			}
			// The code is spent by the failed try.
			if status, _ := appExchange(t, a, code, verifier, appRedirect); status == 200 {
				t.Errorf("a code survived a wrong verifier")
			}
		}
	})
	t.Run("missing or plain challenge", func(t *testing.T) {
		for _, q := range []url.Values{
			{"code_challenge": {""}, "code_challenge_method": {""}},
			{"code_challenge": {verifier}, "code_challenge_method": {"plain"}},
			{"code_challenge": {challenge}, "code_challenge_method": {""}},
		} {
			full := appQuery(challenge)
			for k, v := range q {
				full[k] = v
			}
			for _, m := range []string{"GET", "POST"} {
				rec := appAuthorize(t, a, alice, m, full)
				loc := rec.Header().Get("Location")
				if strings.Contains(loc, "code=") || !strings.Contains(loc, "error=invalid_request") {
					t.Errorf("%s with %v = %d %s", m, q, rec.Code, loc)
				}
			}
		}
	})
	t.Run("redirects other than the loopback callback", func(t *testing.T) {
		for _, r := range []string{"http://evil.test/callback", "http://localhost:49152/callback", "http://127.0.0.1:49152/other",
			"http://127.0.0.1:49152/callback?x=1", "https://127.0.0.1:49152/callback", "http://127.0.0.2:49152/callback",
			core.OAuthCallback("alice")} {
			q := appQuery(challenge)
			q.Set("redirect_uri", r)
			for _, m := range []string{"GET", "POST"} {
				rec := appAuthorize(t, a, alice, m, q)
				if loc := rec.Header().Get("Location"); loc != "" || rec.Code != http.StatusBadRequest {
					t.Errorf("%s to %s = %d %q", m, r, rec.Code, loc)
				}
			}
		}
		// The code goes back to the exact loopback address it was asked
		// for; presenting another at the token endpoint fails.
		code := appCode(t, a, alice, challenge)
		if status, _ := appExchange(t, a, code, verifier, "http://127.0.0.1:49153/callback"); status == 200 {
			t.Error("a code was traded for another port than it was issued to")
		}
	})
	t.Run("the app's code at a server's client and back", func(t *testing.T) {
		code := appCode(t, a, alice, challenge)
		status, body := do(t, a.InternalHandler(), cred{}, "POST", "/hub/api/oauth2/token", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "client_id": {core.OAuthClientID("alice")}, "client_secret": {aliceServer},
			"redirect_uri": {core.OAuthCallback("alice")}, "code_verifier": {verifier}}.Encode())
		if status == 200 || strings.Contains(body, "access_token") {
			t.Errorf("alice's server traded the app's code = %d %s", status, body)
		}
		rec := appAuthorize(t, a, alice, "GET", url.Values{"client_id": {core.OAuthClientID("alice")},
			"redirect_uri": {core.OAuthCallback("alice")}, "response_type": {"code"}})
		loc, _ := url.Parse(rec.Header().Get("Location"))
		serverCode := loc.Query().Get("code")
		if serverCode == "" {
			t.Fatalf("alice's own server got no code: %d %v", rec.Code, loc)
		}
		if status, body := appExchange(t, a, serverCode, verifier, core.OAuthCallback("alice")); status == 200 || strings.Contains(body, "access_token") {
			t.Errorf("the app traded a server's code = %d %s", status, body)
		}
	})
	t.Run("no secret makes the app a server client", func(t *testing.T) {
		code := appCode(t, a, alice, challenge)
		status, body := do(t, a.Handler(), cred{}, "POST", "/hub/api/oauth2/token", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "client_id": {auth.AppClientID}, "client_secret": {"!public client"}, "redirect_uri": {appRedirect}}.Encode())
		if status == 200 || strings.Contains(body, "access_token") {
			t.Errorf("a secret instead of the verifier = %d %s", status, body)
		}
	})
	t.Run("deny and forged consent", func(t *testing.T) {
		q := appQuery(challenge)
		q.Set("deny", "1")
		rec := appAuthorize(t, a, alice, "POST", q)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, appRedirect+"?") || !strings.Contains(loc, "error=access_denied") || strings.Contains(loc, "code=") {
			t.Errorf("Deny = %d %q", rec.Code, loc)
		}
		forged := alice
		forged.xsrf = "guessed"
		rec = appAuthorize(t, a, forged, "POST", appQuery(challenge))
		if loc := rec.Header().Get("Location"); strings.Contains(loc, "code=") || rec.Code < 400 {
			t.Errorf("a consent without the page's anti-forgery token = %d %q", rec.Code, loc)
		}
	})
}

func TestRootNamesTheAppClient(t *testing.T) {
	e := newEnv(t)
	_, body := e.call("GET", "/hub/api", "", nil)
	if !strings.Contains(string(body), `"desktop_client":"`+auth.AppClientID+`"`) {
		t.Errorf("GET /hub/api = %s", body)
	}
}

// Where the engine runs in a VM (Docker Desktop), every learner's server
// publishes its port on the hub machine's 127.0.0.1, where the
// instructor's browser runs: a link from mallory naming her server's port
// as the app's loopback redirect would hand the instructor's code, whose
// verifier mallory made, to her server. The hub sends no code to a port
// one of its servers listens on.
func TestAppRedirectNeverToAServersPort(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	e.startServer("alice")
	teacher := login(t, authn, "teacher")
	st, err := e.hub.Status(t.Context(), "alice")
	target, _ := url.Parse(st.Target)
	if err != nil || target == nil || target.Hostname() != "127.0.0.1" {
		t.Fatalf("alice's server is not on the loopback: %+v %v", st, err)
	}
	_, challenge := pkce("m")
	// The other loopback spelling reaches the port too where the engine
	// publishes on both families.
	for _, host := range []string{target.Host, "[::1]:" + target.Port()} {
		q := appQuery(challenge)
		q.Set("redirect_uri", "http://"+host+"/callback")
		for _, m := range []string{"GET", "POST"} {
			rec := appAuthorize(t, a, teacher, m, q)
			if loc := rec.Header().Get("Location"); loc != "" || rec.Code != http.StatusBadRequest {
				t.Errorf("%s with alice's server's port (%s) as the app's redirect = %d %q", m, host, rec.Code, loc)
			}
		}
	}
	if code := appCode(t, a, teacher, challenge); code == "" {
		t.Error("the app's own loopback port was refused")
	}
}

// A start under way has its port published before the hub routes it: mallory
// can keep her server from ever answering the hub's readiness check while
// it answers her /callback. Its port is refused all the same.
func TestAppRedirectNeverToAStartingServersPort(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	defer e.spawner.Hold("alice")()
	if st, err := e.hub.Start(t.Context(), "alice"); err != nil || st.Pending == "" {
		t.Fatalf("alice's held start is not pending: %+v, %v", st, err)
	}
	e.spawner.SetRunning("alice") // the container runs; the hub still waits
	sv, _ := e.spawner.Status(t.Context(), "alice")
	target, _ := url.Parse(sv.Target)
	teacher := login(t, authn, "teacher")
	_, challenge := pkce("m")
	q := appQuery(challenge)
	q.Set("redirect_uri", "http://"+target.Host+"/callback")
	rec := appAuthorize(t, a, teacher, "POST", q)
	if loc := rec.Header().Get("Location"); loc != "" || rec.Code != http.StatusBadRequest {
		t.Errorf("the port of alice's starting server as the app's redirect = %d %q", rec.Code, loc)
	}
}

// The app's code comes back naming the hub that issued it (RFC 9207), as
// the browser reached it: the app trades no code that another hub issued
// to a site standing in for this one.
func TestAppCodeNamesItsIssuer(t *testing.T) {
	e := newEnv(t)
	authn := &auth.Authenticator{Store: e.store}
	a := New(Options{Hub: e.hub, Auth: authn})
	alice := login(t, authn, "alice")
	_, challenge := pkce("i")
	rec := appAuthorize(t, a, alice, "POST", appQuery(challenge))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("iss") != "http://example.com" {
		t.Errorf("the app's code answer = %d %q, want iss http://example.com", rec.Code, rec.Header().Get("Location"))
	}
}
