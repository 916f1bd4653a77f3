package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/extauth/githubtest"
)

// TestGitHubLogin walks through logging in with GitHub in Chromium, against
// a stand-in for GitHub, on a hub with passwords turned off: a student's
// first login makes their account and they start their server; an
// instructor in admin_users gets the admin page; someone not allowed gets
// a page that says so, and no account.
func TestGitHubLogin(t *testing.T) {
	c := newClassroom(t)
	c.useHTTPS()
	gh := githubtest.New(t)
	studentLogin, teacherLogin := "Octo"+c.suffix, "Prof-"+c.suffix
	student, teacher := strings.ToLower(studentLogin), strings.ToLower(teacherLogin)
	settings := gh.Settings()
	// The [github] table comes last: keys after it would belong to it.
	appendConfig(t, c, fmt.Sprintf(`start_timeout = "5m"
http_timeout = "5m"
local_logins = false

[github]
client_id = %q
client_secret = %q
allowed_users = [%q]
admin_users = [%q]
authorize_url = %q
token_url = %q
api_url = %q
`, settings.ClientID, string(settings.ClientSecret), studentLogin, teacherLogin, settings.AuthorizeURL, settings.TokenURL, settings.APIURL))
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t, c.browserTrust()...)

	st := b.tab(t, student)
	if !t.Run("student logs in with GitHub", func(t *testing.T) {
		st.t = t
		gh.LogInAs(studentLogin)
		st.run("open the class link", 2*time.Minute, chromedp.Navigate(c.base+"/"))
		st.waitPath("the browser is sent to the login page", time.Minute, "/hub/login")
		st.waitJS("the login page offers GitHub and no password form", time.Minute,
			`document.querySelector('a[href^="/hub/oauth_login?provider=github"]').textContent.trim() === "Log in with GitHub" && !document.querySelector('input[type="password"]')`)
		st.shot("github-01-login")
		st.click("Log in with GitHub", `a[href^="/hub/oauth_login?provider=github"]`)
		st.waitPath("GitHub sends her back to her home page", time.Minute, "/hub/home")
		st.waitJS("the home page is hers", time.Minute, fmt.Sprintf(`document.body.textContent.includes(%q)`, student))
		st.shot("github-02-home")
	}) {
		return
	}

	if !t.Run("student starts her server", func(t *testing.T) {
		st.t = t
		startAndFollow(st, student, `form[action^="/hub/spawn/"] button`, "github-03-spawn-pending")
		st.waitPath("her notebook opens", 3*time.Minute, "/user/"+student+"/tree")
		st.shot("github-04-notebook")
	}) {
		return
	}

	t.Run("instructor logs in with GitHub and gets the admin page", func(t *testing.T) {
		tc := b.tab(t, teacher)
		gh.LogInAs(teacherLogin)
		tc.run("open the login page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login?next=%2Fhub%2Fadmin"))
		tc.click("Log in with GitHub", `a[href^="/hub/oauth_login?provider=github"]`)
		tc.waitPath("the admin page opens", time.Minute, "/hub/admin")
		tc.waitJS("it lists the student", time.Minute, fmt.Sprintf(`document.body.textContent.includes(%q)`, student))
	})

	t.Run("a stranger is told they are not allowed, and gets no account", func(t *testing.T) {
		sx := b.tab(t, "stranger")
		stranger := "Mallory" + c.suffix
		gh.LogInAs(stranger)
		sx.run("open the login page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login"))
		sx.click("Log in with GitHub", `a[href^="/hub/oauth_login?provider=github"]`)
		sx.waitJS("the page says the account is not allowed", time.Minute, fmt.Sprintf(
			`location.pathname === "/hub/oauth_callback" && document.body.textContent.includes("The GitHub account %s is not allowed to log in to this hub")`, stranger))
		sx.shot("github-05-not-allowed")
		if out := c.classhub("users", "list"); strings.Contains(out, strings.ToLower(stranger)) || !strings.Contains(out, student) {
			t.Errorf("users after the refused login:\n%s", out)
		}
	})

	out, _ := c.proc.Stdout.(*bytes.Buffer)
	c.stop(syscall.SIGTERM)
	if out == nil || strings.Contains(out.String(), string(settings.ClientSecret)) {
		t.Error("the hub's output holds the GitHub client secret (or could not be read)")
	}
}
