package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func schoolLogin() OIDC {
	return OIDC{
		Issuer:         "https://login.school.example/realms/class",
		ClientID:       "classhub",
		ClientSecret:   "s3cret-do-not-log",
		AllowedDomains: []string{"school.example"},
		AdminUsers:     []string{"teacher@school.example"},
	}
}

func TestOIDCIsOffUntilItHasAnIssuer(t *testing.T) {
	if Default().OIDC.Enabled() {
		t.Fatal("the default config offers a school login")
	}
	off := Default()
	off.OIDC = schoolLogin()
	off.OIDC.Issuer = ""
	if off.OIDC.Enabled() {
		t.Error("a school login without an issuer is on")
	}
	if err := off.Validate(); err != nil {
		t.Errorf("settings kept while the school login is off are refused: %v", err)
	}
	o := OIDC{}
	if o.NameClaim() != "email" || o.GroupClaim() != "groups" || o.ButtonTitle() != "Log in with school account" {
		t.Errorf("defaults: claim %q, groups %q, title %q", o.NameClaim(), o.GroupClaim(), o.ButtonTitle())
	}
}

func TestValidateOIDCSaysWhatToWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*OIDC)
		want string // "" for valid
	}{
		{"good", func(*OIDC) {}, ""},
		{"groups only", func(o *OIDC) { o.AllowedDomains, o.AdminUsers, o.AllowedGroups = nil, nil, []string{"class-7b"} }, ""},
		{"keycloak on this laptop", func(o *OIDC) { o.Issuer = "http://127.0.0.1:8080/realms/class" }, ""},
		{"plain http over the network", func(o *OIDC) { o.Issuer = "http://login.school.example" }, "is not an issuer URL"},
		{"not a URL", func(o *OIDC) { o.Issuer = "login.school.example" }, "is not an issuer URL"},
		{"query", func(o *OIDC) { o.Issuer = "https://login.school.example/?x=1" }, "is not an issuer URL"},
		{"no client", func(o *OIDC) { o.ClientID = " " }, "client_id is empty"},
		{"anyone at all", func(o *OIDC) { o.AllowedDomains, o.AdminUsers = nil, nil }, "for Google anyone at all"},
		{"domain with @", func(o *OIDC) { o.AllowedDomains = []string{"@school.example"} }, "which is not a domain"},
		{"empty group", func(o *OIDC) { o.AllowedGroups = []string{""} }, "holds an empty name"},
	} {
		c := Default()
		c.OIDC = schoolLogin()
		tc.edit(&c.OIDC)
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestOIDCRoundTripsAndItsSecretNeverPrints(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := Default()
	c.OIDC = schoolLogin()
	c.OIDC.AllowedGroups = []string{"class-7b"}
	c.OIDC.UsernameClaim = "preferred_username"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.OIDC) != fmt.Sprint(c.OIDC) || string(got.OIDC.ClientSecret) != "s3cret-do-not-log" {
		t.Errorf("loaded %+v, saved %+v", got.OIDC, c.OIDC)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, got); strings.Contains(s, "s3cret") {
			t.Errorf("%s of the config shows the client secret: %s", verb, s)
		}
	}
	if err := Save(path, Default()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "oidc") {
		t.Errorf("a config without a school login writes an [oidc] table:\n%s", data)
	}
}
