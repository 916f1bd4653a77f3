package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/extauth/oidctest"
)

// TestSchoolLogin walks the school login ([oidc]) in Chromium against a
// local OpenID Connect provider: a student with a verified address at the
// school's domain and an instructor by group get in, with accounts made
// as the settings say; a stranger and an unverified address get a page
// that says why, and no account.
func TestSchoolLogin(t *testing.T) {
	const secret = "oidc-client-s3cret"
	idp := oidctest.New(t, "classhub", secret)
	c := newClassroom(t)
	appendConfig(t, c, fmt.Sprintf("\n[oidc]\nissuer = %q\nclient_id = \"classhub\"\nclient_secret = %q\n"+
		"username_claim = \"preferred_username\"\nallowed_domains = [\"school.example\"]\nadmin_groups = [\"staff\"]\n", idp.Issuer, secret))
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t, c.browserTrust()...)
	student, teacher, stranger, unverified := c.user("alice"), c.user("mr-brown"), c.user("eve"), c.user("mallory")

	// logIn clicks the login page's school button as who, whom the
	// provider logs in at once, and waits until the browser is back at
	// the hub, past the callback.
	logIn := func(t *testing.T, tb *tab, claims map[string]any) {
		t.Helper()
		tb.t = t
		idp.LogIn(claims)
		tb.run("open the login page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login"))
		button := `[...document.querySelectorAll("a, button")].find(e => e.textContent.trim() === "Log in with school account")`
		tb.waitJS("the login page offers the school login", time.Minute, button)
		tb.shot("oidc-" + tb.who + "-login")
		tb.run("click the school login", time.Minute, chromedp.Evaluate[chromedp.Void](button+".click()"))
		tb.waitJS("the browser comes back to the hub", time.Minute, fmt.Sprintf(
			`document.readyState === "complete" && location.origin === %q && !location.pathname.startsWith("/hub/login")`, c.base))
	}
	person := func(name, email string, verified bool, groups ...any) map[string]any {
		return map[string]any{"sub": "sub-" + name, "preferred_username": strings.ToUpper(name[:1]) + name[1:], "email": email,
			"email_verified": verified, "groups": groups}
	}

	// Each step needs the ones before it to have worked.
	if !t.Run("a student of the school gets in", func(t *testing.T) {
		tb := b.tab(t, student)
		logIn(t, tb, person(student, "alice@school.example", true, "class-7b"))
		tb.waitJS("the student is logged in", time.Minute, `!location.pathname.startsWith("/hub/oauth_callback")`)
		tb.shot("oidc-student-logged-in")
		if admin, ok := c.users()[student]; !ok || admin {
			t.Errorf("after the school login, %s exists: %v, admin: %v; want a student", student, ok, admin)
		}
	}) {
		return
	}
	if !t.Run("an instructor by group gets in as one", func(t *testing.T) {
		tb := b.tab(t, teacher)
		logIn(t, tb, person(teacher, "brown@school.example", true, "staff"))
		tb.waitJS("the instructor is logged in", time.Minute, `!location.pathname.startsWith("/hub/oauth_callback")`)
		if admin := c.users()[teacher]; !admin {
			t.Errorf("%s of the staff group is not an admin", teacher)
		}
	}) {
		return
	}
	for _, tc := range []struct {
		name, who string
		claims    map[string]any
		want      string
	}{
		{"a stranger is refused", stranger, person(stranger, "eve@elsewhere.example", true), "not allowed"},
		{"an unverified school address is refused", unverified, person(unverified, "mallory@school.example", false), "verified"},
	} {
		if !t.Run(tc.name, func(t *testing.T) {
			tb := b.tab(t, tc.who)
			logIn(t, tb, tc.claims)
			tb.waitJS("the page says why", time.Minute, fmt.Sprintf(`document.body.innerText.includes(%q)`, tc.want))
			tb.shot("oidc-" + tc.who + "-refused")
			if _, ok := c.users()[tc.who]; ok {
				t.Errorf("a refused school login made the account %s", tc.who)
			}
		}) {
			return
		}
	}

	// Stopped first, the hub has written all its output.
	out, _ := c.proc.Stdout.(*bytes.Buffer)
	c.stop(syscall.SIGTERM)
	if out != nil && strings.Contains(out.String(), secret) {
		t.Error("the hub's output shows the school login's client secret")
	}
}

// users lists the hub's users with whether each is an admin, as
// `classhub users list` prints them.
func (c *classroom) users() map[string]bool {
	c.t.Helper()
	users := make(map[string]bool)
	for _, line := range strings.Split(c.classhub("users", "list"), "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 2 {
			users[f[0]] = f[1] == "true"
		}
	}
	return users
}
