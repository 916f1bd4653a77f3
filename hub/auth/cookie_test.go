package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/classhub/classhub/hub/store"
)

// browser is a cookie jar standing in for one person's browser on the
// hub's host: it keeps cookies by name, path and domain and sends the more
// specific path first, as browsers do.
type browser struct {
	t   *testing.T
	jar *cookiejar.Jar
	url *url.URL
}

func newBrowser(t *testing.T, hub string) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(hub)
	return &browser{t: t, jar: jar, url: u}
}

// at is the URL of path on the hub.
func (b *browser) at(path string) *url.URL {
	return &url.URL{Scheme: b.url.Scheme, Host: b.url.Host, Path: path}
}

// request is a request for path carrying what the browser sends there.
func (b *browser) request(method, path string) *http.Request {
	r := httptest.NewRequest(method, b.url.Scheme+"://"+b.url.Host+path, nil)
	for _, c := range b.jar.Cookies(b.at(path)) {
		r.AddCookie(c)
	}
	return r
}

// keep stores the Set-Cookie headers of a response to path.
func (b *browser) keep(path string, w *httptest.ResponseRecorder) {
	b.jar.SetCookies(b.at(path), w.Result().Cookies())
}

// logIn logs user in from this browser.
func (b *browser) logIn(a *Authenticator, user string) {
	b.t.Helper()
	w := httptest.NewRecorder()
	if _, err := a.Login(w, b.request("POST", "/hub/login"), user); err != nil {
		b.t.Fatal(err)
	}
	b.keep("/hub/login", w)
}

// cookies are the cookies this browser sends to path, as name=value.
func (b *browser) cookies(path string) []string {
	var out []string
	for _, c := range b.jar.Cookies(b.at(path)) {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

// TestPlantedLoginCookieIsNotALogin tosses alice's own login cookie into
// bob's browser, as her page on another port of the hub's host can, for
// paths more specific than the hub's: bob's requests there are not logged
// in (least of all as alice), the hub's answer expires what alice
// planted, and bob is himself again.
func TestPlantedLoginCookieIsNotALogin(t *testing.T) {
	a, st := newAuth(t)
	ctx := context.Background()
	st.CreateUser(ctx, store.NewUser{Name: "bob"})
	alices := newBrowser(t, "http://192.168.1.5:8000")
	alices.logIn(a, "alice")
	aliceCookie := alices.jar.Cookies(alices.at("/hub/"))[0]

	bobs := newBrowser(t, "http://192.168.1.5:8000")
	bobs.logIn(a, "bob")
	for _, path := range []string{"/hub/home", "/hub/api/", "/hub/admin"} {
		bobs.jar.SetCookies(bobs.at(path), []*http.Cookie{{Name: SessionCookie, Value: aliceCookie.Value, Path: path}})
	}
	for _, path := range []string{"/hub/home", "/hub/api/user", "/hub/admin"} {
		r := bobs.request("GET", path)
		if n := len(r.CookiesNamed(SessionCookie)); n < 2 {
			t.Fatalf("the browser sends %d login cookies to %s; the test plants none", n, path)
		}
		p, err := a.FromRequest(r)
		if !errors.Is(err, ErrPlantedCookie) {
			t.Errorf("%s with alice's cookie planted in bob's browser = %q, %v; want ErrPlantedCookie", path, p.User.Name, err)
		}
		if !a.Planted(r) {
			t.Errorf("Planted(%s) = false", path)
		}
		w := httptest.NewRecorder()
		a.ExpirePlanted(w, r)
		for _, c := range w.Result().Cookies() {
			if c.Path == SessionPath && c.Domain == "" {
				t.Errorf("ExpirePlanted at %s expires the hub's own cookie %+v", path, c)
			}
			if c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("ExpirePlanted at %s sets %+v", path, c)
			}
		}
		bobs.keep(path, w)
		p, err = a.FromRequest(bobs.request("GET", path))
		if err != nil || p.User.Name != "bob" {
			t.Errorf("after the hub's answer, bob's browser at %s is %q, %v; want bob (sends %q)", path, p.User.Name, err, bobs.cookies(path))
		}
	}

	// The same value twice is one login.
	r := httptest.NewRequest("GET", "/hub/home", nil)
	r.AddCookie(aliceCookie)
	r.AddCookie(aliceCookie)
	if p, err := a.FromRequest(r); err != nil || p.User.Name != "alice" {
		t.Errorf("one cookie sent twice = %q, %v; want alice", p.User.Name, err)
	}
}

// TestLoginExpiresPlantedCookies: logging in again clears copies a page
// planted where the hub's pages and API would receive them, host-only and
// for the host's domains, and sets the hub's own first.
func TestLoginExpiresPlantedCookies(t *testing.T) {
	a, st := newAuth(t)
	st.CreateUser(context.Background(), store.NewUser{Name: "bob"})
	bobs := newBrowser(t, "http://laptop.lan:8000")
	for _, c := range []*http.Cookie{
		{Name: SessionCookie, Value: "planted-home", Path: "/hub/home"},
		{Name: SessionCookie, Value: "planted-api", Path: "/hub/api/"},
		{Name: SessionCookie, Value: "planted-domain", Path: "/hub/", Domain: "laptop.lan"},
	} {
		bobs.jar.SetCookies(bobs.at("/hub/"), []*http.Cookie{c})
	}
	w := httptest.NewRecorder()
	if _, err := a.Login(w, bobs.request("POST", "/hub/login"), "bob"); err != nil {
		t.Fatal(err)
	}
	if first := w.Result().Cookies()[0]; first.Path != SessionPath || first.MaxAge <= 0 {
		t.Errorf("the first Set-Cookie of a login is %+v, want the login itself", first)
	}
	bobs.keep("/hub/login", w)
	for _, path := range []string{"/hub/home", "/hub/api/user", "/hub/"} {
		if got := bobs.cookies(path); len(got) != 1 {
			t.Errorf("after logging in, the browser sends %s %q, want only the hub's login", path, got)
		}
		if p, err := a.FromRequest(bobs.request("GET", path)); err != nil || p.User.Name != "bob" {
			t.Errorf("after logging in, %s = %q, %v; want bob", path, p.User.Name, err)
		}
	}
}

// TestLoginCookieOnHTTPS: on TLS the login cookie is __Host-, at Path=/,
// Secure and HttpOnly with no Domain, which no page can shadow; the plain
// name, which any page of the host can set, is not a login there.
func TestLoginCookieOnHTTPS(t *testing.T) {
	a, _ := newAuth(t)
	a.Secure = true
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "https://laptop.lan:8443/hub/login", nil)
	if _, err := a.Login(w, r, "alice"); err != nil {
		t.Fatal(err)
	}
	set := w.Result().Cookies()
	if len(set) != 1 {
		t.Errorf("a login on HTTPS sets %d cookies, want only the login: %+v", len(set), set)
	}
	c := set[0]
	if c.Name != HostSessionCookie || c.Path != "/" || !c.Secure || !c.HttpOnly || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("login cookie on HTTPS = %+v, want %s, Path=/, Secure, HttpOnly, SameSite=Lax, no Domain", c, HostSessionCookie)
	}
	if a.CookieName() != HostSessionCookie {
		t.Errorf("CookieName() = %q on HTTPS", a.CookieName())
	}
	ok := httptest.NewRequest("GET", "https://laptop.lan:8443/hub/home", nil)
	ok.AddCookie(&http.Cookie{Name: HostSessionCookie, Value: c.Value})
	if p, err := a.FromSession(context.Background(), ok); err != nil || p.User.Name != "alice" {
		t.Errorf("the __Host- cookie = %q, %v; want alice", p.User.Name, err)
	}
	plain := httptest.NewRequest("GET", "https://laptop.lan:8443/hub/home", nil)
	plain.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.Value})
	if p, err := a.FromSession(context.Background(), plain); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("the plain name on HTTPS = %q, %v; want no login", p.User.Name, err)
	}
	w = httptest.NewRecorder()
	if err := a.Logout(w, ok); err != nil {
		t.Fatal(err)
	}
	if got := w.Result().Cookies(); len(got) != 1 || got[0].Name != HostSessionCookie || got[0].Path != "/" || !got[0].Secure || got[0].MaxAge >= 0 {
		t.Errorf("logout on HTTPS sets %+v, want the __Host- cookie expired at /", got)
	}
}

func TestPathsOfAndDomainsOf(t *testing.T) {
	for p, want := range map[string][]string{
		"/":              {"/"},
		"/hub/home":      {"/", "/hub", "/hub/", "/hub/home"},
		"/hub/api/user":  {"/", "/hub", "/hub/", "/hub/api", "/hub/api/", "/hub/api/user"},
		"/hub/spawn/a/":  {"/", "/hub", "/hub/", "/hub/spawn", "/hub/spawn/", "/hub/spawn/a", "/hub/spawn/a/"},
		"/hub/logout":    {"/", "/hub", "/hub/", "/hub/logout"},
		"/hub/user/bob/": {"/", "/hub", "/hub/", "/hub/user", "/hub/user/", "/hub/user/bob", "/hub/user/bob/"},
	} {
		if got := pathsOf(p); !slices.Equal(got, want) {
			t.Errorf("pathsOf(%q) = %q, want %q", p, got, want)
		}
	}
	for host, want := range map[string][]string{
		"192.168.1.5:8000":           nil,
		"[::1]:8000":                 nil,
		"localhost:8000":             nil,
		"laptop.lan:8000":            {"laptop.lan"},
		"hub.school.example":         {"hub.school.example", "school.example"},
		"u-alice.hub.school.example": {"u-alice.hub.school.example", "hub.school.example", "school.example"},
	} {
		if got := domainsOf(host); !slices.Equal(got, want) {
			t.Errorf("domainsOf(%q) = %q, want %q", host, got, want)
		}
	}
}

// TestLoginRecordsLoopback: a login taken at a loopback host is recorded
// as such, so that the hub can end it where Docker publishes students'
// servers there; one taken at the class's address is not.
func TestLoginRecordsLoopback(t *testing.T) {
	a, st := newAuth(t)
	ctx := context.Background()
	for host, atLoopback := range map[string]bool{
		"127.0.0.1:8000": true,
		"localhost:8000": true,
		"[::1]:8000":     true,
		"0.0.0.0:8000":   true,
		"192.0.2.5:8000": false,
		"laptop.lan":     false,
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "http://"+host+"/hub/login", nil)
		if _, err := a.Login(w, r, "alice"); err != nil {
			t.Fatal(err)
		}
		n, err := st.EndLoopbackSessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if (n == 1) != atLoopback || n > 1 {
			t.Errorf("a login at %s: %d sessions at loopback, want at loopback %v", host, n, atLoopback)
		}
		if _, err := st.DeleteSessionsForUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "localhost": true, "LOCALHOST.": true, "app.localhost": true,
		"[::1]": true, "::1": true, "0.0.0.0": true, "::": true, "[::ffff:127.0.0.1]": true,
		"192.0.2.5": false, "laptop.lan": false, "localhost.example": false, "": false,
	} {
		if got := LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
