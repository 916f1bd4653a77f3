package app

import (
	"os"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/hub/config"
)

func TestSettingsGitHubLogin(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), true)
	if !s.passwords.Checked || s.ghClient.Text != "" || !s.ghSecret.Password {
		t.Fatalf("a new config shows passwords %v, client %q, secret masked %v", s.passwords.Checked, s.ghClient.Text, s.ghSecret.Password)
	}

	// Passwords off with nothing else would lock everyone out.
	before, _ := os.ReadFile(path)
	s.passwords.SetChecked(false)
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "Not saved") || !strings.Contains(s.result.Text, "local_logins = false needs an external login") {
		t.Errorf("passwords off alone: %q", s.result.Text)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused save changed the file")
	}

	s.ghClient.SetText(" Iv1.abc ")
	s.ghSecret.SetText("the-secret")
	s.ghUsers.SetText("ada, Grace  linus")
	s.ghOrgs.SetText("my-school:year-9")
	s.ghAdmins.SetText("teacher")
	test.Tap(s.save)
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g := got.GitHub
	if got.LocalLogins || g.ClientID != "Iv1.abc" || g.ClientSecret != "the-secret" || !slices.Equal(g.AllowedUsers, []string{"ada", "Grace", "linus"}) ||
		!slices.Equal(g.AllowedOrganizations, []string{"my-school:year-9"}) || !slices.Equal(g.AdminUsers, []string{"teacher"}) {
		t.Errorf("saved local_logins %v, github %#v", got.LocalLogins, g)
	}
	if !strings.Contains(s.result.Text, "logins take effect when the hub restarts") || strings.Contains(s.result.Text, "the-secret") {
		t.Errorf("result %q", s.result.Text)
	}

	// Reloading shows what was saved; a bad name is refused with a sentence.
	s.Load(got, true)
	if s.ghUsers.Text != "ada, Grace, linus" || s.ghSecret.Text != "the-secret" || s.passwords.Checked {
		t.Errorf("reloaded users %q, passwords %v", s.ghUsers.Text, s.passwords.Checked)
	}
	s.ghUsers.SetText("ada/../x")
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, `github.allowed_users: "ada/../x" is not a GitHub login`) {
		t.Errorf("bad login: %q", s.result.Text)
	}
}

func TestLoginChangesNeedARestart(t *testing.T) {
	old := config.Default()
	for _, change := range []func(*config.Config){
		func(c *config.Config) { c.LocalLogins = false },
		func(c *config.Config) { c.GitHub.ClientSecret = "new" },
		func(c *config.Config) { c.GitHub.AdminUsers = []string{"teacher"} },
	} {
		c := old
		change(&c)
		if got := strings.Join(SettingsChanges(old, c), " "); !strings.Contains(got, "logins") {
			t.Errorf("SettingsChanges = %q", got)
		}
	}
}
