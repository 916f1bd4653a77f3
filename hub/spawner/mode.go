package spawner

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

// Mode is how an image runs a user's server.
type Mode string

// Modes. A server of ModeJupyterHub logs its visitors in by itself
// (jupyterhub-singleuser speaks the hub's OAuth); one of ModeServer is a
// plain Jupyter server that classhub starts with a token it keeps, and the
// proxy logs visitors in before it adds that token (hub/gate).
const (
	ModeJupyterHub Mode = "jupyterhub"
	ModeServer     Mode = "server"
)

// serverCommands are the plain Jupyter servers a ModeServer image may
// start, in the order they are looked for: those with an interface first,
// Lab before Notebook as students expect today; jupyter-server, which an
// image with either has too (Debian's Notebook 6 pulls it in), serves no
// interface of its own, so it is the last resort.
var serverCommands = []string{"jupyter-lab", "jupyter-notebook", "jupyter-server"}

// imageMode is what an image runs, as detected once per image ID.
type imageMode struct {
	mode Mode
	// cmd is the command of a ModeServer image's server.
	cmd string
	// version is cmd's version, or jupyterhub-singleuser's (the
	// jupyterhub package's); "" when unknown.
	version string
	// ownEntrypoint is set when the server's command must replace the
	// image's ENTRYPOINT (see keepsEntrypoint).
	ownEntrypoint bool
}

// probeTimeout bounds one `--version` probe: Python starting a Jupyter
// command takes a second or two, a cold disk a few more.
const probeTimeout = 45 * time.Second

// ErrNoJupyter is matched by errors saying an image has no Jupyter server
// classhub can start.
var ErrNoJupyter = errors.New("no Jupyter server in the image")

// modeOf returns what cfg's image, whose ID is imageID, runs, detecting it
// the first time: classhub's own images say so with engine.LabelJupyterHub;
// others are asked, with short-lived containers that run nothing but a
// command's --version. image_mode, when not auto, decides the mode and
// only the command is looked for. Starts of one image at once share one
// detection.
func (d *Docker) modeOf(ctx context.Context, rep report, user string, cfg config.Config, imageID string) (imageMode, error) {
	want := cfg.ImageMode
	key := imageID + "\x00" + want
	d.modesMu.Lock()
	m, ok := d.modes[key]
	d.modesMu.Unlock()
	if ok {
		return m, nil
	}
	_, err := d.detections.do(ctx, key, func(ctx context.Context) (string, error) {
		m, err := d.detectMode(ctx, rep, user, cfg, imageID)
		if err != nil {
			return "", err
		}
		d.modesMu.Lock()
		d.modes[key] = m
		d.modesMu.Unlock()
		return "", nil
	})
	if err != nil {
		return imageMode{}, err
	}
	d.modesMu.Lock()
	defer d.modesMu.Unlock()
	return d.modes[key], nil
}

func (d *Docker) detectMode(ctx context.Context, rep report, user string, cfg config.Config, imageID string) (imageMode, error) {
	ref, want := cfg.Image, cfg.ImageMode
	ins, err := d.cli.ImageInspect(ctx, imageID)
	if err != nil {
		return imageMode{}, fmt.Errorf("inspect image %s: %w", ref, engine.Explain(err))
	}
	var labels map[string]string
	if ins.Config != nil {
		labels = ins.Config.Labels
	}
	hubVersion := labels[engine.LabelJupyterHub]
	if want == config.ImageModeJupyterHub || want != config.ImageModeServer && hubVersion != "" {
		return imageMode{mode: ModeJupyterHub, version: hubVersion}, nil
	}
	rep.progress(user, 8, events.PhaseImage, "Checking what runs in "+ref)
	if want != config.ImageModeServer {
		if v, ok, err := d.probeVersion(ctx, cfg, ins, "jupyterhub-singleuser"); err != nil {
			return imageMode{}, fmt.Errorf("check what runs in %s: %w", ref, err)
		} else if ok {
			return imageMode{mode: ModeJupyterHub, version: v}, nil
		}
	}
	for _, cmd := range serverCommands {
		v, ok, err := d.probeVersion(ctx, cfg, ins, cmd)
		if err != nil {
			return imageMode{}, fmt.Errorf("check what runs in %s: %w", ref, err)
		}
		if ok {
			return imageMode{mode: ModeServer, cmd: cmd, version: v, ownEntrypoint: ins.Config != nil && !keepsEntrypoint(ins.Config.Entrypoint)}, nil
		}
	}
	looked := "jupyterhub-singleuser, jupyter-lab, jupyter-notebook or jupyter-server"
	if want == config.ImageModeServer {
		looked = "jupyter-lab, jupyter-notebook or jupyter-server (image_mode is server)"
	}
	return imageMode{}, fmt.Errorf("image %s has no Jupyter server: none of %s runs in it. Install JupyterLab in the image (or jupyterhub), or choose another image: %w",
		ref, looked, ErrNoJupyter)
}

// versionRE finds a version in a command's --version output.
var versionRE = regexp.MustCompile(`\b\d+(\.\d+)+([a-z]+\d*)?(\.(post|dev)\d+)?\b`)

// probeVersion runs cmd --version in a container of the image ins, in
// place of its entrypoint (so no shell is needed), with no network, every
// capability dropped and a time limit, and removes it afterwards. ok is
// false when cmd does not run there; err is for the engine failing.
func (d *Docker) probeVersion(ctx context.Context, cfg config.Config, ins image.InspectResponse, cmd string) (version string, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	hc := &container.HostConfig{NetworkMode: "none",
		Resources: container.Resources{Memory: 512 << 20, MemorySwap: 512 << 20, NanoCPUs: 1e9}}
	harden(hc, cfg)
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image:      ins.ID,
		Entrypoint: []string{cmd},
		Cmd:        []string{"--version"},
		Labels:     d.labels(RoleProbe, ""),
	}, hc, nil, nil, "")
	if err != nil {
		return "", false, fmt.Errorf("create a container to run %s --version: %w", cmd, engine.Explain(err))
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		rcancel()
	}()
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		// The runtime refuses a command that is not in the image.
		return "", false, nil
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			return "", false, nil
		}
	case err := <-errC:
		if ctx.Err() != nil {
			return "", false, fmt.Errorf("%s --version did not finish within %s", cmd, probeTimeout)
		}
		return "", false, fmt.Errorf("wait for %s --version: %w", cmd, engine.Explain(err))
	}
	out, err := d.logs(ctx, resp.ID, 20)
	if err != nil {
		return "", false, fmt.Errorf("read %s --version: %w", cmd, err)
	}
	return versionRE.FindString(out), true, nil
}

// serverArgs is the command line of a ModeServer server: its command with
// the address, the user's base URL and the root directory, given on the
// command line because that wins over any configuration file in the
// image or the user's home. The token is not here (argv is visible to
// every process in the container and in `docker inspect`'s Cmd): the
// server reads it from JUPYTER_TOKEN. Notebook before 7 is NotebookApp,
// whose root is notebook_dir; everything newer is a jupyter_server app.
func serverArgs(m imageMode, prefix string) []string {
	app, root := "ServerApp", "root_dir"
	if m.cmd == "jupyter-notebook" && majorBelow(m.version, 7) {
		app, root = "NotebookApp", "notebook_dir"
	}
	return []string{m.cmd, "--no-browser", "--ip=0.0.0.0", fmt.Sprintf("--port=%d", ServerPort),
		"--" + app + ".base_url=" + prefix, "--" + app + "." + root + "=" + homeDir,
		// The server is only ever reached through the proxy, whose
		// Host and Origin are the user's origin, not the container's.
		"--" + app + ".allow_remote_access=True"}
}

// homeDir is jovyan's home, WorkDir's parent: a ModeServer server shows it,
// as jupyterhub-singleuser does, with the work volume in it. It exists in
// every image, since the volume's mount point is made inside it.
const homeDir = "/home/jovyan"

// majorBelow reports whether version's major number is below n; an
// unknown version counts as the newest.
func majorBelow(version string, n int) bool {
	major, _, _ := strings.Cut(version, ".")
	var v int
	if _, err := fmt.Sscanf(major, "%d", &v); err != nil {
		return false
	}
	return v < n
}

// keepsEntrypoint reports whether a ModeServer server keeps the image's
// ENTRYPOINT: images laid out like the Jupyter Docker Stacks start
// through tini and start.sh, which set the user's environment up and then
// run the command. An entrypoint that is itself a Jupyter command would
// take the server's command as its arguments, so it is replaced.
func keepsEntrypoint(ep []string) bool {
	if len(ep) == 0 {
		return true
	}
	base := ep[0][strings.LastIndex(ep[0], "/")+1:]
	return !strings.HasPrefix(base, "jupyter")
}
