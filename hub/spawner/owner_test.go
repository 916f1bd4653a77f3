package spawner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image/imagetest"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// inVolume runs script as root in a container of the test image with
// user's volume at /v and returns its output.
func (e *testEnv) inVolume(user, script string) string {
	e.t.Helper()
	c, err := e.cli.ContainerCreate(e.ctx, &container.Config{
		Image: testImage, User: "0:0", Entrypoint: []string{"/bin/sh", "-c", script}, Labels: e.d.labels("test", user),
	}, &container.HostConfig{NetworkMode: "none",
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: VolumeName(user), Target: "/v"}}}, nil, nil, "")
	if err != nil {
		e.t.Fatal(err)
	}
	defer e.d.removeContainer(context.WithoutCancel(e.ctx), c.ID)
	if err := e.cli.ContainerStart(e.ctx, c.ID, container.StartOptions{}); err != nil {
		e.t.Fatal(err)
	}
	waitC, errC := e.cli.ContainerWait(e.ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		if res.StatusCode != 0 {
			e.t.Fatalf("%q in %s's volume: exit code %d: %s", script, user, res.StatusCode, e.d.lastLines(e.ctx, c.ID, 5))
		}
	case err := <-errC:
		e.t.Fatal(err)
	}
	out, err := e.d.logs(e.ctx, c.ID, 20)
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// createRecorder records the containers made through a recordingClient.
type createRecorder struct {
	mu      sync.Mutex
	created []container.HostConfig
	configs []container.Config
}

type recordingClient struct {
	client.APIClient
	rec *createRecorder
}

func (c recordingClient) ContainerCreate(ctx context.Context, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig,
	p *ocispec.Platform, name string) (container.CreateResponse, error) {
	c.rec.mu.Lock()
	c.rec.configs = append(c.rec.configs, *cfg)
	c.rec.created = append(c.rec.created, *hc)
	c.rec.mu.Unlock()
	return c.APIClient.ContainerCreate(ctx, cfg, hc, nc, p, name)
}

// TestForeignImageVolumeIsWritable starts a Docker Stacks-like image, which
// has no /home/jovyan/work and runs as USER 1000: the fresh volume is the
// server's to write, given by a one-shot container that may only chown;
// a volume an older start left owned by root is mended, its files kept;
// Docker's USER is resolved against the image's own accounts, and a volume
// that already belongs to someone is left alone; classhub's own images
// need no such step.
func TestForeignImageVolumeIsWritable(t *testing.T) {
	e := newTestEnv(t)
	stacks := imagetest.Derive(t, e.cli, imagetest.Stacks(imagetest.Classic(t, e.cli)))
	rec := &createRecorder{}
	cfg := e.cfg
	cfg.Image = stacks
	d := New(recordingClient{e.cli, rec}, Options{Config: cfg, Bus: e.bus, Version: "test", StopTimeout: 3 * time.Second})
	info, err := e.cli.ImageInspect(e.ctx, stacks)
	if err != nil {
		t.Fatal(err)
	}
	stacksID := info.ID

	t.Run("a new volume", func(t *testing.T) {
		user := e.user("ada")
		got := collect(t, e.bus, events.ForUser(user))
		srv, err := d.Start(e.ctx, e.req(user, "tok"))
		if err != nil {
			t.Fatal(err)
		}
		if out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "id -u; echo hi > /home/jovyan/work/a.txt && stat -c %u:%g /home/jovyan/work /home/jovyan/work/a.txt"); code != 0 || out != "1000\n1000:100\n1000:100\n" {
			t.Errorf("as the server's user in the work folder: exit %d, %q", code, out)
		}
		if _, ok := got.find(events.SpawnProgress, "work folder writable"); !ok {
			t.Errorf("no step said the work folder was made writable: %v", got.all())
		}
		// The one-shot container: only CAP_CHOWN, no network, no new
		// privileges, a process limit, classhub's labels, removed.
		rec.mu.Lock()
		i := slices.IndexFunc(rec.configs, func(c container.Config) bool { return c.Labels[engine.LabelRole] == RoleOwner })
		var hc container.HostConfig
		var oc container.Config
		if i >= 0 {
			hc, oc = rec.created[i], rec.configs[i]
		}
		rec.mu.Unlock()
		if i < 0 {
			t.Fatal("no volume-owner container was made")
		}
		if !slices.Equal(hc.CapDrop, []string{"ALL"}) || !slices.Equal(hc.CapAdd, []string{"CHOWN"}) || hc.NetworkMode != "none" ||
			!slices.Contains(hc.SecurityOpt, noNewPrivileges) || hc.PidsLimit == nil || *hc.PidsLimit <= 0 || hc.Privileged ||
			!hc.ReadonlyRootfs || oc.Labels[engine.LabelManaged] != "true" || oc.Labels[engine.LabelUser] != user {
			t.Errorf("the volume-owner container is not confined: %+v %+v", hc, oc.Labels)
		}
		if n := e.ownerContainers(); n != 0 {
			t.Errorf("%d volume-owner containers left", n)
		}
		// A second start of the same volume and image needs no owner.
		if err := d.Delete(e.ctx, user); err != nil {
			t.Fatal(err)
		}
		before := rec.owners()
		if _, err := d.Start(e.ctx, e.req(user, "tok")); err != nil {
			t.Fatal(err)
		}
		if rec.owners() != before {
			t.Error("the volume was given to the image's user again at a second start")
		}
		// Its files deleted, the user gets a new volume, theirs again.
		if err := d.Delete(e.ctx, user); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteData(e.ctx, user, Account{}); err != nil {
			t.Fatal(err)
		}
		srv, err = d.Start(e.ctx, e.req(user, "tok"))
		if err != nil {
			t.Fatal(err)
		}
		if out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "ls /home/jovyan/work; touch /home/jovyan/work/b.txt"); code != 0 || out != "" {
			t.Errorf("in the new volume: exit %d, %q", code, out)
		}
	})

	t.Run("an older start's root-owned volume", func(t *testing.T) {
		user := e.user("bea")
		if _, err := e.d.ensureVolume(e.ctx, user); err != nil {
			t.Fatal(err)
		}
		// What a student could leave for a root process to trip on: a
		// root-owned folder and links out of the volume. The mend changes
		// the top folder only and follows nothing.
		e.inVolume(user, "echo old > /v/old.txt && mkdir /v/sub && ln -s /etc/passwd /v/passwd && ln -s / /v/root && "+
			"chown -h 0:0 /v /v/sub /v/passwd /v/root && chmod 755 /v")
		srv, err := d.Start(e.ctx, e.req(user, "tok"))
		if err != nil {
			t.Fatal(err)
		}
		if out, code := execIn(t, e.cli, srv.ID, "sh", "-c", "cat /home/jovyan/work/old.txt && touch /home/jovyan/work/new.txt && stat -c %u /home/jovyan/work"); code != 0 || out != "old\n1000\n" {
			t.Errorf("after the mend: exit %d, %q", code, out)
		}
		if out, _ := execIn(t, e.cli, srv.ID, "sh", "-c", "cd /home/jovyan/work && stat -c '%n %u' old.txt sub && stat -c '%n %u' -L passwd && stat -c '%u' / /etc/passwd"); out != "old.txt 0\nsub 0\npasswd 0\n0\n0\n" {
			t.Errorf("the mend changed more than the work folder: %q", out)
		}
	})

	t.Run("Docker's USER, resolved", func(t *testing.T) {
		for i, tt := range []struct{ user, want, wantErr string }{
			{"jovyan", "1000:100", ""},
			{"1000", "1000:100", ""},
			{"1000:100", "1000:100", ""},
			{"jovyan:users", "1000:100", ""},
			{"1000:0", "1000:0", ""},
			// A number the image does not know runs in group 0, as the
			// engine runs it.
			{"4242", "4242:0", ""},
			{"nosuch", "0:0", "invalid user"},
		} {
			user := e.user(fmt.Sprintf("own%d", i))
			if _, err := e.d.ensureVolume(e.ctx, user); err != nil {
				t.Fatal(err)
			}
			err := e.d.runOwner(e.ctx, spec{user: user, volume: VolumeName(user), imageID: stacksID}, tt.user)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("USER %s: %v, want %q", tt.user, err, tt.wantErr)
			}
			if got := e.inVolume(user, "stat -c %u:%g /v"); got != tt.want {
				t.Errorf("USER %s: the volume is owned by %s, want %s", tt.user, got, tt.want)
			}
		}

		// A volume that belongs to someone already is left as it is, and so
		// is everything in it.
		user := e.user("owned")
		e.d.ensureVolume(e.ctx, user)
		e.inVolume(user, "mkdir /v/sub && chown 4242:4242 /v /v/sub && touch /v/sub/f")
		if err := e.d.runOwner(e.ctx, spec{user: user, volume: VolumeName(user), imageID: stacksID}, "jovyan"); err != nil {
			t.Fatal(err)
		}
		if got := e.inVolume(user, "stat -c %u:%g /v /v/sub /v/sub/f | tr '\\n' ' '"); got != "4242:4242 4242:4242 0:0" {
			t.Errorf("an owned volume became %s, want it untouched", got)
		}
	})

	t.Run("an image without a shell", func(t *testing.T) {
		// It has the work folder, so the engine gives it to jovyan; the
		// one-shot container cannot run, which must not fail the start.
		noShell := imagetest.Derive(t, e.cli, imagetest.Spec{Base: imagetest.Classic(t, e.cli), Script: "rm /usr/bin/sh /usr/bin/dash"})
		user := e.user("dee")
		notices := collect(t, e.bus, func(ev events.Event) bool { return ev.Kind == events.Notice && ev.User == user })
		cfg := e.cfg
		cfg.Image = noShell
		srv, err := New(recordingClient{e.cli, rec}, Options{Config: cfg, Bus: e.bus, Version: "test", StopTimeout: 3 * time.Second}).Start(e.ctx, e.req(user, "tok"))
		if err != nil {
			t.Fatal(err)
		}
		if out, code := execIn(t, e.cli, srv.ID, "touch", "/home/jovyan/work/x"); code != 0 {
			t.Errorf("jovyan cannot write in the work folder: %s", out)
		}
		if ev, ok := notices.find(events.Notice, "could not give"); !ok || !strings.Contains(ev.Message, noShell) {
			t.Errorf("no notice names the image and what to fix: %v", notices.all())
		}
		if n := e.ownerContainers(); n != 0 {
			t.Errorf("%d volume-owner containers left", n)
		}
	})

	t.Run("classhub's image", func(t *testing.T) {
		user := e.user("cy")
		before := rec.owners()
		own := New(recordingClient{e.cli, rec}, Options{Config: e.cfg, Bus: e.bus, Version: "test", StopTimeout: 3 * time.Second})
		srv, err := own.Start(e.ctx, e.req(user, "tok"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.owners() != before {
			t.Error("a start of classhub's own image ran a volume-owner container")
		}
		if out, code := execIn(t, e.cli, srv.ID, "touch", "/home/jovyan/work/x"); code != 0 {
			t.Errorf("jovyan cannot write in classhub's image's work folder: %s", out)
		}
	})
}

func (r *createRecorder) owners() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.configs {
		if c.Labels[engine.LabelRole] == RoleOwner {
			n++
		}
	}
	return n
}

func (e *testEnv) ownerContainers() int {
	e.t.Helper()
	cs, err := e.cli.ContainerList(e.ctx, container.ListOptions{All: true})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Labels[engine.LabelRole] == RoleOwner && strings.HasPrefix(c.Labels[engine.LabelUser], e.user("")) {
			n++
		}
	}
	return n
}
