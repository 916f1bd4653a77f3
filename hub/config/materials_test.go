package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestCheckMaterials: a folder of its own anywhere else is shared; every
// folder that would show students something else, or nothing, is refused
// with a sentence that names it and says what to do.
func TestCheckMaterials(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	data := filepath.Join(home, ".local", "share", "classhub")
	good := filepath.Join(home, "class", "week1")
	for _, d := range []string{data, good} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	file := filepath.Join(good, "slides.pdf")
	if err := os.WriteFile(file, []byte("%PDF"), 0o644); err != nil {
		t.Fatal(err)
	}
	linkToData := filepath.Join(root, "looks-harmless")
	if err := os.Symlink(filepath.Join(data, ".."), linkToData); err != nil {
		t.Fatal(err)
	}
	linkToGood := filepath.Join(root, "week1")
	if err := os.Symlink(good, linkToGood); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"", good, linkToGood, filepath.Join(home, "class")} {
		if err := CheckMaterials(ok, data); err != nil {
			t.Errorf("CheckMaterials(%q) = %v, want nil", ok, err)
		}
	}
	bad := map[string]string{
		"class/week1":                      "not a full path",
		filepath.Join(root, "missing"):     "does not exist: create it",
		file:                               "is a file, not a folder",
		data:                               "inside classhub's data dir",
		filepath.Join(data, "..", ".."):    "holds classhub's data dir",
		linkToData:                         "holds classhub's data dir",
		home:                               "holds classhub's data dir",
		root:                               "holds classhub's data dir",
		string(filepath.Separator):         "holds classhub's data dir",
		filepath.Join(home, ".", "class/"): "", // fine, cleaned
	}
	if runtime.GOOS == "linux" {
		bad["/etc"] = "is a system folder"
		bad["/proc/self"] = "is a system folder"
		bad["/usr"] = "holds much more than a class needs"
		if _, err := os.Stat("/var/run"); err == nil {
			bad["/var/run"] = "Docker socket"
		}
	}
	for dir, want := range bad {
		err := CheckMaterials(dir, data)
		if want == "" {
			if err != nil {
				t.Errorf("CheckMaterials(%q) = %v, want nil", dir, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ":") {
			t.Errorf("CheckMaterials(%q) = %v, want a sentence with %q", dir, err, want)
		}
	}
	// The home folder itself, when the data dir lives elsewhere.
	elsewhere := filepath.Join(root, "data")
	if err := CheckMaterials(home, elsewhere); err == nil || !strings.Contains(err.Error(), "home folder") {
		t.Errorf("CheckMaterials(home) = %v, want the home folder refused", err)
	}
}

// TestMaterialsInFile: the setting is read from and written to the file,
// and a relative path is refused by Validate, as every surface loads it.
func TestMaterialsInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := Default()
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "materials") {
		t.Errorf("a file without materials mentions them:\n%s", b)
	}
	dir := t.TempDir()
	c.Materials = dir
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || got.Materials != dir {
		t.Fatalf("Load = %q, %v; want %q", got.Materials, err, dir)
	}
	if err := os.WriteFile(path, []byte("materials = \"class/data\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `materials "class/data" is not a full path`) {
		t.Errorf("Load of a relative materials = %v", err)
	}
}

// TestMountsInside: disks mounted inside the folder are found, escapes
// included; the folder's own mount and mounts beside it are not.
func TestMountsInside(t *testing.T) {
	table := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 8:17 / /srv/class rw shared:2 - ext4 /dev/sdb1 rw
41 40 8:33 / /srv/class/usb\040stick rw shared:3 - vfat /dev/sdc1 rw
42 22 0:40 / /srv/classic rw shared:4 - tmpfs tmpfs rw
`
	if got := mountsInside("/srv/class", table); len(got) != 1 || got[0] != "/srv/class/usb stick" {
		t.Errorf("mountsInside(/srv/class) = %q", got)
	}
	if got := mountsInside("/srv/classic", table); len(got) != 0 {
		t.Errorf("mountsInside(/srv/classic) = %q", got)
	}
	if got := unescapeMount(`a\134b\011c\040`); got != "a\\b\tc " {
		t.Errorf("unescapeMount = %q", got)
	}
}

// TestCheckMaterialsSecrets: a config file or TLS key kept outside the
// data dir is never shared with the folder that holds it.
func TestCheckMaterialsSecrets(t *testing.T) {
	dir := t.TempDir()
	data := t.TempDir()
	key := filepath.Join(dir, "tls", "class.key")
	if err := CheckMaterials(dir, data, "", filepath.Join(t.TempDir(), FileName)); err != nil {
		t.Errorf("secrets elsewhere: %v", err)
	}
	for _, secret := range []string{key, filepath.Join(dir, FileName)} {
		err := CheckMaterials(dir, data, secret)
		if err == nil || !strings.Contains(err.Error(), "holds "+secret+", which students must not read: move it out") {
			t.Errorf("CheckMaterials with %s inside = %v", secret, err)
		}
	}
}
