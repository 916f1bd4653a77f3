package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/classhub/classhub/hub/config"
)

// TestSettingsMaterials: the materials folder is typed in Settings, saved
// to the file, shown again, and applies at each server's next start; a
// folder that cannot be shared is refused with its reason, the file
// untouched.
func TestSettingsMaterials(t *testing.T) {
	test.NewTempApp(t)
	path := writeConfig(t)
	s := NewSettings(path, nil)
	test.NewTempWindow(t, s.Content())
	if err := s.Load(config.Default(), true); err != nil {
		t.Fatal(err)
	}
	if s.materials.Text != "" {
		t.Errorf("materials shows %q by default", s.materials.Text)
	}
	before, _ := os.ReadFile(path)
	missing := filepath.Join(t.TempDir(), "week1")
	dataDir := filepath.Dir(path)
	for typed, want := range map[string]string{
		"class/week1":                           `materials "class/week1" is not a full path`,
		missing:                                 "materials folder " + missing + " does not exist: create it",
		dataDir:                                 "inside classhub's data dir",
		filepath.Join(dataDir, config.FileName): "is a file, not a folder",
	} {
		s.materials.SetText(typed)
		test.Tap(s.save)
		if !strings.Contains(s.result.Text, "Not saved") || !strings.Contains(s.result.Text, want) {
			t.Errorf("saving materials %q: result %q lacks %q", typed, s.result.Text, want)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Fatalf("a refused materials folder %q changed the file", typed)
		}
	}

	if err := os.Mkdir(missing, 0o755); err != nil {
		t.Fatal(err)
	}
	s.materials.SetText("  " + missing + " ")
	test.Tap(s.save)
	got, err := config.Load(path)
	if err != nil || got.Materials != missing {
		t.Fatalf("saved materials %q, %v; want %q", got.Materials, err, missing)
	}
	if !strings.Contains(s.result.Text, "Saved.") || !strings.Contains(s.result.Text, "materials folder need each server's container to be recreated") {
		t.Errorf("result %q does not say when the folder applies", s.result.Text)
	}
	s2 := NewSettings(path, nil)
	test.NewTempWindow(t, s2.Content())
	if err := s2.Load(got, true); err != nil || s2.materials.Text != missing {
		t.Errorf("reloaded form shows %q, %v", s2.materials.Text, err)
	}

	// Emptied: no materials.
	s2.materials.SetText("")
	test.Tap(s2.save)
	if got, _ := config.Load(path); got.Materials != "" {
		t.Errorf("emptying the field saved %q", got.Materials)
	}
}
