package config

import (
	"os"
	"path/filepath"
	"testing"
)

// An image reference is checked before it is saved (core.ValidateImage),
// but SetImage itself must not let one write another setting: quotes,
// newlines, TOML's triple quotes, a table header or an array of tables,
// unicode line separators and control characters either stay inside the
// image's value, read back exactly, or are refused, and every other
// setting is as it was.
func TestSetImageCannotInjectSettings(t *testing.T) {
	for _, ref := range []string{
		"x\"\nimage_mode = \"server\"\n#",
		"x'\nallow_user_config = true",
		"x\"\"\"\nallow_user_config = true\n\"\"\"",
		"x\n[environment]\nJUPYTERHUB_API_TOKEN = \"t\"",
		"x\n[[oidc]]",
		"x\u2028allow_user_config = true",
		"x\u0085image_mode = \"server\"",
		"x\x00\ny = 1",
		"x\\\"\nimage_mode = \"server\"",
		"x\r\nimage_mode = \"server\"",
	} {
		path := filepath.Join(t.TempDir(), FileName)
		before := "mode = \"class\"\nimage = \"classhub/notebook:latest\"\nimage_mode = \"jupyterhub\"\n"
		if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := SetImage(path, ref); err != nil {
			t.Logf("refused %q: %v", ref, err)
			continue
		}
		c, err := Load(path)
		if err != nil {
			// Load validates the image; the file must still read.
			data, _ := os.ReadFile(path)
			if _, derr := decode(path, data); derr != nil {
				t.Errorf("SetImage(%q) left a file that does not read: %v", ref, derr)
				continue
			}
			c, _ = decode(path, data)
		}
		want := Default()
		want.Mode, want.ImageMode, want.Image = "class", "jupyterhub", ref
		if c.Image != ref || c.ImageMode != want.ImageMode || c.AllowUserConfig || len(c.Environment) != 0 || c.Mode != want.Mode {
			t.Errorf("SetImage(%q) read back as image %q, image_mode %q, allow_user_config %v, environment %v",
				ref, c.Image, c.ImageMode, c.AllowUserConfig, c.Environment)
		}
	}
}
