package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetImageChangesOnlyTheImage: the instructor's comments, layout and
// other settings survive; only the image line changes, or is added before
// the first table.
func TestSetImageChangesOnlyTheImage(t *testing.T) {
	for _, tc := range []struct{ name, before, after string }{
		{"replaces the line and keeps its comment",
			"# my class\nmode = \"class\"\n  image = \"classhub/notebook:classic\"   # old laptops\nmemory_limit = \"1G\" # per student\n\n[github]\nclient_id = \"x\"\n",
			"# my class\nmode = \"class\"\n  image = \"classhub/notebook:latest\"   # old laptops\nmemory_limit = \"1G\" # per student\n\n[github]\nclient_id = \"x\"\n"},
		{"keeps a # inside the old value out of the comment",
			"image = 'course#1:latest' # the course's\n",
			"image = \"classhub/notebook:latest\" # the course's\n"},
		{"adds the line before the first table",
			"# my class\nmemory_limit = \"1G\"\n\n# school logins\n[oidc]\nissuer = \"https://id.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n",
			"# my class\nmemory_limit = \"1G\"\nimage = \"classhub/notebook:latest\"\n\n# school logins\n[oidc]\nissuer = \"https://id.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"},
		{"adds the line after the opening comment of a file with only tables",
			"# my class\n# year 9\n\n[github]\nclient_id = \"x\"\n",
			"# my class\n# year 9\nimage = \"classhub/notebook:latest\"\n\n[github]\nclient_id = \"x\"\n"},
		{"adds the line to a file without a final newline",
			"memory_limit = \"1G\"",
			"memory_limit = \"1G\"\nimage = \"classhub/notebook:latest\"\n"},
		{"leaves an image in a table alone",
			"mode = \"class\"\n[environment]\nimage = \"not-the-setting\"\n",
			"mode = \"class\"\nimage = \"classhub/notebook:latest\"\n[environment]\nimage = \"not-the-setting\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(tc.before), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := SetImage(path, "classhub/notebook:latest"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.after {
				t.Errorf("file is now\n%s\nwant\n%s", got, tc.after)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
			}
		})
	}
}

func TestSetImageWritesOnlyTheImageToANewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	if err := SetImage(path, "classhub/notebook:classic"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Count(string(data), "=") != 1 || !strings.Contains(string(data), `image = "classhub/notebook:classic"`) {
		t.Errorf("a new file holds more than the image, so later defaults would not apply:\n%s", data)
	}
	c, err := Load(path)
	if err != nil || c.Image != "classhub/notebook:classic" || c.MemoryLimit != Default().MemoryLimit {
		t.Errorf("Load = %+v, %v", c, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file may hold secrets", fi.Mode().Perm())
	}
}

// TestSetImageLeavesABadFileAlone: a file that does not read is not
// rewritten, and neither is one whose layout the edit would change in
// other ways than the image.
func TestSetImageLeavesABadFileAlone(t *testing.T) {
	for name, text := range map[string]string{
		"broken TOML":      "mode = \"class\nimage = \"x\"\n",
		"unknown setting":  "colour = \"blue\"\n",
		"multi-line image": "image = \"\"\"\nclasshub/notebook:classic\"\"\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			err := SetImage(path, "classhub/notebook:latest")
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("SetImage = %v, want an error naming the file", err)
			}
			if got, _ := os.ReadFile(path); string(got) != text {
				t.Errorf("the file changed:\n%s", got)
			}
		})
	}
}
