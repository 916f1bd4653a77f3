package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRootRedirects(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", false)
	anon := e.client()
	wantRedirect(t, anon.get("/"), http.StatusFound, "/hub/")
	wantRedirect(t, anon.get("/hub"), http.StatusFound, "/hub/")
	wantRedirect(t, anon.get("/hub/"), http.StatusFound, "/hub/login?next=%2Fhub%2F")

	alice := e.loggedIn("alice")
	wantRedirect(t, alice.get("/hub/"), http.StatusFound, "/hub/home")
	release := e.spawner.Hold("alice")
	defer release()
	e.web.spawnWait = 0
	wantRedirect(t, alice.get("/hub/spawn"), http.StatusFound, "/hub/spawn-pending/alice")
	e.waitPending("alice")
	wantRedirect(t, alice.get("/hub/"), http.StatusFound, "/hub/spawn-pending/alice")
	release()
	e.waitReady("alice")
	wantRedirect(t, alice.get("/hub/"), http.StatusFound, "/user/alice/")
}

func TestPrefixRedirect(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	// Anything outside /hub/ goes under it, query kept, never off-site.
	wantRedirect(t, c.get("/login?next=%2Fhub%2Fhome"), http.StatusFound, "/hub/login?next=%2Fhub%2Fhome")
	// ServeMux cleans the path first; either way the browser stays here.
	if loc := c.get("//evil.example/x").Header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
		t.Errorf("//evil.example/x sent to %q", loc)
	}
	wantStatus(t, c.post("/login", nil), http.StatusNotFound)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	p := e.client().get("/hub/login")
	wantStatus(t, p, http.StatusOK)
	for k, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"X-JupyterHub-Version":   "3.0.0",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, part := range []string{"script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
}

// TestNoInlineCode keeps every page within the CSP: no inline scripts,
// event handler attributes or style attributes, and nothing from another
// origin.
func TestNoInlineCode(t *testing.T) {
	for name, tmpl := range newEnv(t).web.pages {
		for _, tt := range tmpl.Templates() {
			if tt.Tree == nil {
				continue
			}
			src := tt.Tree.Root.String()
			for _, bad := range []string{"<script>", "<script >", " onclick=", " onload=", " onsubmit=", " style=", "<style", "http://", "https://", "javascript:"} {
				if strings.Contains(src, bad) {
					t.Errorf("page %s (template %s) has %q", name, tt.Name(), bad)
				}
			}
		}
	}
}

func TestStatic(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, name := range []string{"style.css", "spawn.js", "admin.js", "favicon.svg"} {
		u, err := e.web.assetURL(name)
		if err != nil {
			t.Fatal(err)
		}
		p := c.get(u)
		wantStatus(t, p, http.StatusOK)
		if p.Body != string(e.web.assets[name].data) || p.Body == "" {
			t.Errorf("%s: body differs from the embedded file", name)
		}
		if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s at its versioned URL: Cache-Control %q", name, cc)
		}
		if cc := c.get("/hub/static/" + name).Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s unversioned: Cache-Control %q", name, cc)
		}
	}
	if ct := c.get("/hub/static/spawn.js").Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("spawn.js Content-Type %q", ct)
	}
	wantStatus(t, c.get("/hub/static/nothing.js"), http.StatusNotFound)
	if p := c.get("/hub/static/../web.go"); p.StatusCode == http.StatusOK || strings.Contains(p.Body, "package web") {
		t.Errorf("/hub/static/../web.go served: %d", p.StatusCode)
	}
	// Pages link the versioned files, so a new classhub busts caches.
	css, _ := e.web.assetURL("style.css")
	wantBody(t, c.get("/hub/login"), `href="`+css+`"`)
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/hub/home":                     "/hub/home",
		"/user/alice/lab?x=1#frag":      "/user/alice/lab?x=1#frag",
		"/hub/api/oauth2/authorize?a=b": "/hub/api/oauth2/authorize?a=b",
		"":                              "",
		"hub/home":                      "",
		"//evil.example/":               "",
		"/\\evil.example/":              "",
		"/\t/evil.example/":             "",
		"/\n/evil.example/":             "",
		"https://evil.example/":         "",
		"http:/evil.example":            "",
		"javascript:alert(1)":           "",
		"/ok path":                      "",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example", // a path, which browsers do not decode into a host
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"invalid username: x": "Invalid username: x.",
		"done.":               "Done.",
		"  ünïcode first  ":   "Ünïcode first.",
		"":                    "",
		"is it?":              "Is it?",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorPage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	p := c.get("/hub/error/503?url=%2Fuser%2Falice%2Flab")
	wantStatus(t, p, http.StatusServiceUnavailable)
	wantBody(t, p, "/user/alice/lab appears to be down")
	// Only paths are echoed, and as text.
	p = c.get("/hub/error/503?url=" + "https%3A%2F%2Fevil.example%2F%3Cscript%3E")
	wantNoBody(t, p, "evil.example", "<script>")
	wantStatus(t, c.get("/hub/error/999"), http.StatusNotFound)
	wantStatus(t, c.get("/hub/error/abc"), http.StatusNotFound)
	p = c.get("/hub/no-such-page")
	wantStatus(t, p, http.StatusNotFound)
	wantBody(t, p, "There is no page at /hub/no-such-page")
}

func TestAgo(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	for d, want := range map[int]string{0: "just now", 1: "1 minute ago", 59: "59 minutes ago", 60: "1 hour ago",
		47 * 60: "47 hours ago", 72 * 60: "3 days ago"} {
		if got := e.web.ago(now.Add(-timeMinutes(d))); got != want {
			t.Errorf("ago(%d min) = %q, want %q", d, got, want)
		}
	}
	if got := e.web.ago(time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
}

func TestLogoIsAPNG(t *testing.T) {
	rec := httptest.NewRecorder()
	newEnv(t).web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/hub/logo", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || !bytes.HasPrefix(rec.Body.Bytes(), []byte("\x89PNG")) {
		t.Fatalf("GET /hub/logo = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
