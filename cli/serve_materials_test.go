package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
)

// TestServeSaysWhatIsWrongWithMaterials: serve --materials refuses a
// folder it cannot share before anything starts, naming it by its whole
// path (one typed relative is relative to where it was typed), and a
// relative folder in the file is refused as such.
func TestServeSaysWhatIsWrongWithMaterials(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		arg, want string
	}{
		{filepath.Join(dir, "none"), "materials folder " + filepath.Join(dir, "none") + " does not exist: create it"},
		{"no-such-folder", "materials folder " + filepath.Join(wd, "no-such-folder") + " does not exist"},
		{dir, "materials folder " + dir + " is inside classhub's data dir"},
	} {
		_, errs, code := run(t, dir, "serve", "--listen", "127.0.0.1:0", "--materials", tt.arg)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("serve --materials %s: %d %q, want an error saying %q", tt.arg, code, errs, tt.want)
		}
	}
	// A config file kept with the materials holds secrets.
	shared := t.TempDir()
	own := filepath.Join(shared, "class.toml")
	if err := os.WriteFile(own, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, dir, "serve", "--listen", "127.0.0.1:0", "--config", own, "--materials", shared); code == 0 ||
		!strings.Contains(errs, "holds "+own+", which students must not read") {
		t.Errorf("serve --config inside --materials: %d %q", code, errs)
	}
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte("materials = \"data\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, dir, "serve", "--listen", "127.0.0.1:0"); code == 0 || !strings.Contains(errs, `materials "data" is not a full path`) {
		t.Errorf("serve with a relative materials in the file: %d %q", code, errs)
	}
}
