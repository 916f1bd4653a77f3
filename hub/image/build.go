// Package image makes classhub's notebook images without a container
// registry: a Debian root filesystem built from the machine's own Debian
// mirror with mmdebstrap, holding the real jupyterhub-singleuser (5.2 with
// JupyterLab 4 from Debian 13, or 3.0 with the classic Notebook from Debian
// 12; see Profiles), imported into the engine through the Docker API.
// Classrooms that are offline or locked down can still run real Jupyter.
package image

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/classhub/classhub/hub/engine"
	dockerimage "github.com/docker/docker/api/types/image"
)

// baseChanges are every image's settings: imported images carry no config at
// all, hence PATH.
var baseChanges = []string{
	`ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
	`ENV LANG=C.UTF-8 SHELL=/bin/bash HOME=/home/jovyan NB_USER=jovyan NB_UID=1000 NB_GID=100`,
	`ENV PYDEVD_DISABLE_FILE_VALIDATION=1`,
	`USER jovyan`,
	`WORKDIR /home/jovyan`,
	`EXPOSE 8888`,
	`ENTRYPOINT ["tini", "-g", "--"]`,
	`CMD ["jupyterhub-singleuser"]`,
}

// Progress is one step of a build, for people watching it.
type Progress struct {
	Step string
	// Detail names what the step is busy with, e.g. a package.
	Detail  string
	Percent int
}

// Options configure Build.
type Options struct {
	// Tag names the image, e.g. classhub/notebook:latest.
	Tag string
	// Profile names what the image holds (see Profiles); empty means
	// DefaultProfile.
	Profile string
	// Packages are Debian packages to install beside the profile's.
	Packages []string
	// Sources are the Debian archive entries to build from, for the
	// profile's suite; empty means the machine's own mirror
	// (MachineSources("/etc/apt", suite)).
	Sources []AptSource
	// WorkDir holds the dummy packages and the root filesystem tarball
	// (about 350 MB) while building; empty means a new temporary folder.
	WorkDir string
	// Version is the classhub version recorded in the image's labels.
	Version string
	// Progress, if set, is told of each step.
	Progress func(Progress)
	// Log, if set, receives mmdebstrap's full output.
	Log io.Writer
}

// Importer is the part of the Docker client Build needs.
type Importer interface {
	ImageImport(ctx context.Context, source dockerimage.ImportSource, ref string, options dockerimage.ImportOptions) (io.ReadCloser, error)
}

// Preflight checks what a build needs before minutes are spent on it and
// returns the mmdebstrap mode to use.
func Preflight() (mode string, err error) {
	for _, tool := range []string{"mmdebstrap", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not installed: run `sudo apt-get install mmdebstrap` and try again", tool)
		}
	}
	if os.Geteuid() == 0 {
		return "root", nil
	}
	// Without root, mmdebstrap builds inside a user namespace; that needs
	// newuidmap and subordinate ids for this user.
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return "", errors.New("building the image needs root or user namespaces: run `sudo classhub image build`, or install uidmap (`sudo apt-get install uidmap`)")
	}
	return "unshare", nil
}

// Build makes the image and returns its ID.
func Build(ctx context.Context, docker Importer, opts Options) (string, error) {
	report := func(p Progress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	if opts.Tag == "" {
		return "", errors.New("image build: no tag given")
	}
	prof, err := LookupProfile(cmp.Or(opts.Profile, DefaultProfile))
	if err != nil {
		return "", err
	}
	if prof, err = prof.withPackages(opts.Packages); err != nil {
		return "", err
	}
	mode, err := Preflight()
	if err != nil {
		return "", err
	}
	if len(opts.Sources) == 0 {
		if opts.Sources, err = MachineSources("/etc/apt", prof.Suite); err != nil {
			return "", err
		}
	}
	work := opts.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "classhub-image-"); err != nil {
			return "", fmt.Errorf("image build: %w", err)
		}
		defer os.RemoveAll(work)
	}
	if work, err = filepath.Abs(work); err != nil {
		return "", fmt.Errorf("image build: %w", err)
	}

	report(Progress{Step: "Preparing stand-in packages", Percent: 1})
	var debs []string
	for _, name := range prof.Dummies {
		deb, err := dummyDeb(ctx, work, name)
		if err != nil {
			return "", err
		}
		debs = append(debs, deb)
	}

	tarball := filepath.Join(work, "rootfs.tar")
	overlay, err := writeOverlay(work, prof)
	if err != nil {
		return "", err
	}
	args := mmdebstrapArgs(mode, prof, debs, overlay, opts.Sources, tarball)
	if err := runMmdebstrap(ctx, args, opts.Log, prof, report); err != nil {
		return "", err
	}

	report(Progress{Step: "Importing into the Docker engine", Percent: 92})
	id, err := importTar(ctx, docker, tarball, prof, opts)
	if err != nil {
		return "", err
	}
	report(Progress{Step: "Image ready: " + opts.Tag, Percent: 100})
	return id, nil
}

// mmdebstrapArgs builds the command line: apt variant (dependencies
// resolved by apt, unlike debootstrap), merged-usr hook (else usrmerge pulls
// perl), docs stripped, jovyan added, the overlay (a directory or "")
// copied in, and the profile's self-check. Local .deb files each need an
// --include of their own: mmdebstrap takes a value with a slash in it as one
// path.
func mmdebstrapArgs(mode string, prof Profile, debs []string, overlay string, sources []AptSource, out string) []string {
	args := []string{
		"--mode=" + mode,
		"--variant=apt",
		"--skip=output/dev",
		// --verbose shows apt's "Setting up" lines, the only sign of
		// progress in the long install step.
		"--verbose",
		"--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
		"--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/info/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-include=/usr/share/locale/locale.alias",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-include=/usr/share/doc/*/copyright",
		"--include=" + strings.Join(prof.Packages, ","),
		`--customize-hook=echo 'jovyan:x:1000:100:Jupyter user:/home/jovyan:/bin/bash' >> "$1/etc/passwd"`,
		`--customize-hook=echo 'jovyan:*:19000:0:99999:7:::' >> "$1/etc/shadow"`,
		`--customize-hook=mkdir -p "$1/home/jovyan/work" && cp -rT "$1/etc/skel" "$1/home/jovyan" && chown -R 1000:100 "$1/home/jovyan"`,
	}
	for _, path := range prof.Exclude {
		args = append(args, "--dpkgopt=path-exclude="+path)
	}
	if overlay != "" {
		args = append(args, "--customize-hook=sync-in "+overlay+" /")
	}
	args = append(args, `--customize-hook=chroot "$1" sh -c '`+prof.Check+`'`)
	for _, deb := range debs {
		args = append(args, "--include="+deb)
	}
	args = append(args, prof.Suite, out)
	for _, s := range sources {
		args = append(args, s.Line())
	}
	return args
}

// steps maps mmdebstrap's "I:" lines to how far along a build is; the
// weights come from timing its phases (installing the remaining packages
// is about two thirds of the time).
var steps = []struct {
	prefix, step string
	percent      int
}{
	{"I: running apt-get update", "Reading the Debian package lists", 4},
	{"I: downloading packages", "Downloading Debian packages", 10},
	{"I: extracting archives", "Unpacking the base system", 20},
	{"I: installing essential packages", "Installing the base system", 30},
	{"I: installing remaining packages", "Installing Jupyter (the longest step)", 40},
	{"I: running --customize-hook", "Adding user jovyan and checking jupyterhub-singleuser", 85},
	{"I: cleaning package lists", "Cleaning up", 88},
	{"I: creating tarball", "Packing the root filesystem", 89},
}

// The install step sets up about 150 packages; its progress is counted in
// "Setting up" lines between these percentages.
const (
	installStep     = 4
	installFrom     = 40
	installTo       = 84
	installEstimate = 150
)

func runMmdebstrap(ctx context.Context, args []string, log io.Writer, prof Profile, report func(Progress)) error {
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	// Keep the tail for the error message: the cause is nearly always in
	// the last lines (an apt error, an unreachable mirror).
	var tail []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		last := -1
		installed := 0
		for sc.Scan() {
			line := sc.Text()
			if log != nil {
				fmt.Fprintln(log, line)
			}
			if tail = append(tail, line); len(tail) > 12 {
				tail = tail[1:]
			}
			for i, s := range steps {
				if i > last && strings.HasPrefix(line, s.prefix) {
					last = i
					report(Progress{Step: s.step, Percent: s.percent})
				}
			}
			if last == installStep && strings.HasPrefix(line, "Setting up ") {
				installed++
				pct := installFrom + installed*(installTo-installFrom)/installEstimate
				report(Progress{Step: steps[installStep].step, Detail: strings.Fields(line)[2], Percent: min(pct, installTo)})
			}
		}
		io.Copy(io.Discard, pr)
	}()
	report(Progress{Step: "Starting mmdebstrap (Debian " + prof.Suite + ", profile " + prof.Name + ")", Percent: 2})
	err := cmd.Run()
	pw.Close()
	<-done
	if ctx.Err() != nil {
		return fmt.Errorf("image build cancelled: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("mmdebstrap failed (%v); check that the Debian mirror is reachable and that you are root. Last lines:\n%s", err, strings.Join(tail, "\n"))
	}
	return nil
}

// dummyDeb writes an empty package called name, version 99:0~dummy, so apt
// takes the dependency as met.
func dummyDeb(ctx context.Context, work, name string) (string, error) {
	dir := filepath.Join(work, "dummy-"+name)
	if err := os.MkdirAll(filepath.Join(dir, "DEBIAN"), 0o755); err != nil {
		return "", fmt.Errorf("stand-in %s: %w", name, err)
	}
	control := fmt.Sprintf("Package: %s\nVersion: 99:0~dummy\nArchitecture: all\nMaintainer: classhub <classhub@localhost>\n"+
		"Description: empty stand-in installed by classhub image build\n", name)
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		return "", fmt.Errorf("stand-in %s: %w", name, err)
	}
	deb := filepath.Join(work, name+"_dummy_all.deb")
	out, err := exec.CommandContext(ctx, "dpkg-deb", "--root-owner-group", "-b", dir, deb).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("stand-in %s: dpkg-deb: %v: %s", name, err, out)
	}
	return deb, nil
}

func importTar(ctx context.Context, docker Importer, tarball string, prof Profile, opts Options) (string, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	changes := append([]string(nil), baseChanges...)
	for _, env := range prof.Env {
		changes = append(changes, "ENV "+env)
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	// No LabelManaged here: containers inherit their image's labels, and
	// a container someone runs by hand from this image is not ours.
	changes = append(changes, fmt.Sprintf(`LABEL %s=notebook-image %s=%q %s=%s %s=%s org.classhub.built-by="classhub image build" org.classhub.debian-suite=%s`,
		engine.LabelRole, engine.LabelVersion, version, LabelProfile, prof.Name, engine.LabelJupyterHub, prof.JupyterHub, prof.Suite))
	rc, err := docker.ImageImport(ctx, dockerimage.ImportSource{Source: f, SourceName: "-"}, opts.Tag,
		dockerimage.ImportOptions{Changes: changes, Message: "classhub image build"})
	if err != nil {
		return "", fmt.Errorf("import into Docker: %w", engine.Explain(err))
	}
	defer rc.Close()
	return readImportID(rc)
}

// readImportID reads the engine's answer to an image import and returns
// the new image's ID.
func readImportID(rc io.Reader) (string, error) {
	var id string
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("import into Docker: reading the engine's answer: %w", err)
		}
		if msg.Error != "" {
			return "", fmt.Errorf("import into Docker: %s", msg.Error)
		}
		if strings.HasPrefix(msg.Status, "sha256:") {
			id = strings.TrimSpace(msg.Status)
		}
	}
	if id == "" {
		return "", errors.New("import into Docker: the engine did not return an image ID")
	}
	return id, nil
}
