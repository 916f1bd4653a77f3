package spawner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"
)

// RoleHandout marks what handing out and collecting a folder make in the
// engine: the volume a handed-out folder is staged in, and the one-shot
// containers that copy it into a student's volume or read their folder.
const RoleHandout = "handout"

// A handed-out folder is staged once in a volume of its own, then copied
// into each student's volume by a one-shot container of the notebook
// image that mounts only the staged folder (read-only) and that student's
// volume, running as the image's user with no capabilities and no
// network. A student's volume is theirs to fill with anything, symlinks
// included; whatever a link points at, the only place such a container
// can write is that student's own volume, and it can read nothing of the
// host or of another student.

// Staged layout: the files under stagedFiles, and stagedManifest listing
// "SHA-256<TAB>path" per file, paths relative and never with a newline.
const (
	stagedFiles    = "files"
	stagedManifest = "manifest"
)

// handoutRecord is where a student's volume keeps, per folder, the
// manifest of what was last handed out to them: a file that still has
// the hash handed out was not changed by the student and may be replaced.
// It lives in their volume because it describes their files; a student
// who edits it can only make their own files look changed or unchanged.
const handoutRecord = ".classhub/handout"

// handoutScript merges the staged folder into $1 under the work folder
// ($3) and prints one line per file: copied, updated (it was unchanged
// since the last handout), same, kept (the student changed it: the new
// version lands beside it, named with $2), or failed. A link or anything
// but a plain file where a file goes counts as changed.
const handoutScript = `set -u
src=/from/` + stagedFiles + ` man=/from/` + stagedManifest + `
dst=$3/$1 rec=$3/` + handoutRecord + `/$1
mkdir -p "$dst" "${rec%/*}" || { echo "failed	.	cannot make the folder"; exit 0; }
while IFS='	' read -r h f; do
	s=$src/$f t=$dst/$f
	if [ ! -e "$t" ] && [ ! -L "$t" ]; then
		if mkdir -p "${t%/*}" 2>/dev/null && cp "$s" "$t" 2>/dev/null; then echo "copied	$f"; else echo "failed	$f	cannot write"; fi
		continue
	fi
	if [ -f "$t" ] && [ ! -L "$t" ]; then
		c=$(sha256sum < "$t" 2>/dev/null) || c=
		c=${c%% *}
		if [ "$c" = "$h" ]; then echo "same	$f"; continue; fi
		o=
		[ -f "$rec" ] && [ ! -L "$rec" ] && o=$(awk -F'	' -v f="$f" '$2 == f { print $1; exit }' "$rec")
		if [ -n "$o" ] && [ "$c" = "$o" ]; then
			if cp "$s" "$t" 2>/dev/null; then echo "updated	$f"; else echo "failed	$f	cannot write"; fi
			continue
		fi
	fi
	d=${t%/*} b=${t##*/}
	case $b in ?*.*) stem=${b%.*} ext=.${b##*.} ;; *) stem=$b ext= ;; esac
	n=1 nb="$stem ($2)$ext"
	while [ -e "$d/$nb" ] || [ -L "$d/$nb" ]; do n=$((n+1)); nb="$stem ($2 $n)$ext"; done
	if cp "$s" "$d/$nb" 2>/dev/null; then echo "kept	$f	$nb"; else echo "failed	$f	cannot write beside it"; fi
done < "$man"
if [ ! -L "$rec" ]; then cp "$man" "$rec.new" 2>/dev/null && mv -f "$rec.new" "$rec"; fi
exit 0
`

// FileResult is what handing out did with one file for one student.
type FileResult struct {
	// Path is the file's path inside the handed-out folder.
	Path string `json:"path"`
	// Outcome is copied, updated, same, kept or failed.
	Outcome string `json:"outcome"`
	// Beside is, when kept, the name the new version got next to the
	// student's; when failed, why.
	Beside string `json:"beside,omitempty"`
}

// ErrNoFolder is matched by a collect from a student who has no such
// folder (or no files at all yet).
var ErrNoFolder = errors.New("no such folder")

// LabelHandoutFolder and LabelHandoutNetwork label a staged folder: its name in the work folder, and
// the hub's network, which tells one hub's handouts from another's on a
// shared engine.
const (
	LabelHandoutFolder  = "classhub.handout.folder"
	LabelHandoutNetwork = "classhub.handout.network"
)

// StageFolder puts folder dir to hand out into a volume of its own, from
// files, a tar stream laid out as stagedFiles and stagedManifest, and
// returns the volume's name for Handout, and Keep or Unstage.
func (d *Docker) StageFolder(ctx context.Context, dir string, files io.Reader) (string, error) {
	img, err := d.cli.ImageInspect(ctx, d.cfg.Image)
	if err != nil {
		return "", fmt.Errorf("handing out runs in the notebook image %s, which the engine does not have (%v): start any server once, then try again", d.cfg.Image, engine.Explain(err))
	}
	var b [4]byte
	rand.Read(b[:])
	name := namePrefix + "handout-" + hex.EncodeToString(b[:])
	labels := d.labels(RoleHandout, "")
	labels[LabelHandoutFolder], labels[LabelHandoutNetwork] = dir, d.cfg.Network
	if _, err := d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local", Labels: labels}); err != nil {
		return "", fmt.Errorf("volume %s: %w", name, engine.Explain(err))
	}
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: img.ID, User: "0:0", Entrypoint: []string{"/bin/true"}, Labels: d.labels(RoleHandout, ""),
	}, &container.HostConfig{
		NetworkMode: "none", ReadonlyRootfs: true,
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: "/from", VolumeOptions: &mount.VolumeOptions{NoCopy: true}}},
	}, nil, nil, name)
	if err != nil {
		d.removeVolume(context.WithoutCancel(ctx), name)
		return "", fmt.Errorf("create: %w", engine.Explain(err))
	}
	err = d.cli.CopyToContainer(ctx, resp.ID, "/from", files, container.CopyToContainerOptions{})
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	d.removeContainer(rctx, resp.ID)
	cancel()
	if err != nil {
		d.removeVolume(context.WithoutCancel(ctx), name)
		return "", fmt.Errorf("copy the folder into the engine: %w", engine.Explain(err))
	}
	return name, nil
}

// FreeSpace reports the bytes free on the disk the engine keeps its
// volumes on, when that disk is this machine's and can be read.
func (d *Docker) FreeSpace(ctx context.Context) (int64, bool) {
	info, err := d.cli.Info(ctx)
	if err != nil || info.DockerRootDir == "" {
		return 0, false
	}
	return DiskFree(info.DockerRootDir)
}

// Keep keeps the staged folder for the students whose volume is made
// later, at their first start (see applyKept), in place of any folder of
// the same name staged before.
func (d *Docker) Keep(ctx context.Context, staged string) error {
	v, err := d.cli.VolumeInspect(ctx, staged)
	if err != nil {
		return fmt.Errorf("volume %s: %w", staged, engine.Explain(err))
	}
	kept, err := d.keptHandouts(ctx, filters.Arg("label", LabelHandoutFolder+"="+v.Labels[LabelHandoutFolder]))
	if err != nil {
		return err
	}
	for _, k := range kept {
		if k.Name != staged {
			if err := d.removeVolume(ctx, k.Name); err != nil {
				return fmt.Errorf("remove %s, an earlier version of %s: %w", k.Name, v.Labels[LabelHandoutFolder], err)
			}
		}
	}
	return nil
}

// keptHandouts lists this hub's staged folders.
func (d *Docker) keptHandouts(ctx context.Context, extra ...filters.KeyValuePair) ([]*volume.Volume, error) {
	f := filters.NewArgs(append(extra, filters.Arg("label", engine.ManagedFilter()),
		filters.Arg("label", engine.LabelRole+"="+RoleHandout),
		filters.Arg("label", LabelHandoutNetwork+"="+d.cfg.Network))...)
	resp, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list handed-out folders: %w", engine.Explain(err))
	}
	return resp.Volumes, nil
}

// applyKept hands every kept folder out into a volume made by this start,
// so a student added after a handout finds it at their first start. A
// failure is told, and the server starts all the same.
func (d *Docker) applyKept(ctx context.Context, sp spec, rep report) {
	kept, err := d.keptHandouts(ctx)
	if err != nil || len(kept) == 0 {
		return
	}
	rep.progress(sp.user, 28, events.PhaseCreating, "Copying the handed-out folders")
	for _, k := range kept {
		dir := k.Labels[LabelHandoutFolder]
		if _, err := d.handoutInto(ctx, k.Name, sp.user, sp.volume, dir, "handout "+time.Now().Format("2006-01-02")); err != nil {
			d.notice(sp.user, fmt.Sprintf("classhub could not hand %s out to %s at their first start (%v): hand it out again with `classhub handout`.", dir, sp.user, err))
		}
	}
}

// Unstage removes a volume StageFolder made.
func (d *Docker) Unstage(ctx context.Context, staged string) error {
	return d.removeVolume(ctx, staged)
}

// Handout merges the staged folder into folder dir of the account's work
// volume (see handoutScript), whether its server runs or not; an account
// without a volume yet gets one, as its first start would. stamp names
// the new versions that land beside changed files.
func (d *Docker) Handout(ctx context.Context, staged, user string, acct Account, dir, stamp string) ([]FileResult, error) {
	vol, err := d.volumeForFiles(ctx, user, acct, true)
	if err != nil {
		return nil, err
	}
	return d.handoutInto(ctx, staged, user, vol, dir, stamp)
}

// helperImage is the notebook image's ID and the user its folder
// helpers run as: the image's own, or 1000:100 for an image that runs as
// root.
func (d *Docker) helperImage(ctx context.Context) (id, runAs string, err error) {
	img, err := d.cli.ImageInspect(ctx, d.cfg.Image)
	if err != nil {
		return "", "", fmt.Errorf("the notebook image %s: %w", d.cfg.Image, engine.Explain(err))
	}
	runAs = "1000:100"
	if img.Config != nil && !runsAsRoot(img.Config.User) {
		runAs = img.Config.User
	}
	return img.ID, runAs, nil
}

func (d *Docker) handoutInto(ctx context.Context, staged, user, vol, dir, stamp string) ([]FileResult, error) {
	imageID, runAs, err := d.helperImage(ctx)
	if err != nil {
		return nil, err
	}
	out, code, err := d.runFolderHelper(ctx, imageID, user, runAs, handoutScript, []string{dir, stamp, WorkDir}, []mount.Mount{
		{Type: mount.TypeVolume, Source: staged, Target: "/from", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
		// Without NoCopy, a new volume gets the image's work folder (and
		// its owner), as at a server's first start.
		{Type: mount.TypeVolume, Source: vol, Target: WorkDir},
	})
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("exit code %d: %s", code, lastOf(out, 3))
	}
	var rs []FileResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) < 2 {
			continue
		}
		r := FileResult{Outcome: f[0], Path: f[1]}
		if len(f) == 3 {
			r.Beside = f[2]
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func lastOf(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// volumeForFiles names the account's work volume: its own, or the one an
// older classhub named by the user alone; with create, an account with
// neither gets its own now, and without it ErrNoFolder is returned.
func (d *Docker) volumeForFiles(ctx context.Context, user string, acct Account, create bool) (string, error) {
	if acct.Key == "" {
		return "", fmt.Errorf("%s's account has no key", user)
	}
	if err := acct.valid(); err != nil {
		return "", err
	}
	if v, ok, err := d.accountVolume(ctx, acct.Key); err != nil || ok {
		return v.Name, err
	}
	if v, ok, err := d.legacyVolume(ctx, user, acct); err != nil || ok {
		return v.Name, err
	}
	if !create {
		return "", fmt.Errorf("%s has no files yet: %w", user, ErrNoFolder)
	}
	name := AccountVolumeName(user, acct.Key)
	return name, d.createAccountVolume(ctx, name, user, acct.Key)
}

// CollectFolder returns folder dir of the account's work volume as a tar
// stream whose entries start with dir, read through a container that is
// created but never started and mounts only that volume, read-only, so
// nothing of the student's changes. A link inside is an entry like any
// other, never followed; dir itself must be a real folder. Close removes
// the container.
func (d *Docker) CollectFolder(ctx context.Context, user string, acct Account, dir string) (io.ReadCloser, error) {
	vol, err := d.volumeForFiles(ctx, user, acct, false)
	if err != nil {
		return nil, err
	}
	img, err := d.cli.ImageInspect(ctx, d.cfg.Image)
	if err != nil {
		return nil, fmt.Errorf("collecting reads through the notebook image %s, which the engine does not have (%v): start any server once, then try again", d.cfg.Image, engine.Explain(err))
	}
	var b [4]byte
	rand.Read(b[:])
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: img.ID, Entrypoint: []string{"/bin/true"}, Labels: d.labels(RoleHandout, user),
	}, &container.HostConfig{
		NetworkMode: "none", ReadonlyRootfs: true,
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: WorkDir, ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}}},
	}, nil, nil, "classhub-collect-"+hex.EncodeToString(b[:]))
	if err != nil {
		return nil, fmt.Errorf("create: %w", engine.Explain(err))
	}
	remove := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		cancel()
	}
	path := WorkDir + "/" + dir
	st, err := d.cli.ContainerStatPath(ctx, resp.ID, path)
	if err != nil || !st.Mode.IsDir() || st.LinkTarget != "" {
		remove()
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("%s has no folder %s: %w", user, dir, ErrNoFolder)
		}
		return nil, fmt.Errorf("read %s's folder %s: %w", user, dir, engine.Explain(err))
	}
	rc, _, err := d.cli.CopyFromContainer(ctx, resp.ID, path)
	if err != nil {
		remove()
		return nil, fmt.Errorf("read %s's folder %s: %w", user, dir, engine.Explain(err))
	}
	return &closeFunc{ReadCloser: rc, after: remove}, nil
}

// folderBytesScript prints, per argument, the bytes under it (files,
// links as links, and each folder's own block), or "-" when it is not a
// real folder. du never follows links; what the image's user cannot read
// is left out.
const folderBytesScript = `for d; do
	if [ -d "$d" ] && [ ! -L "$d" ]; then s=$(du -sb -- "$d" 2>/dev/null); echo "${s%%	*}"; else echo -; fi
done
exit 0
`

// folderBytesBatch bounds the volumes one sizing container mounts.
const folderBytesBatch = 50

// FolderBytes adds up, per user of accts, the bytes in folder dir of
// their work volume: about what collecting it will write. A user without a
// volume or the folder is left out. The volumes are mounted read-only,
// many in one container that is started once, so sizing a class costs
// one container start, not one a student.
func (d *Docker) FolderBytes(ctx context.Context, dir string, accts map[string]Account) (map[string]int64, error) {
	imageID, runAs, err := d.helperImage(ctx)
	if err != nil {
		return nil, err
	}
	type target struct{ user, vol string }
	var todo []target
	for user, acct := range accts {
		vol, err := d.volumeForFiles(ctx, user, acct, false)
		if errors.Is(err, ErrNoFolder) {
			continue
		}
		if err != nil {
			return nil, err
		}
		todo = append(todo, target{user, vol})
	}
	sizes := map[string]int64{}
	for len(todo) > 0 {
		batch := todo[:min(len(todo), folderBytesBatch)]
		todo = todo[len(batch):]
		var mounts []mount.Mount
		var args []string
		for i, t := range batch {
			at := fmt.Sprintf("/v/%d", i)
			mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: t.vol, Target: at, ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}})
			args = append(args, at+"/"+dir)
		}
		out, _, err := d.runFolderHelper(ctx, imageID, "", runAs, folderBytesScript, args, mounts)
		if err != nil {
			return nil, fmt.Errorf("measure the folders %s: %w", dir, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(batch) {
			return nil, fmt.Errorf("measure the folders %s: %d answers for %d students", dir, len(lines), len(batch))
		}
		for i, t := range batch {
			if n, err := strconv.ParseInt(lines[i], 10, 64); err == nil {
				sizes[t.user] = n
			}
		}
	}
	return sizes, nil
}

type closeFunc struct {
	io.ReadCloser
	after func()
}

func (c *closeFunc) Close() error {
	err := c.ReadCloser.Close()
	c.after()
	return err
}

// runFolderHelper runs script with args in a one-shot container of image
// id as runAs, with no capabilities and no network, and returns what it
// printed and its exit code. The container is removed.
func (d *Docker) runFolderHelper(ctx context.Context, imageID, user, runAs, script string, args []string, mounts []mount.Mount) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var b [4]byte
	rand.Read(b[:])
	pids := int64(32)
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: imageID, User: runAs, WorkingDir: "/",
		Entrypoint:  append([]string{"/bin/sh", "-c", script, "classhub-handout"}, args...),
		Labels:      d.labels(RoleHandout, user),
		Healthcheck: &container.HealthConfig{Test: []string{"NONE"}},
	}, &container.HostConfig{
		NetworkMode:    "none",
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{noNewPrivileges},
		ReadonlyRootfs: true,
		Resources:      container.Resources{PidsLimit: &pids, Memory: 256 << 20},
		Mounts:         mounts,
	}, nil, nil, "classhub-handout-"+hex.EncodeToString(b[:]))
	if err != nil {
		return "", 0, fmt.Errorf("create: %w", engine.Explain(err))
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		rcancel()
	}()
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return "", 0, fmt.Errorf("start: %w", engine.Explain(err))
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	var code int
	select {
	case w := <-waitC:
		code = int(w.StatusCode)
	case err := <-errC:
		return "", 0, fmt.Errorf("wait: %w", engine.Explain(err))
	}
	rc, err := d.cli.ContainerLogs(ctx, resp.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", code, fmt.Errorf("read its output: %w", engine.Explain(err))
	}
	defer rc.Close()
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, rc); err != nil {
		return "", code, fmt.Errorf("read its output: %w", err)
	}
	if code != 0 {
		return out.String() + errb.String(), code, nil
	}
	return out.String(), code, nil
}
