package app

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

func TestListenFor(t *testing.T) {
	class, personal := config.Default(), config.Default()
	personal.Mode = config.ModePersonal
	custom := config.Default()
	custom.Listen = "192.168.1.5:8000"
	for _, tt := range []struct {
		name string
		old  config.Config
		mode string
		port int
		want string
	}{
		{"class default stays empty", class, config.ModeClass, 8000, ""},
		{"class, other port", class, config.ModeClass, 9000, "0.0.0.0:9000"},
		{"to personal: loopback", class, config.ModePersonal, 9000, "127.0.0.1:9000"},
		{"to personal, default port", class, config.ModePersonal, 8000, ""},
		{"personal to class: all interfaces", func() config.Config { c := personal; c.Listen = "127.0.0.1:9000"; return c }(), config.ModeClass, 9000, "0.0.0.0:9000"},
		{"a chosen address keeps its host", custom, config.ModeClass, 9000, "192.168.1.5:9000"},
	} {
		if got := ListenFor(tt.old, tt.mode, tt.port); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSettingsChanges(t *testing.T) {
	old := config.Default()
	change := func(f func(*config.Config)) config.Config { c := old; f(&c); return c }
	for _, tt := range []struct {
		name string
		new  config.Config
		want []string
	}{
		{"nothing", old, nil},
		{"idle timeout", change(func(c *config.Config) { c.IdleTimeout = config.Duration(2 * time.Hour) }),
			[]string{"Changes to the idle timeout take effect when the hub restarts."}},
		{"mode and port", change(func(c *config.Config) { c.Mode, c.Listen = config.ModePersonal, "127.0.0.1:9000" }),
			// Personal mode on loopback serves plain HTTP.
			[]string{"Changes to the mode, port and HTTPS take effect when the hub restarts.", "The class link changes: share the new one with students."}},
		{"https off", change(func(c *config.Config) { c.TLS = config.TLSOff }),
			[]string{"Changes to the HTTPS take effect when the hub restarts.", "The class link changes: share the new one with students."}},
		{"own certificate", change(func(c *config.Config) { c.TLS, c.TLSCert, c.TLSKey = config.TLSFiles, "a.pem", "a.key" }),
			[]string{"Changes to the HTTPS take effect when the hub restarts."}},
		{"limits", change(func(c *config.Config) { c.MemoryLimit, c.CPULimit = "4G", 2 }),
			[]string{"Changes to the memory limit and CPU limit need each server's container to be recreated: after the hub restarts, " +
				"a stopped server gets a new container at its next start; a running one keeps the old settings until it is " +
				"stopped and started again. Work folders are kept."}},
	} {
		if got := SettingsChanges(old, tt.new); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
	if got := SettingsChanges(old, change(func(c *config.Config) { c.Image = "other:1" })); len(got) != 1 || !strings.Contains(got[0], "image need") {
		t.Errorf("image: %q", got)
	}
}

// writeConfig writes a config file with settings the window does not show.
func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), config.FileName)
	cfg := config.Default()
	cfg.Network, cfg.HubPort, cfg.Environment = "lesson-net", 18081, map[string]string{"COURSE": "stats101"}
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSettingsSaveWritesTheConfigFile(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	restarted := 0
	s := NewSettings(path, func() { restarted++ })
	test.NewTempWindow(t, s.Content())
	if err := s.Load(config.Default(), true); err != nil {
		t.Fatal(err)
	}
	if s.port.Text != "8000" || s.image.Text != config.DefaultImage || s.memory.Text != "2G" || s.idle.Text != "1h" {
		t.Errorf("form shows port %q image %q memory %q idle %q", s.port.Text, s.image.Text, s.memory.Text, s.idle.Text)
	}

	s.mode.SetSelected(modeChoices[1])
	s.port.SetText("9000")
	s.memory.SetText("4G")
	s.cpu.SetText("1.5")
	s.idle.SetText("30m")
	s.pull.SetSelected(config.PullNever)
	if s.claim.Checked {
		t.Error("first-come claiming of students is on by default")
	}
	s.claim.SetChecked(true)
	test.Tap(s.save)

	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != config.ModePersonal || got.Listen != "127.0.0.1:9000" || got.MemoryLimit != "4G" || got.CPULimit != 1.5 ||
		time.Duration(got.IdleTimeout) != 30*time.Minute || got.PullPolicy != config.PullNever || !got.ClaimAccounts {
		t.Errorf("saved %+v", got)
	}
	if got.Network != "lesson-net" || got.HubPort != 18081 || got.Environment["COURSE"] != "stats101" {
		t.Errorf("saving lost settings the window does not show: %+v", got)
	}
	for _, want := range []string{"Saved.", "mode, port, idle timeout, pull policy, HTTPS and logins take effect when the hub restarts",
		"memory limit and CPU limit need each server's container to be recreated"} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result %q lacks %q", s.result.Text, want)
		}
	}
	if !s.restart.Visible() {
		t.Fatal("no Restart button after changes the hub needs a restart for")
	}
	test.Tap(s.restart)
	if restarted != 1 {
		t.Errorf("restart ran %d times", restarted)
	}
}

func TestSettingsRefusesBadValues(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	before, _ := os.ReadFile(path)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), false)
	s.port.SetText("80000")
	s.cpu.SetText("lots")
	s.memory.SetText("much")
	test.Tap(s.save)
	for _, want := range []string{"Not saved", "port \"80000\" is not a port", "CPU limit \"lots\" is not a number"} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result %q lacks %q", s.result.Text, want)
		}
	}
	s.port.SetText("8000")
	s.cpu.SetText("1")
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "memory_limit: size \"much\"") {
		t.Errorf("result %q does not explain the memory limit", s.result.Text)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused save changed the file")
	}
	if s.restart.Visible() {
		t.Error("Restart offered after a refused save")
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 30 * time.Minute: "30m", 90 * time.Minute: "1h30m", 0: "0s", 45 * time.Second: "45s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSettingsMarkup(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings("/home/teacher/.local/share/classhub/classhub.toml", nil)
	s.path = path
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(560, 640))
	s.Load(config.Default(), true)
	test.AssertRendersToMarkup(t, "settings.xml", w.Canvas())
}

func TestJoinCodeChangeNeedsARestart(t *testing.T) {
	old := config.Default()
	changed := old
	changed.JoinCode = "maths-101"
	got := strings.Join(SettingsChanges(old, changed), " ")
	if !strings.Contains(got, "join code") {
		t.Errorf("SettingsChanges for a new join code = %q", got)
	}
}

func TestSettingsHTTPS(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), false)
	if s.tls.Selected != tlsChoices[0].label || !s.tlsCert.Disabled() {
		t.Fatalf("a new config shows HTTPS %q, certificate enabled %v; want automatic, no files", s.tls.Selected, !s.tlsCert.Disabled())
	}
	load := func() config.Config {
		t.Helper()
		c, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	s.tls.SetSelected(tlsChoices[2].label)
	if s.tlsCert.Disabled() || s.tlsKey.Disabled() {
		t.Fatal("choosing my own certificate leaves its files disabled")
	}
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "Not saved") || !strings.Contains(s.result.Text, "needs tls_cert and tls_key") {
		t.Errorf("own certificate without files: %q", s.result.Text)
	}
	s.tlsCert.SetText("/etc/ssl/class.pem")
	s.tlsKey.SetText("/etc/ssl/class.key")
	test.Tap(s.save)
	if c := load(); c.TLS != config.TLSFiles || c.TLSCert != "/etc/ssl/class.pem" || c.TLSKey != "/etc/ssl/class.key" {
		t.Errorf("saved tls %q cert %q key %q", c.TLS, c.TLSCert, c.TLSKey)
	}

	s.tls.SetSelected(tlsChoices[3].label)
	test.Tap(s.save)
	if c := load(); c.TLS != config.TLSOff || c.TLSCert != "" || c.TLSMode() != config.TLSOff {
		t.Errorf("plain HTTP saved tls %q cert %q", c.TLS, c.TLSCert)
	}

	s.tls.SetSelected(tlsChoices[0].label)
	test.Tap(s.save)
	if c := load(); c.TLS != "" || c.TLSMode() != config.TLSAuto {
		t.Errorf("automatic saved tls %q (mode %q), want it unset so that class mode serves HTTPS", c.TLS, c.TLSMode())
	}
}

// TestSettingsOffersTheEnginesNotebookImages: the image is chosen among
// the engine's notebook images, and the hint says what the chosen one is.
func TestSettingsOffersTheEnginesNotebookImages(t *testing.T) {
	test.NewTempApp(t)
	s := NewSettings(writeConfig(t), nil)
	test.NewTempWindow(t, s.Content())
	s.Load(config.Default(), false)
	s.SetImages([]hub.LocalImage{
		{Ref: "classhub/notebook:scipy", Size: 912 << 20, Profile: "scipy"},
		{Ref: "course:2026", Size: 3 << 30},
	})
	if _, ok := s.images["course:2026"]; !ok || len(s.images) != 2 {
		t.Errorf("image choices = %v", s.images)
	}
	for _, tc := range []struct{ ref, want string }{
		{"classhub/notebook:scipy", "JupyterLab 4 with numpy"},
		{"classhub/notebook:scipy", "(scipy, 912 MiB)"},
		{"course:2026", "in the engine, 3.0 GiB"},
		{"quay.io/jupyter/scipy-notebook:latest", "not in the engine: it is pulled"},
		{"course:2026", "their next start"},
	} {
		s.image.SetText(tc.ref)
		if !strings.Contains(s.imageItem.HintText, tc.want) {
			t.Errorf("image %s: hint %q lacks %q", tc.ref, s.imageItem.HintText, tc.want)
		}
	}
	s.image.SetText("")
	if s.imageItem.HintText != "" {
		t.Errorf("no image, yet the hint says %q", s.imageItem.HintText)
	}
}

// TestSettingsApplyANewImageAtOnce: with the hub running, a new image
// applies through the hub with no restart; other changes still wait for
// one; a refused image saves nothing.
func TestSettingsApplyANewImageAtOnce(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	var asked []string
	s.SetImageFunc(func(ref string) (hub.ImageChange, error) {
		asked = append(asked, ref)
		if ref == "Bad Image" {
			return hub.ImageChange{}, errors.New(`"Bad Image" is not an image name: write it as Docker does`)
		}
		return hub.ImageChange{Image: ref, Previous: config.DefaultImage, Saved: true, Stale: 2}, nil
	})
	if err := s.Load(config.Default(), true); err != nil {
		t.Fatal(err)
	}

	s.image.SetText("classhub/notebook:classic")
	test.Tap(s.save)
	if !slices.Equal(asked, []string{"classhub/notebook:classic"}) {
		t.Fatalf("the hub was asked for %q", asked)
	}
	if got, _ := config.Load(path); got.Image != "classhub/notebook:classic" || got.Network != "lesson-net" {
		t.Errorf("saved %+v", got)
	}
	for _, want := range []string{"Saved. Servers start from classhub/notebook:classic from now on, each at its next start",
		"2 running servers still run another image"} {
		if !strings.Contains(s.result.Text, want) {
			t.Errorf("result %q lacks %q", s.result.Text, want)
		}
	}
	if s.restart.Visible() || strings.Contains(s.result.Text, "restart") || strings.Contains(s.result.Text, "already runs") {
		t.Errorf("a new image alone asks for a restart: %q", s.result.Text)
	}

	// Saved again unchanged: the hub already runs it.
	test.Tap(s.save)
	if len(asked) != 1 || !strings.Contains(s.result.Text, "already runs with these settings") {
		t.Errorf("saving the same image asked the hub again (%q): %q", asked, s.result.Text)
	}

	// With another change, that one still needs the restart.
	s.image.SetText("course:2")
	s.memory.SetText("4G")
	test.Tap(s.save)
	if len(asked) != 2 || !s.restart.Visible() || !strings.Contains(s.result.Text, "Changes to the memory limit need") ||
		strings.Contains(s.result.Text, "image need") {
		t.Errorf("image and memory: asked %q, restart shown %t, %q", asked, s.restart.Visible(), s.result.Text)
	}

	s.image.SetText("Bad Image")
	s.memory.SetText("1G")
	test.Tap(s.save)
	if got, _ := config.Load(path); got.Image != "course:2" || got.MemoryLimit != "4G" {
		t.Errorf("a refused image saved %+v", got)
	}
	if !strings.HasPrefix(s.result.Text, `Not saved: "Bad Image" is not an image name`) {
		t.Errorf("result %q", s.result.Text)
	}
}

// TestSettingsWithoutAHubSaveTheImageForItsStart: no hub, no live change.
func TestSettingsWithoutAHubSaveTheImageForItsStart(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	s.SetImageFunc(func(ref string) (hub.ImageChange, error) {
		t.Errorf("a hub that is not running was asked to run %s", ref)
		return hub.ImageChange{}, nil
	})
	if err := s.Load(config.Default(), false); err != nil {
		t.Fatal(err)
	}
	s.image.SetText("classhub/notebook:classic")
	test.Tap(s.save)
	if got, _ := config.Load(path); got.Image != "classhub/notebook:classic" || !strings.Contains(s.result.Text, "uses these settings when it starts") {
		t.Errorf("saved %q: %q", got.Image, s.result.Text)
	}
}

func TestSettingsImageMode(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	if err := s.Load(config.Default(), true); err != nil {
		t.Fatal(err)
	}
	if s.imageMode.Selected != config.ImageModeAuto {
		t.Errorf("image mode shows %q, want auto", s.imageMode.Selected)
	}
	s.imageMode.SetSelected(config.ImageModeServer)
	test.Tap(s.save)
	got, err := config.Load(path)
	if err != nil || got.ImageMode != config.ImageModeServer {
		t.Fatalf("saved image_mode %q, %v", got.ImageMode, err)
	}
	if !strings.Contains(s.result.Text, "image mode need each server's container to be recreated") {
		t.Errorf("the result says %q", s.result.Text)
	}
}
