package spawner

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image/imagetest"
	"github.com/classhub/classhub/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// withoutJupyterHub derives from base an image with its Jupyter server but
// no jupyterhub: neither the command nor the Python package, and none of
// classhub's labels, whose CMD is cmd.
func withoutJupyterHub(t *testing.T, cli client.APIClient, base string, cmd ...string) string {
	t.Helper()
	if _, err := cli.ImageInspect(context.Background(), base); err != nil {
		t.Fatalf("this test needs the image %s (`classhub image build`): %v", base, err)
	}
	return imagetest.Derive(t, cli, imagetest.Spec{Base: base, Cmd: cmd,
		Script: `set -e
rm -f /usr/bin/jupyterhub*
rm -rf /usr/lib/python3/dist-packages/jupyterhub /usr/lib/python3/dist-packages/jupyterhub-*
! command -v jupyterhub-singleuser
! python3 -c 'import jupyterhub'`})
}

// A Debian image with JupyterLab and no JupyterHub runs as a plain server:
// found out once by confined probes that leave nothing behind, started
// with the user's base URL and a token derived from the start's secret
// that no log, argument or hub variable shows, answering its API and its
// own activity, and adopted by a hub that restarts.
func TestPlainLabServer(t *testing.T) {
	cli := connect(t)
	img := withoutJupyterHub(t, cli, testenv.RequireLabImage(t, cli), "jupyter-lab")
	e := newTestEnv(t, func(c *config.Config) { c.Image = img })
	user, secret := e.user("ada"), "per-start-secret-of-ada"
	c := collect(t, e.bus, func(ev events.Event) bool { return ev.User == user })

	s := e.start(user, secret)
	if s.Mode != ModeServer || s.APIToken != "" || s.JupyterToken != JupyterToken(secret) {
		t.Fatalf("Start = mode %q, APIToken %q, JupyterToken right %v", s.Mode, s.APIToken, s.JupyterToken == JupyterToken(secret))
	}
	if _, ok := c.find(events.SpawnProgress, "Checking what runs in "+img); !ok {
		t.Error("no progress while the image was checked")
	}
	info := e.inspect(s.ID)
	ins, err := cli.ImageInspect(e.ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range info.Config.Env {
		// The image's own ENV (classhub's images set
		// JUPYTERHUB_DEFAULT_URL) is the image's business.
		if (strings.HasPrefix(kv, "JUPYTERHUB_") && !slices.Contains(ins.Config.Env, kv)) || strings.Contains(kv, secret) {
			t.Errorf("the container's env has %q", kv)
		}
	}
	if !slices.Contains(info.Config.Env, "JUPYTER_TOKEN="+s.JupyterToken) {
		t.Error("the container has no JUPYTER_TOKEN")
	}
	if got := info.Config.Cmd; len(got) == 0 || got[0] != "jupyter-lab" || !slices.Contains(got, "--ServerApp.base_url="+ServerPrefix(user)) {
		t.Errorf("Cmd = %q", got)
	}
	if strings.Contains(strings.Join(append(info.Config.Cmd, info.Config.Entrypoint...), " "), s.JupyterToken) {
		t.Error("the token is on the command line")
	}
	// Probes are gone: the engine holds no probe container of this image.
	probes, err := cli.ContainerList(e.ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", engine.LabelRole+"="+RoleProbe), filters.Arg("ancestor", img))})
	if err != nil || len(probes) != 0 {
		t.Errorf("probe containers left: %d (%v)", len(probes), err)
	}

	api := s.Target + s.Prefix + "api/"
	if code := httpStatus(t, api+"status"); code != http.StatusForbidden {
		t.Errorf("api/status without the token = %d, want 403: the server must ask for its token", code)
	}
	if code := getWith(t, api+"contents", "token "+JupyterToken("another secret")); code != http.StatusForbidden {
		t.Errorf("api/contents with another token = %d, want 403", code)
	}
	if code := getWith(t, api+"contents/work", "token "+s.JupyterToken); code != http.StatusOK {
		t.Errorf("api/contents/work with the token = %d: the server's root is not jovyan's home", code)
	}
	before := time.Now().Add(-time.Minute)
	act, err := e.d.ServerActivity(e.ctx, user)
	if err != nil || act.Before(before) {
		t.Errorf("ServerActivity = %v, %v; want the server's own last activity", act, err)
	}
	// Asking is not activity: a culler that asks must not keep it alive.
	time.Sleep(1100 * time.Millisecond)
	if again, err := e.d.ServerActivity(e.ctx, user); err != nil || !again.Equal(act) {
		t.Errorf("ServerActivity asked again = %v, %v; want %v, unchanged by asking", again, err, act)
	}
	logs, err := e.d.Logs(e.ctx, user, 0)
	if err != nil || !strings.Contains(logs, "Jupyter Server") {
		t.Fatalf("logs: %v %q", err, logs)
	}
	if strings.Contains(logs, s.JupyterToken) || strings.Contains(logs, secret) {
		t.Error("the server's log shows its token")
	}
	for _, ev := range c.all() {
		if strings.Contains(ev.Message, s.JupyterToken) || strings.Contains(ev.Message, secret) {
			t.Errorf("an event shows the token: %q", ev.Message)
		}
	}

	// A restarted hub adopts it, token and mode read back.
	adopted, err := e.spawner(e.cfg).Adopt(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(adopted, func(a Server) bool { return a.User == user })
	if i < 0 || adopted[i].Mode != ModeServer || adopted[i].JupyterToken != s.JupyterToken || adopted[i].Target != s.Target {
		t.Errorf("adopted = %+v", adopted)
	}

	// Stopped and started again with the same secret, the container is
	// kept and the image is not checked again.
	if err := e.d.Stop(e.ctx, user); err != nil {
		t.Fatal(err)
	}
	again := e.start(user, secret)
	if again.ID != s.ID {
		t.Error("the container was recreated for the same secret")
	}
	n := 0
	for _, ev := range c.all() {
		if ev.Kind == events.SpawnProgress && strings.HasPrefix(ev.Message, "Checking what runs in") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the image was checked %d times, want once", n)
	}

	// image_mode = jupyterhub on an image without it fails the start with
	// the image's name, and the plain server's container is replaced.
	hubMode := e.cfg
	hubMode.ImageMode = config.ImageModeJupyterHub
	// Lab, started without its base URL, never answers there.
	hubMode.HTTPTimeout = config.Duration(20 * time.Second)
	e.d.Stop(e.ctx, user)
	_, err = e.spawner(hubMode).Start(e.ctx, e.req(user, secret))
	if err == nil || !strings.Contains(err.Error(), img) {
		t.Errorf("jupyterhub mode on an image without it: %v", err)
	}
}

func getWith(t *testing.T, url, authorization string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", authorization)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// The classic Notebook 6 without JupyterHub runs too, as NotebookApp; and
// an image with no Jupyter server at all fails at once, naming the image
// and what it lacks, with nothing of the user's made.
func TestPlainClassicAndNoJupyter(t *testing.T) {
	cli := connect(t)
	img := withoutJupyterHub(t, cli, testImage, "jupyter-notebook")
	e := newTestEnv(t, func(c *config.Config) { c.Image = img })
	user := e.user("cleo")
	s := e.start(user, "cleo-secret")
	if s.Mode != ModeServer {
		t.Fatalf("mode %q", s.Mode)
	}
	info := e.inspect(s.ID)
	if !slices.Contains(info.Config.Cmd, "--NotebookApp.base_url="+ServerPrefix(user)) {
		t.Errorf("Notebook 6 started with %q", info.Config.Cmd)
	}
	if code := getWith(t, s.Target+s.Prefix+"api/status", "token "+s.JupyterToken); code != http.StatusOK {
		t.Errorf("api/status = %d", code)
	}
	if _, err := e.d.ServerActivity(e.ctx, user); err != nil {
		t.Errorf("ServerActivity: %v", err)
	}

	none := imagetest.Derive(t, cli, imagetest.Spec{Base: testImage, Cmd: []string{"python3"},
		Script: "set -e; rm -f /usr/bin/jupyter*"})
	bare := e.spawner(func() config.Config { c := e.cfg; c.Image = none; return c }())
	dan := e.user("dan")
	_, err := bare.Start(e.ctx, e.req(dan, "dan-secret"))
	if !errors.Is(err, ErrNoJupyter) || !strings.Contains(err.Error(), none) || !strings.Contains(err.Error(), "jupyter-lab") ||
		!strings.Contains(err.Error(), "Install JupyterLab") {
		t.Errorf("an image without Jupyter: %v", err)
	}
	if st, _ := bare.Status(e.ctx, dan); st.State != StateMissing {
		t.Errorf("dan's server after the failed start: %s", st.State)
	}
}
