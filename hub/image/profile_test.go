package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLookupProfileNamesTheChoices(t *testing.T) {
	if p, err := LookupProfile(DefaultProfile); err != nil || p.Name != "scipy" {
		t.Fatalf("LookupProfile(default) = %+v, %v", p, err)
	}
	_, err := LookupProfile("datascience")
	if err == nil || !strings.Contains(err.Error(), "scipy, lab, classic") {
		t.Fatalf("LookupProfile(unknown) = %v, want the choices named", err)
	}
}

// TestProfilesAreConsistent pins what each profile promises: scipy is lab
// plus the scientific stack, no profile stands in for a package it
// installs, and the Lab images keep Node.js out.
func TestProfilesAreConsistent(t *testing.T) {
	lab, _ := LookupProfile("lab")
	scipy, _ := LookupProfile("scipy")
	classic, _ := LookupProfile("classic")
	for _, p := range lab.Packages {
		if !slices.Contains(scipy.Packages, p) {
			t.Errorf("scipy lacks lab's %s", p)
		}
	}
	for _, p := range []string{"python3-numpy", "python3-pandas", "python3-matplotlib", "python3-scipy", "python3-sklearn", "python3-seaborn", "python3-ipywidgets"} {
		if !slices.Contains(scipy.Packages, p) {
			t.Errorf("scipy lacks %s", p)
		}
	}
	for _, prof := range Profiles {
		for _, d := range prof.Dummies {
			if slices.Contains(prof.Packages, d) {
				t.Errorf("%s both installs and stands in for %s", prof.Name, d)
			}
		}
		if prof.Check == "" || !strings.Contains(prof.Check, "jupyterhub-singleuser") {
			t.Errorf("%s does not check jupyterhub-singleuser runs: %q", prof.Name, prof.Check)
		}
	}
	for _, node := range []string{"node-configurable-http-proxy", "webpack", "yarnpkg", "jest"} {
		if !slices.Contains(lab.Dummies, node) {
			t.Errorf("lab installs %s", node)
		}
	}
	if classic.Suite != "bookworm" || lab.Suite != "trixie" || scipy.Suite != "trixie" {
		t.Errorf("suites: classic %s, lab %s, scipy %s", classic.Suite, lab.Suite, scipy.Suite)
	}
}

func TestExtraPackagesMustBeDebianNames(t *testing.T) {
	lab, _ := LookupProfile("lab")
	got, err := lab.withPackages([]string{"python3-sympy", "r-base"})
	if err != nil || !slices.Contains(got.Packages, "python3-sympy") || !slices.Contains(got.Packages, "r-base") {
		t.Fatalf("withPackages = %v, %v", got.Packages, err)
	}
	if slices.Contains(lab.Packages, "python3-sympy") {
		t.Fatal("withPackages changed the profile it was called on")
	}
	for _, bad := range []string{"--variant=extract", "Python3", "a b", "x;rm", "/tmp/x.deb"} {
		if _, err := lab.withPackages([]string{bad}); err == nil || !strings.Contains(err.Error(), "not a Debian package name") {
			t.Errorf("withPackages(%q) = %v, want refused", bad, err)
		}
	}
}

// TestLabImagesRunTheKernelInTheStudentsVolume checks the overlay: the
// kernel spec found first (JUPYTER_PATH) starts the wrapper, which keeps its
// virtual environment under the work volume.
func TestLabImagesRunTheKernelInTheStudentsVolume(t *testing.T) {
	lab, _ := LookupProfile("lab")
	dir, err := writeOverlay(t.TempDir(), lab)
	if err != nil || dir == "" {
		t.Fatalf("writeOverlay = %q, %v", dir, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "usr/local/bin/classhub-python"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("kernel wrapper: %v, %v", fi, err)
	}
	wrapper, _ := os.ReadFile(filepath.Join(dir, "usr/local/bin/classhub-python"))
	if !strings.Contains(string(wrapper), `venv="$HOME/work/.venv"`) || !strings.Contains(string(wrapper), "--system-site-packages") {
		t.Errorf("wrapper does not keep a system-site venv in the work volume:\n%s", wrapper)
	}
	raw, err := os.ReadFile(filepath.Join(dir, overlayJupyterPath[1:], "kernels/python3/kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct{ Argv []string }
	if err := json.Unmarshal(raw, &spec); err != nil || len(spec.Argv) == 0 || spec.Argv[0] != "/usr/local/bin/classhub-python" {
		t.Fatalf("kernel.json argv = %v, %v", spec.Argv, err)
	}
	if !slices.Contains(lab.Env, "JUPYTER_PATH="+overlayJupyterPath) {
		t.Errorf("lab's env %v does not put the kernel first", lab.Env)
	}
	args := mmdebstrapArgs("root", lab, nil, dir, MirrorSources("http://m.invalid/debian", "trixie"), "/w/out.tar")
	if !slices.Contains(args, "--customize-hook=sync-in "+dir+" /") {
		t.Errorf("args do not copy the overlay in:\n%s", strings.Join(args, "\n"))
	}
	classic, _ := LookupProfile("classic")
	if dir, err := writeOverlay(t.TempDir(), classic); err != nil || dir != "" {
		t.Errorf("classic overlay = %q, %v; want none", dir, err)
	}
}

func TestBuildCommandBuildsTheImageNamed(t *testing.T) {
	for ref, want := range map[string]string{
		"classhub/notebook:latest":  "classhub image build",
		"classhub/notebook:classic": "classhub image build --profile classic --tag classhub/notebook:classic",
		"classhub/notebook:lab":     "classhub image build --profile lab --tag classhub/notebook:lab",
		"classhub/notebook:mine":    "classhub image build --tag classhub/notebook:mine",
		"course:2":                  "classhub image build --tag course:2",
	} {
		if got := BuildCommand(ref); got != want {
			t.Errorf("BuildCommand(%q) = %q, want %q", ref, got, want)
		}
	}
}
