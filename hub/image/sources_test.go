package image

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeApt(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMachineSourcesGivesTheReleasesSuites reads both formats and keeps
// the release's own entries; a trixie image on a bookworm machine gets the
// same mirrors with trixie's suites.
func TestMachineSourcesGivesTheReleasesSuites(t *testing.T) {
	for _, release := range []string{"bookworm", "trixie"} {
		got, err := MachineSources(bookwormApt(t), release)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, s := range got {
			lines = append(lines, s.Line())
		}
		want := []string{
			"deb http://mirror.invalid/debian " + release + " main contrib",
			"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.invalid/debian " + release + " main",
			"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.invalid/debian " + release + "-updates main",
			"deb http://mirror.invalid/debian-security " + release + "-security main",
		}
		if !reflect.DeepEqual(lines, want) {
			t.Errorf("MachineSources(%s) =\n%s\nwant\n%s", release, strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	}
}

// bookwormApt is a bookworm machine's apt configuration with vendor and
// disabled entries mixed in.
func bookwormApt(t *testing.T) string {
	return writeApt(t, map[string]string{
		"sources.list": "deb [arch=amd64 signed-by=/k/vendor.gpg] http://vendor.invalid/apt cloud-sdk-bookworm main\n" +
			"deb http://mirror.invalid/debian bookworm main contrib # trailing comment\n",
		"sources.list.d/debian.sources": "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\n" +
			"Suites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n" +
			"Types: deb deb-src\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n\n" +
			"Types: deb\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n",
		"sources.list.d/node.sources": "Types: deb\nURIs: http://node.invalid/node_20.x\nSuites: nodistro\nComponents: main\n",
	})
}

func TestMachineSourcesWithoutDebianSaysWhatToDo(t *testing.T) {
	dir := writeApt(t, map[string]string{
		"sources.list": "deb http://archive.invalid/ubuntu jammy main\n",
	})
	_, err := MachineSources(dir, "trixie")
	if err == nil || !strings.Contains(err.Error(), "--mirror") {
		t.Fatalf("MachineSources(no Debian) = %v, want advice to pass --mirror", err)
	}
}

func TestMirrorSources(t *testing.T) {
	got := MirrorSources("http://local.invalid/debian/", "trixie")
	if len(got) != 2 || got[0].Line() != "deb http://local.invalid/debian trixie main" {
		t.Fatalf("MirrorSources = %+v", got)
	}
}
