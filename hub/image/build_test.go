package image

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTool puts an executable script called name first on PATH.
func fakeTool(t *testing.T, name, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestMmdebstrapArgsGiveEachLocalDebItsOwnInclude(t *testing.T) {
	classic, err := LookupProfile("classic")
	if err != nil {
		t.Fatal(err)
	}
	args := mmdebstrapArgs("root", classic, []string{"/w/a.deb", "/w/b.deb"}, "", MirrorSources("http://m.invalid/debian", "bookworm"), "/w/out.tar")
	for _, want := range []string{"--include=/w/a.deb", "--include=/w/b.deb", "--include=" + strings.Join(classic.Packages, ","), "--mode=root"} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, strings.Join(args, "\n"))
		}
	}
	// Positional arguments come last, in mmdebstrap's order: suite,
	// target, then one mirror line per source.
	tail := args[len(args)-4:]
	want := []string{"bookworm", "/w/out.tar", "deb http://m.invalid/debian bookworm main", "deb http://m.invalid/debian bookworm-updates main"}
	if !slices.Equal(tail, want) {
		t.Errorf("positional args = %q, want %q", tail, want)
	}
}

func TestRunMmdebstrapReportsStepsInOrder(t *testing.T) {
	fakeTool(t, "mmdebstrap", `
echo "I: running apt-get update..."
echo "I: downloading packages with apt..." >&2
echo "Setting up too-early (1) ..."
echo "I: installing remaining packages inside the chroot..."
for p in a b c; do echo "Setting up python3-$p (1.0) ..."; done
echo "I: running --customize-hook in shell: sh -c 'x'"
echo "I: creating tarball..."
`)
	var got []Progress
	err := runMmdebstrap(context.Background(), nil, nil, Profile{Name: "lab", Suite: "trixie"}, func(p Progress) { got = append(got, p) })
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	last := -1
	for _, p := range got {
		if p.Percent < last {
			t.Errorf("progress went back from %d to %d at %q", last, p.Percent, p.Step)
		}
		last = p.Percent
		if p.Detail != "" {
			details = append(details, p.Detail)
		}
	}
	if want := []string{"python3-a", "python3-b", "python3-c"}; !slices.Equal(details, want) {
		t.Errorf("install details = %q, want %q (none from before the install step)", details, want)
	}
	if last != 89 {
		t.Errorf("last progress %d, want 89 (packing)", last)
	}
}

func TestRunMmdebstrapFailureCarriesTheCause(t *testing.T) {
	fakeTool(t, "mmdebstrap", `
echo "I: running apt-get update..."
echo "E: Failed to fetch http://mirror.invalid/debian/dists/bookworm/InRelease" >&2
exit 1
`)
	err := runMmdebstrap(context.Background(), nil, nil, Profile{Name: "lab", Suite: "trixie"}, func(Progress) {})
	if err == nil || !strings.Contains(err.Error(), "Failed to fetch") || !strings.Contains(err.Error(), "mirror is reachable") {
		t.Fatalf("err = %v, want the apt error and advice about the mirror", err)
	}
}

func TestPreflightNamesTheMissingTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Preflight()
	if err == nil || !strings.Contains(err.Error(), "apt-get install mmdebstrap") {
		t.Fatalf("Preflight() without mmdebstrap = %v, want install advice", err)
	}
}
