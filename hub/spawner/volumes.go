package spawner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
)

// RoleCopy marks the one-shot container that copies a work volume into
// another: an older classhub's volume into its account's, or a kept
// volume into the account it is restored to.
const RoleCopy = "volume-copy"

// Account is the hub account a user's files belong to. A username can be
// deleted and made again; an account cannot, so files follow the account.
type Account struct {
	// Key names the account for good (see core's accountKey); it is in
	// its volume's name and engine.LabelAccount. Empty means no account is
	// known (tools and tests without a store): the volume is then named by
	// the user alone, as classhub did before.
	Key string
	// Created is when the account was made. A volume named by the user
	// alone that is older than the account belonged to an earlier account
	// of the same name, and is never given to this one.
	Created time.Time
}

func (a Account) valid() error {
	for i := 0; i < len(a.Key); i++ {
		c := a.Key[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("account key %q may hold only a-z, 0-9 and '-'", a.Key)
		}
	}
	return nil
}

// Volume is a user's work volume as the engine has it.
type Volume struct {
	Name string `json:"name"`
	// User is the username the volume was made for.
	User string `json:"user"`
	// Account is the key of its account; empty on a volume an older
	// classhub made, which is named by the user alone.
	Account string    `json:"account,omitempty"`
	Created time.Time `json:"created,omitzero"`
	// Containers are the names of the containers that mount it.
	Containers []string `json:"containers,omitempty"`
}

// ErrHasFiles is matched by a restore to an account that has files of its
// own already.
var ErrHasFiles = errors.New("the account has files already")

// volumeFor returns the name of the account's work volume, ready to mount,
// and whether it was made now (empty). An account whose user has a
// volume from before accounts had keys gets that volume's files copied
// into its own at this start, when the volume is younger than the
// account and no server runs on it; the old volume is removed once the
// copy is complete. A copy cut short (the hub killed meanwhile) is made
// again from the start. It holds the user's lock.
func (d *Docker) volumeFor(ctx context.Context, req StartRequest, imageID string) (name string, fresh bool, err error) {
	user, acct := req.User, req.Account
	if acct.Key == "" {
		fresh, err := d.ensureVolume(ctx, user)
		return VolumeName(user), fresh, err
	}
	if err := acct.valid(); err != nil {
		return "", false, err
	}
	own, haveOwn, err := d.accountVolume(ctx, acct.Key)
	if err != nil {
		return "", false, err
	}
	legacy, haveLegacy, err := d.legacyVolume(ctx, user, acct)
	if err != nil || !haveLegacy {
		if haveOwn {
			return own.Name, false, err
		}
		name = AccountVolumeName(user, acct.Key)
		if err == nil {
			err = d.createAccountVolume(ctx, name, user, acct.Key)
		}
		return name, err == nil, err
	}
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return "", false, err
	}
	if found && info.State.Running {
		// Never copy files a server is writing: a running server keeps
		// its volume, and the next start after a stop moves it.
		for _, m := range info.Mounts {
			if m.Destination == WorkDir && m.Name != "" {
				return m.Name, false, nil
			}
		}
		return legacy.Name, false, nil
	}
	if found {
		// Its mount changes, so it would be replaced anyway; it must go
		// before the old volume can.
		if err := d.run.remove(ctx, info.ID); err != nil {
			return "", false, err
		}
	}
	name = AccountVolumeName(user, acct.Key)
	if haveOwn {
		name = own.Name
		cut, err := d.copyCutShort(ctx, imageID, user, own.Name)
		if err != nil {
			return "", false, fmt.Errorf("check volume %s, into which %s's files from %s were being moved: %w", own.Name, user, legacy.Name, err)
		}
		if !cut {
			// Moved, but the old volume could not be removed then.
			if err := d.removeVolume(ctx, legacy.Name); err != nil {
				d.noticeOnce("legacy:"+legacy.Name, user, fmt.Sprintf("%s's files are in volume %s; the old volume %s could not be removed (%v) and can be deleted by hand.", user, name, legacy.Name, err))
			}
			return name, false, nil
		}
		if err := d.removeVolume(ctx, own.Name); err != nil {
			return "", false, fmt.Errorf("remove volume %s, a copy of %s's files that was cut short: %w; their files are still in %s", own.Name, user, err, legacy.Name)
		}
	}
	if err := d.createAccountVolume(ctx, name, user, acct.Key); err != nil {
		return "", false, err
	}
	if err := d.copyVolume(ctx, imageID, user, legacy.Name, name); err != nil {
		d.removeVolume(context.WithoutCancel(ctx), name)
		return "", false, fmt.Errorf("move %s's files from volume %s into %s: %w; their files are still in %s", user, legacy.Name, name, err, legacy.Name)
	}
	if err := d.removeVolume(ctx, legacy.Name); err != nil {
		d.notice(user, fmt.Sprintf("Moved %s's files into volume %s; the old volume %s could not be removed (%v) and can be deleted by hand.", user, name, legacy.Name, err))
	}
	return name, false, nil
}

// accountVolume finds the volume labelled with the account's key, whatever
// its name (a renamed user keeps theirs).
func (d *Docker) accountVolume(ctx context.Context, key string) (Volume, bool, error) {
	vs, err := d.workVolumes(ctx, filters.Arg("label", engine.LabelAccount+"="+key))
	if err != nil || len(vs) == 0 {
		return Volume{}, false, err
	}
	if len(vs) > 1 {
		names := make([]string, len(vs))
		for i, v := range vs {
			names[i] = v.Name
		}
		return Volume{}, false, fmt.Errorf("the volumes %s all claim one account; keep the one with the files and delete the others (`docker volume rm NAME`)", strings.Join(names, ", "))
	}
	return vs[0], true, nil
}

// legacyVolume finds the volume an older classhub made for user, named by
// the user alone, when it belongs to acct: made by classhub for that
// user, and not before the account (the engine keeps whole seconds).
func (d *Docker) legacyVolume(ctx context.Context, user string, acct Account) (Volume, bool, error) {
	v, err := d.cli.VolumeInspect(ctx, VolumeName(user))
	if cerrdefs.IsNotFound(err) {
		return Volume{}, false, nil
	}
	if err != nil {
		return Volume{}, false, fmt.Errorf("volume %s: %w", VolumeName(user), engine.Explain(err))
	}
	vol := volumeOf(v)
	if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelRole] != RoleWork || vol.User != user || vol.Account != "" {
		return Volume{}, false, nil
	}
	if vol.Created.IsZero() || vol.Created.Before(acct.Created.Truncate(time.Second)) {
		return Volume{}, false, nil
	}
	return vol, true, nil
}

func (d *Docker) createAccountVolume(ctx context.Context, name, user, key string) error {
	labels := d.labels(RoleWork, user)
	labels[engine.LabelAccount] = key
	driver, err := d.volumeDriver(ctx, labels)
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	// The engine returns an existing volume of that name as it is.
	v, err := d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: driver, Labels: labels})
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, engine.Explain(err))
	}
	if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelAccount] != key {
		return fmt.Errorf("a Docker volume named %s exists but is not this account's: rename or remove it (`docker volume rm %s`): %w", name, name, ErrNotManaged)
	}
	return nil
}

// Volumes lists every work volume classhub made, with the containers that
// use it.
func (d *Docker) Volumes(ctx context.Context) ([]Volume, error) {
	vs, err := d.workVolumes(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", engine.Explain(err))
	}
	users := map[string][]string{}
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type == mount.TypeVolume {
				users[m.Name] = append(users[m.Name], strings.TrimPrefix(firstName(c.Names), "/"))
			}
		}
	}
	for i := range vs {
		vs[i].Containers = users[vs[i].Name]
	}
	return vs, nil
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func (d *Docker) workVolumes(ctx context.Context, extra ...filters.KeyValuePair) ([]Volume, error) {
	f := filters.NewArgs(append(extra, filters.Arg("label", engine.ManagedFilter()),
		filters.Arg("label", engine.LabelRole+"="+RoleWork))...)
	resp, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", engine.Explain(err))
	}
	out := make([]Volume, 0, len(resp.Volumes))
	for _, v := range resp.Volumes {
		if v != nil {
			out = append(out, volumeOf(*v))
		}
	}
	return out, nil
}

func volumeOf(v volume.Volume) Volume {
	t, _ := time.Parse(time.RFC3339, v.CreatedAt)
	return Volume{Name: v.Name, User: v.Labels[engine.LabelUser], Account: v.Labels[engine.LabelAccount], Created: t}
}

// work inspects a volume by name and checks that it is a work volume
// classhub made.
func (d *Docker) work(ctx context.Context, name string) (Volume, error) {
	v, err := d.cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return Volume{}, fmt.Errorf("there is no volume %s: `classhub volumes list` shows the kept ones: %w", name, cerrdefs.ErrNotFound)
	}
	if err != nil {
		return Volume{}, fmt.Errorf("volume %s: %w", name, engine.Explain(err))
	}
	if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelRole] != RoleWork {
		return Volume{}, fmt.Errorf("volume %s is not a work volume classhub made, so classhub leaves it alone: %w", name, ErrNotManaged)
	}
	return volumeOf(v), nil
}

// DeleteVolume removes the work volume name for good. It refuses while a
// container uses it. Which volumes may go is the hub's decision.
func (d *Docker) DeleteVolume(ctx context.Context, name string) error {
	if _, err := d.work(ctx, name); err != nil {
		return fmt.Errorf("delete volume %s: %w", name, err)
	}
	if err := d.removeVolume(ctx, name); err != nil {
		return fmt.Errorf("delete volume %s: %w", name, err)
	}
	d.notice("", fmt.Sprintf("Deleted volume %s.", name))
	return nil
}

func (d *Docker) removeVolume(ctx context.Context, name string) error {
	err := d.cli.VolumeRemove(ctx, name, false)
	switch {
	case err == nil, cerrdefs.IsNotFound(err):
		return nil
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("volume %s is in use by a container: delete that server first (`docker ps -a --filter volume=%s`): %w", name, name, ErrInUse)
	}
	return engine.Explain(err)
}

// RestoreVolume gives the files in volume name to user's account acct:
// they are copied into the account's own volume and name is removed. It
// refuses when the account has files already (ErrHasFiles) or a server
// container, so nothing of the account is ever overwritten. Which volume
// may go to which account is the hub's decision.
func (d *Docker) RestoreVolume(ctx context.Context, name, user string, acct Account) error {
	op := fmt.Sprintf("restore volume %s to %s", name, user)
	if acct.Key == "" {
		return fmt.Errorf("%s: the account has no key", op)
	}
	if err := acct.valid(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return d.withUser(ctx, user, op, false, func(info container.InspectResponse, found bool) error {
		src, err := d.work(ctx, name)
		if err != nil {
			return err
		}
		if src.Account == acct.Key {
			return nil // restored already
		}
		if found {
			return fmt.Errorf("%s has a server container (%s): delete their server first: %w", user, info.State.Status, ErrInUse)
		}
		if v, ok, err := d.accountVolume(ctx, acct.Key); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%s has files already (volume %s): delete them first, or restore to another account: %w", user, v.Name, ErrHasFiles)
		}
		if v, ok, err := d.legacyVolume(ctx, user, acct); err != nil {
			return err
		} else if ok && v.Name != name {
			return fmt.Errorf("%s has files already (volume %s): delete them first, or restore to another account: %w", user, v.Name, ErrHasFiles)
		}
		img, err := d.cli.ImageInspect(ctx, d.cfg.Image)
		if err != nil {
			return fmt.Errorf("the copy runs in the notebook image %s, which the engine does not have (%v): start any server once, then try again", d.cfg.Image, engine.Explain(err))
		}
		dst := AccountVolumeName(user, acct.Key)
		if err := d.createAccountVolume(ctx, dst, user, acct.Key); err != nil {
			return err
		}
		if err := d.copyVolume(ctx, img.ID, user, name, dst); err != nil {
			d.removeVolume(context.WithoutCancel(ctx), dst)
			return fmt.Errorf("copy: %w; the files are still in %s", err, name)
		}
		if err := d.removeVolume(ctx, name); err != nil {
			d.notice(user, fmt.Sprintf("Restored volume %s to %s; it could not be removed afterwards (%v) and can be deleted by hand.", name, user, err))
			return nil
		}
		d.notice(user, fmt.Sprintf("Restored volume %s to %s (now %s).", name, user, dst))
		return nil
	})
}

// copyMarker is in a volume while files are copied into it, so that a
// copy cut short (the hub killed meanwhile) is told from a finished one.
const copyMarker = ".classhub-copy-incomplete"

// copyScript copies everything in $1, the top directory's owner and mode
// included, into $2, as cp -a does, with copyMarker in $2 until it is done.
const copyScript = `set -e
: > "$2/` + copyMarker + `"
cp -a "$1/." "$2/"
rm -f "$2/` + copyMarker + `"
`

// copyVolume copies volume src into dst (see copyScript).
func (d *Docker) copyVolume(ctx context.Context, imageID, user, src, dst string) error {
	code, tail, err := d.runVolumeHelper(ctx, imageID, user, copyScript, []string{"/from", "/to"}, []mount.Mount{
		{Type: mount.TypeVolume, Source: src, Target: "/from", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
		{Type: mount.TypeVolume, Source: dst, Target: "/to", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
	})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit code %d: %s", code, tail)
	}
	return err
}

// copyCutShort reports whether a copy into volume vol was cut short.
func (d *Docker) copyCutShort(ctx context.Context, imageID, user, vol string) (bool, error) {
	code, tail, err := d.runVolumeHelper(ctx, imageID, user, `test -e "$1/`+copyMarker+`" || exit 3`, []string{"/to"}, []mount.Mount{
		{Type: mount.TypeVolume, Source: vol, Target: "/to", ReadOnly: true, VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
	})
	switch {
	case err != nil:
		return false, err
	case code == 0:
		return true, nil
	case code == 3:
		return false, nil
	}
	return false, fmt.Errorf("exit code %d: %s", code, tail)
}

// runVolumeHelper runs script with args in a one-shot container of image
// id with mounts, as confined as a server's but for the capabilities that
// reading every file and keeping owners and modes need, with no network,
// and returns its exit code and, when that is not 0, its last lines. The
// container is removed.
func (d *Docker) runVolumeHelper(ctx context.Context, imageID, user, script string, args []string, mounts []mount.Mount) (code int, tail string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var b [4]byte
	rand.Read(b[:])
	pids := int64(16)
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: imageID, User: "0:0", WorkingDir: "/",
		Entrypoint:  append([]string{"/bin/sh", "-c", script, "classhub-copy"}, args...),
		Labels:      d.labels(RoleCopy, user),
		Healthcheck: &container.HealthConfig{Test: []string{"NONE"}},
	}, &container.HostConfig{
		NetworkMode:    "none",
		CapDrop:        []string{"ALL"},
		CapAdd:         []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID"},
		SecurityOpt:    []string{noNewPrivileges},
		ReadonlyRootfs: true,
		Resources:      container.Resources{PidsLimit: &pids, Memory: 256 << 20},
		Mounts:         mounts,
	}, nil, nil, "classhub-copy-"+hex.EncodeToString(b[:]))
	if err != nil {
		return 0, "", fmt.Errorf("create: %w", engine.Explain(err))
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		rcancel()
	}()
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return 0, "", fmt.Errorf("start: %w", engine.Explain(err))
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			tail = d.lastLines(ctx, resp.ID, 3)
		}
		return int(w.StatusCode), tail, nil
	case err := <-errC:
		return 0, "", fmt.Errorf("wait: %w", engine.Explain(err))
	}
}
