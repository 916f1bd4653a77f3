package spawner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// RoleOwner marks the one-shot container that gives a user's volume to
// the image's user.
const RoleOwner = "volume-owner"

// ownerScript runs as root in a container of the server's image with the
// user's volume at $2, and gives the volume's top directory to the
// image's user ($1, Docker's USER: a name or a number, with or without a
// group), resolved as the engine resolves it: a user with no group gets
// their login group, or 0 when the image does not know them. Only a
// directory owned by root is changed, and only it, not what is inside: a
// student's files are never walked, and a volume that already belongs to
// someone is left as it is.
const ownerScript = `set -e
case $1 in *:*) u=${1%%:*} g=${1#*:} ;; *) u=$1 g= ;; esac
uid=$(id -u "$u" 2>/dev/null) || uid=$u
[ -n "$g" ] || g=$(id -g "$u" 2>/dev/null) || g=0
if [ "$(stat -c %u "$2")" = 0 ]; then chown "$uid:$g" "$2"; fi
`

// owners remembers which volumes were checked for which image, so the
// check runs once per volume and image while the hub runs, and again for
// a volume made anew.
type owners struct {
	mu     sync.Mutex
	images map[string]imageUser // by image ID, which names the content
	done   map[string]bool      // by volume and image ID
}

// imageUser is what ownVolume needs to know of an image.
type imageUser struct {
	user     string
	classhub bool
}

// ownVolume makes the user's volume writable by the image's user. A
// named volume mounted where the image has no directory (Docker Stacks
// images without /home/jovyan/work, course images) starts empty and owned
// by root, and the server, which runs as the image's user with no
// capabilities, could not save a file in it. classhub's own images have
// the directory, owned by jovyan, and the engine copies its owner into a
// new volume, so they need nothing here and their starts pay nothing.
// Volumes an older classhub left owned by root are mended the same way at
// their next start.
func (d *Docker) ownVolume(ctx context.Context, sp spec, fresh bool, rep report) error {
	iu, err := d.imageUser(ctx, sp.imageID)
	if err != nil {
		return err
	}
	if iu.classhub || runsAsRoot(iu.user) {
		return nil
	}
	key := sp.volume + "\x00" + sp.imageID
	d.owners.mu.Lock()
	done := d.owners.done[key]
	d.owners.mu.Unlock()
	if done && !fresh {
		return nil
	}
	rep.progress(sp.user, 25, events.PhaseCreating, "Making the work folder writable for the image's user")
	if err := d.runOwner(ctx, sp, iu.user); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The server may write there all the same (an image with the
		// folder but no shell): start it, and say what to fix if not.
		d.noticeOnce("owner:"+sp.imageID, sp.user, fmt.Sprintf("classhub could not give %s's work folder to the user %q of the notebook image %s (%v): "+
			"if students cannot save in %s, give the image a %s folder owned by its user, or /bin/sh, id, stat and chown.",
			sp.user, iu.user, sp.cfg.Image, err, WorkDir, WorkDir))
		return nil
	}
	d.owners.mu.Lock()
	if d.owners.done == nil {
		d.owners.done = map[string]bool{}
	}
	d.owners.done[key] = true
	d.owners.mu.Unlock()
	return nil
}

func (d *Docker) imageUser(ctx context.Context, id string) (imageUser, error) {
	d.owners.mu.Lock()
	iu, ok := d.owners.images[id]
	d.owners.mu.Unlock()
	if ok {
		return iu, nil
	}
	info, err := d.cli.ImageInspect(ctx, id)
	if err != nil {
		return imageUser{}, fmt.Errorf("inspect image %s: %w", id, engine.Explain(err))
	}
	if info.Config != nil {
		iu = imageUser{user: info.Config.User, classhub: info.Config.Labels[image.LabelProfile] != ""}
	}
	d.owners.mu.Lock()
	if d.owners.images == nil {
		d.owners.images = map[string]imageUser{}
	}
	d.owners.images[id] = iu
	d.owners.mu.Unlock()
	return iu, nil
}

// runsAsRoot reports whether Docker's USER user means root, who can write
// in a volume owned by root.
func runsAsRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "0" || u == "root"
}

// runOwner runs ownerScript in a container as confined as a server's but
// for the one capability chown needs, with no network, and removes it.
func (d *Docker) runOwner(ctx context.Context, sp spec, user string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var b [4]byte
	rand.Read(b[:])
	pids := int64(16)
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: sp.imageID, User: "0:0", WorkingDir: "/",
		Entrypoint: []string{"/bin/sh", "-c", ownerScript, "classhub-owner", user, WorkDir},
		Labels:     d.labels(RoleOwner, sp.user),
		// The image's health check (the Docker Stacks have one) is for
		// its server, not for this.
		Healthcheck: &container.HealthConfig{Test: []string{"NONE"}},
	}, &container.HostConfig{
		NetworkMode:    "none",
		CapDrop:        []string{"ALL"},
		CapAdd:         []string{"CHOWN"},
		SecurityOpt:    []string{noNewPrivileges},
		ReadonlyRootfs: true,
		Resources:      container.Resources{PidsLimit: &pids, Memory: 64 << 20},
		Mounts:         []mount.Mount{{Type: mount.TypeVolume, Source: sp.volume, Target: WorkDir}},
	}, nil, nil, "classhub-owner-"+hex.EncodeToString(b[:]))
	if err != nil {
		return fmt.Errorf("create: %w", engine.Explain(err))
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		rcancel()
	}()
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start: %w", engine.Explain(err))
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			return fmt.Errorf("exit code %d: %s", w.StatusCode, d.lastLines(ctx, resp.ID, 3))
		}
	case err := <-errC:
		return fmt.Errorf("wait: %w", engine.Explain(err))
	}
	return nil
}
