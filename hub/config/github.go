package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// GitHub configures logging in with a GitHub account, as JupyterHub's
// GitHubOAuthenticator does: the GitHub login, lower-cased, is the classhub
// user name. Someone may log in when they are listed in AllowedUsers or
// AdminUsers or belong to one of AllowedOrganizations; nobody else, so an
// empty allow-list is refused rather than letting all of GitHub in.
type GitHub struct {
	// ClientID and ClientSecret are the GitHub OAuth app's; a client id
	// turns GitHub login on.
	ClientID     string `toml:"client_id,omitempty"`
	ClientSecret Secret `toml:"client_secret,omitempty"`
	// AllowedUsers are GitHub logins that may log in.
	AllowedUsers []string `toml:"allowed_users,omitempty"`
	// AllowedOrganizations are organizations ("org") or teams
	// ("org:team") whose members may log in.
	AllowedOrganizations []string `toml:"allowed_organizations,omitempty"`
	// AdminUsers are GitHub logins that log in as instructors.
	AdminUsers []string `toml:"admin_users,omitempty"`
	// CallbackURL is the app's "Authorization callback URL"; empty means
	// the class link's /hub/oauth_callback.
	CallbackURL string `toml:"callback_url,omitempty"`
	// AuthorizeURL, TokenURL and APIURL are GitHub's endpoints; empty
	// means github.com's. They are settings for GitHub Enterprise Server
	// and for tests.
	AuthorizeURL string `toml:"authorize_url,omitempty"`
	TokenURL     string `toml:"token_url,omitempty"`
	APIURL       string `toml:"api_url,omitempty"`
}

// Enabled reports whether GitHub login is on.
func (g GitHub) Enabled() bool { return strings.TrimSpace(g.ClientID) != "" }

// ExternalLogins reports whether a login with an account elsewhere is on,
// so that local passwords may be turned off.
func (c Config) ExternalLogins() bool { return c.GitHub.Enabled() || c.OIDC.Enabled() }

func (g GitHub) validate() []error {
	var errs []error
	if !g.Enabled() {
		if g.ClientSecret != "" {
			errs = append(errs, errors.New("github.client_secret is set but github.client_id is not: set both from your GitHub OAuth app, or remove the secret"))
		}
		return errs
	}
	if strings.TrimSpace(string(g.ClientSecret)) == "" {
		errs = append(errs, errors.New("github.client_secret is empty: copy it from your GitHub OAuth app, or remove github.client_id to turn GitHub login off"))
	}
	if len(g.AllowedUsers)+len(g.AllowedOrganizations)+len(g.AdminUsers) == 0 {
		errs = append(errs, errors.New("github lets nobody in: list GitHub logins in allowed_users or admin_users, or organizations in allowed_organizations"))
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"allowed_users", g.AllowedUsers}, {"admin_users", g.AdminUsers}} {
		for _, n := range list.names {
			if !gitHubName(n) {
				errs = append(errs, fmt.Errorf("github.%s: %q is not a GitHub login: write it as in the person's profile address, github.com/LOGIN", list.key, n))
			}
		}
	}
	for _, o := range g.AllowedOrganizations {
		org, team, hasTeam := strings.Cut(o, ":")
		if !gitHubName(org) || hasTeam && !teamSlug(team) {
			errs = append(errs, fmt.Errorf("github.allowed_organizations: %q is not an organization: write \"ORG\" or \"ORG:TEAM\" as in the address github.com/orgs/ORG/teams/TEAM", o))
		}
	}
	for _, u := range []struct{ key, value string }{
		{"callback_url", g.CallbackURL}, {"authorize_url", g.AuthorizeURL}, {"token_url", g.TokenURL}, {"api_url", g.APIURL},
	} {
		if u.value != "" && !webAddress(u.value) {
			errs = append(errs, fmt.Errorf("github.%s %q is not a web address: write it as https://HOST/PATH, or leave it out", u.key, u.value))
		}
	}
	return errs
}

// gitHubName reports whether s can be a GitHub user or organization name:
// letters, digits and hyphens, not starting with a hyphen, at most 39.
func gitHubName(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// teamSlug reports whether s can be a team's name in its address.
func teamSlug(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return s != "." && s != ".."
}

// webAddress reports whether s is an absolute http(s) URL.
func webAddress(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// Secret is a setting that must not show up in logs: printing it with the
// fmt package gives asterisks. The file holds it as it is.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }
