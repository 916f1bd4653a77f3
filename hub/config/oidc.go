package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Defaults of the [oidc] settings left empty.
const (
	// DefaultOIDCUsernameClaim names people by their whole e-mail address:
	// every provider sends it, and unlike its local part it cannot make
	// alice@one.example and alice@two.example one classhub user.
	DefaultOIDCUsernameClaim = "email"
	// DefaultOIDCGroupsClaim is where Keycloak and Microsoft Entra put groups.
	DefaultOIDCGroupsClaim = "groups"
	// DefaultOIDCTitle is the login button's text.
	DefaultOIDCTitle = "Log in with school account"
)

// OIDC is the [oidc] table: logging in with a school's OpenID Connect
// provider (Google Workspace, Microsoft Entra, Keycloak...). It is on when
// Issuer is set; the other settings are kept while it is off.
type OIDC struct {
	// Issuer is the provider's issuer URL, where
	// /.well-known/openid-configuration is found, e.g.
	// "https://accounts.google.com".
	Issuer string `toml:"issuer,omitempty"`
	// ClientID and ClientSecret are the client registered at the provider,
	// with <hub address>/hub/oauth_callback as its redirect URI.
	ClientID     string `toml:"client_id,omitempty"`
	ClientSecret Secret `toml:"client_secret,omitempty"`
	// UsernameClaim is the ID token claim that gives the classhub user
	// name, lower-cased: "email" (the default; the whole address),
	// "preferred_username" or "sub".
	UsernameClaim string `toml:"username_claim,omitempty"`
	// AllowedDomains lets in people whose verified e-mail address is at one
	// of these domains, e.g. ["school.example"].
	AllowedDomains []string `toml:"allowed_domains,omitempty"`
	// GroupsClaim is the claim that lists a person's groups; empty means
	// "groups".
	GroupsClaim string `toml:"groups_claim,omitempty"`
	// AllowedGroups lets in members of these groups.
	AllowedGroups []string `toml:"allowed_groups,omitempty"`
	// AdminUsers and AdminGroups are let in as instructors: user names as
	// classhub writes them, and groups from GroupsClaim.
	AdminUsers  []string `toml:"admin_users,omitempty"`
	AdminGroups []string `toml:"admin_groups,omitempty"`
	// Title is the login button's text; empty means DefaultOIDCTitle.
	Title string `toml:"title,omitempty"`
}

// Enabled reports whether the login page offers the school login.
func (o OIDC) Enabled() bool { return strings.TrimSpace(o.Issuer) != "" }

// NameClaim is UsernameClaim or its default.
func (o OIDC) NameClaim() string { return or(o.UsernameClaim, DefaultOIDCUsernameClaim) }

// GroupClaim is GroupsClaim or its default.
func (o OIDC) GroupClaim() string { return or(o.GroupsClaim, DefaultOIDCGroupsClaim) }

// ButtonTitle is Title or its default.
func (o OIDC) ButtonTitle() string { return or(o.Title, DefaultOIDCTitle) }

func or(s, def string) string {
	if s = strings.TrimSpace(s); s != "" {
		return s
	}
	return def
}

// validate says what is wrong with the settings of an enabled school login.
func (o OIDC) validate() []error {
	if !o.Enabled() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && loopbackHost(u.Hostname())) {
		errs = append(errs, fmt.Errorf("oidc issuer %q is not an issuer URL: copy it from your provider, e.g. \"https://accounts.google.com\" "+
			"(https, except for a provider on this laptop)", o.Issuer))
	}
	if strings.TrimSpace(o.ClientID) == "" {
		errs = append(errs, errors.New("oidc client_id is empty: register classhub as a client at your provider and copy its client id"))
	}
	if len(o.AllowedDomains) == 0 && len(o.AllowedGroups) == 0 && len(o.AdminUsers) == 0 && len(o.AdminGroups) == 0 {
		errs = append(errs, errors.New("oidc needs allowed_domains or allowed_groups (or admin_users): without them anyone "+
			"with an account at the provider, for Google anyone at all, could log in"))
	}
	for _, d := range o.AllowedDomains {
		if !validHost(d) {
			errs = append(errs, fmt.Errorf("oidc allowed_domains holds %q, which is not a domain: write it like \"school.example\", without @", d))
		}
	}
	if slices.ContainsFunc(slices.Concat(o.AllowedGroups, o.AdminUsers, o.AdminGroups), func(v string) bool { return strings.TrimSpace(v) == "" }) {
		errs = append(errs, errors.New("oidc allowed_groups, admin_users or admin_groups holds an empty name: remove it"))
	}
	return errs
}

// loopbackHost reports whether host is this machine, where a provider may
// serve plain HTTP because nothing crosses a network.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
