package app

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/hub/config"
)

// TestAddUsersShowsTheirCredentials: new students' setup codes and new
// admins' passwords are shown once, with a copy button.
func TestAddUsersShowsTheirCredentials(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	u.addUsers([]string{"alice"}, false)
	f.wantCall(t, q, "add alice admin=false")
	q.until(t, "the setup code", func() bool { return shown(u.win, LabelHandouts) })
	d := topDialog(t, u.win)
	if !containsText(d, "alice\tsetup code code-alice") {
		t.Errorf("the dialog says %q", texts(d))
	}
	test.Tap(button(t, d, LabelCopyHandouts))
	if got := u.app.Clipboard().Content(); got != "alice\tsetup code code-alice" {
		t.Errorf("copied %q", got)
	}
	u.addUsers([]string{"ta"}, true)
	f.wantCall(t, q, "add ta admin=true")
	q.until(t, "the password", func() bool { return shown(u.win, "ta\tpassword pw-ta") })
}

func TestResetFromTheDashboard(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice"))
	u, f, q := h.u, h.f, h.q
	u.confirmReset("alice")
	d := topDialog(t, u.win)
	if !containsText(d, "running server keeps running") {
		t.Errorf("the question says %q", texts(d))
	}
	test.Tap(button(t, d, LabelReset))
	f.wantCall(t, q, "reset alice")
	q.until(t, "the new setup code", func() bool { return shown(u.win, "alice\tsetup code code-alice") })
	if !strings.Contains(u.st.Notice, "Reset alice's password") {
		t.Errorf("notice %q", u.st.Notice)
	}
}

func TestSettingsSetsTheOwnersPassword(t *testing.T) {
	test.NewTempApp(t)
	s := NewSettings(writeConfig(t), nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), false)
	if err := s.SetPassword(); err == nil || !strings.Contains(s.passwordResult.Text, "not running") {
		t.Errorf("without a hub: %v, %q", err, s.passwordResult.Text)
	}
	var set []string
	s.SetPasswordFunc(func(pw string) error {
		if len(pw) < 8 {
			return errors.New("the password is too short: use at least 8 characters")
		}
		set = append(set, pw)
		return nil
	})
	for typed, want := range map[[2]string]string{
		{"a-long-password", "another-password"}: "not the same",
		{"short", "short"}:                      "too short",
	} {
		test.Type(s.password, typed[0])
		test.Type(s.confirm, typed[1])
		test.Tap(s.setPassword)
		if !strings.Contains(s.passwordResult.Text, want) || len(set) != 0 {
			t.Errorf("%q: result %q, set %q", typed, s.passwordResult.Text, set)
		}
		if s.password.Text != "" || s.confirm.Text != "" {
			t.Error("the password fields keep what was typed")
		}
	}
	test.Type(s.password, "the owner's password")
	test.Type(s.confirm, "the owner's password")
	test.Tap(s.setPassword)
	if len(set) != 1 || set[0] != "the owner's password" || !strings.Contains(s.passwordResult.Text, "is set") {
		t.Errorf("set %q, result %q", set, s.passwordResult.Text)
	}
}

func TestSetupCodesFromTheDashboard(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice"))
	u, f, q := h.u, h.f, h.q
	q.until(t, "the rows", func() bool { return u.st.Row("alice") != nil })
	test.Tap(button(t, u.win.Content(), LabelSetupCodes))
	d := topDialog(t, u.win)
	if !containsText(d, "codes handed out before stop working") {
		t.Errorf("the question says %q", texts(d))
	}
	test.Tap(button(t, d, LabelNewCodes))
	f.wantCall(t, q, "renew alice,teacher")
	q.until(t, "the new code", func() bool { return shown(u.win, "alice\tsetup code new-alice") })
}
