package app

import (
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/hub/config"
)

const schoolSecret = "school-s3cret"

// writeSchoolConfig writes a config file with a school login.
func writeSchoolConfig(t *testing.T) string {
	t.Helper()
	path := writeConfig(t)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OIDC = config.OIDC{Issuer: "https://login.school.example", ClientID: "classhub", ClientSecret: schoolSecret,
		AllowedDomains: []string{"school.example"}}
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSettingsSchoolLoginNeverShowsTheSecret(t *testing.T) {
	test.NewTempApp(t)
	path := writeSchoolConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	if err := s.Load(config.Default(), true); err != nil {
		t.Fatal(err)
	}
	f := s.oidc
	if f.issuer.Text != "https://login.school.example" || f.clientID.Text != "classhub" || f.domains.Text != "school.example" {
		t.Errorf("form shows issuer %q client %q domains %q", f.issuer.Text, f.clientID.Text, f.domains.Text)
	}
	if f.secret.Text != "" || !strings.Contains(f.secret.PlaceHolder, "saved") {
		t.Errorf("secret entry holds %q (placeholder %q): want it empty, saying a secret is saved", f.secret.Text, f.secret.PlaceHolder)
	}

	f.domains.SetText("school.example, annex.school.example")
	f.groups.SetText("class-7b")
	f.adminGroups.SetText("staff")
	f.nameClaim.SetText("preferred_username")
	test.Tap(s.save)
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	o := got.OIDC
	if string(o.ClientSecret) != schoolSecret {
		t.Errorf("saving without typing a secret changed it to %q", string(o.ClientSecret))
	}
	if strings.Join(o.AllowedDomains, " ") != "school.example annex.school.example" || strings.Join(o.AllowedGroups, " ") != "class-7b" ||
		strings.Join(o.AdminGroups, " ") != "staff" || o.UsernameClaim != "preferred_username" {
		t.Errorf("saved %+v", o)
	}
	if !strings.Contains(s.result.Text, "school login take effect when the hub restarts") {
		t.Errorf("result %q does not say the school login needs a restart", s.result.Text)
	}

	f.secret.SetText("new-s3cret")
	test.Tap(s.save)
	if got, _ := config.Load(path); string(got.OIDC.ClientSecret) != "new-s3cret" {
		t.Errorf("typed secret not saved: %q", string(got.OIDC.ClientSecret))
	}
	if f.secret.Text != "" || strings.Contains(s.result.Text, "s3cret") {
		t.Errorf("after saving, the secret entry holds %q and the result says %q", f.secret.Text, s.result.Text)
	}

	f.issuer.SetText("")
	test.Tap(s.save)
	if got, _ := config.Load(path); got.OIDC.Enabled() || got.OIDC.ClientSecret != "" || got.OIDC.ClientID != "classhub" {
		t.Errorf("turning the school login off saved %+v: want it off, the secret forgotten, the rest kept", got.OIDC)
	}
}

func TestSettingsRefusesABadSchoolLogin(t *testing.T) {
	test.NewTempApp(t)
	path := writeSchoolConfig(t)
	before, _ := os.ReadFile(path)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), false)
	s.oidc.issuer.SetText("http://login.school.example")
	s.oidc.domains.SetText("")
	s.oidc.secret.SetText("typed-s3cret")
	test.Tap(s.save)
	for _, want := range []string{"Not saved", "is not an issuer URL", "oidc needs allowed_domains or allowed_groups"} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result %q lacks %q", s.result.Text, want)
		}
	}
	if strings.Contains(s.result.Text, "s3cret") {
		t.Errorf("the refusal shows the secret: %q", s.result.Text)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused save changed the file")
	}
}
