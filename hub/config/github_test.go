package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gitHubOn() Config {
	c := Default()
	c.GitHub = GitHub{ClientID: "Iv1.abc", ClientSecret: "s3cret-value", AllowedUsers: []string{"Alice"},
		AllowedOrganizations: []string{"maths-dept", "maths-dept:year-9"}, AdminUsers: []string{"teacher"}}
	return c
}

func TestGitHubSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := gitHubOn()
	c.LocalLogins = false
	c.GitHub.TokenURL = "http://127.0.0.1:9/login/oauth/access_token"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%#v", got.GitHub) != fmt.Sprintf("%#v", c.GitHub) || got.GitHub.ClientSecret != c.GitHub.ClientSecret || got.LocalLogins {
		t.Errorf("loaded %#v, local_logins %v; want %#v, false", got.GitHub, got.LocalLogins, c.GitHub)
	}
}

func TestGitHubOffWritesNoTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := Save(path, Default()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "[github]") || !strings.Contains(string(data), "local_logins = true") {
		t.Errorf("default file:\n%s", data)
	}
}

func TestClientSecretNeverPrints(t *testing.T) {
	c := gitHubOn()
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, "s3cret-value") {
			t.Errorf("%s printed the client secret: %s", format, out)
		}
	}
}

func TestGitHubSettingsAreChecked(t *testing.T) {
	tests := []struct {
		name string
		edit func(*GitHub)
		want string
	}{
		{"no secret", func(g *GitHub) { g.ClientSecret = "" }, "github.client_secret is empty"},
		{"secret alone", func(g *GitHub) { *g = GitHub{ClientSecret: "x"} }, "github.client_id is not"},
		{"nobody allowed", func(g *GitHub) { g.AllowedUsers, g.AllowedOrganizations, g.AdminUsers = nil, nil, nil }, "lets nobody in"},
		{"user with a slash", func(g *GitHub) { g.AllowedUsers = []string{"../orgs"} }, "is not a GitHub login"},
		{"admin with a space", func(g *GitHub) { g.AdminUsers = []string{"a b"} }, "github.admin_users"},
		{"org path", func(g *GitHub) { g.AllowedOrganizations = []string{"org/teams"} }, "is not an organization"},
		{"team path", func(g *GitHub) { g.AllowedOrganizations = []string{"org:../x"} }, "is not an organization"},
		{"api not a URL", func(g *GitHub) { g.APIURL = "api.github.com" }, "github.api_url"},
		{"token URL with a password", func(g *GitHub) { g.TokenURL = "https://u:p@example.org/" }, "github.token_url"},
	}
	for _, tt := range tests {
		c := gitHubOn()
		tt.edit(&c.GitHub)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want %q", tt.name, err, tt.want)
		}
	}
	if err := gitHubOn().Validate(); err != nil {
		t.Errorf("good settings: %v", err)
	}
}

func TestLocalLoginsOffNeedsAnExternalLogin(t *testing.T) {
	c := Default()
	c.LocalLogins = false
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "local_logins = false needs an external login") {
		t.Errorf("local logins off with nothing else: %v", err)
	}
	c = gitHubOn()
	c.LocalLogins = false
	if err := c.Validate(); err != nil {
		t.Errorf("local logins off with GitHub on: %v", err)
	}
}
