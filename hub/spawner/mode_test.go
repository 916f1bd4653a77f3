package spawner

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

var labServer = imageMode{mode: ModeServer, cmd: "jupyter-lab", version: "4.0.11"}

func serverSpec(t *testing.T, m imageMode, mutate func(*config.Config)) spec {
	t.Helper()
	cfg := config.Default()
	if mutate != nil {
		mutate(&cfg)
	}
	d := New(nil, Options{Config: cfg})
	sp, err := d.specFor(cfg, Network{Name: "classhub", HubHost: "172.18.0.1", ContainerIPsRoutable: true}, "sha256:aaa", m,
		StartRequest{User: "alice", APIToken: "secret-token", HubPort: 8081})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// A plain server holds its own token and nothing of the hub's: no hub
// token, no JupyterHub variable (a Docker-Stacks start script would run
// jupyterhub-singleuser on JUPYTERHUB_API_TOKEN alone), even when the
// settings' environment asks for one.
func TestPlainServerEnv(t *testing.T) {
	sp := serverSpec(t, labServer, func(c *config.Config) {
		c.Environment = map[string]string{"JUPYTERHUB_API_TOKEN": "x", "JPY_API_TOKEN": "x", "JUPYTER_TOKEN": "mine", "TZ": "Europe/Paris"}
	})
	env := envMap(sp.cfg.Env)
	for k, v := range env {
		if strings.HasPrefix(k, "JUPYTERHUB_") || k == "JPY_API_TOKEN" {
			t.Errorf("a plain server's env has %s", k)
		}
		if strings.Contains(v, "secret-token") {
			t.Errorf("a plain server's env holds the hub's token in %s", k)
		}
	}
	if env["JUPYTER_TOKEN"] != JupyterToken("secret-token") || sp.token != env["JUPYTER_TOKEN"] {
		t.Errorf("JUPYTER_TOKEN = %q, want the token derived from the start's secret", env["JUPYTER_TOKEN"])
	}
	if env["TZ"] != "Europe/Paris" {
		t.Error("the settings' other variables are lost")
	}
	if JupyterToken("secret-token") == JupyterToken("other") || len(JupyterToken("x")) != 64 {
		t.Error("JupyterToken does not depend on the secret")
	}
	for _, a := range sp.cfg.Cmd {
		if strings.Contains(a, JupyterToken("secret-token")) || strings.Contains(strings.ToLower(a), "token") {
			t.Errorf("the token is on the command line: %q", a)
		}
	}
	if sp.cfg.Labels[engine.LabelMode] != string(ModeServer) {
		t.Errorf("mode label = %q", sp.cfg.Labels[engine.LabelMode])
	}
}

// An image that is not classhub's but has jupyterhub-singleuser tells its
// version when probed, and the hub answers its servers with it.
func TestProbedHubVersion(t *testing.T) {
	d := New(nil, Options{Config: config.Default()})
	d.modes["sha256:other\x00auto"] = imageMode{mode: ModeJupyterHub, version: "4.1.5"}
	info := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{Image: "sha256:other"},
		Config:          &container.Config{Labels: map[string]string{}},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{"classhub": {IPAddress: "172.18.0.7"}}}}
	d.noteVersion(info, "classhub")
	if v := d.JupyterHubVersion(netip.MustParseAddr("172.18.0.7")); v != "4.1.5" {
		t.Errorf("JupyterHubVersion = %q, want the probed 4.1.5", v)
	}
	info.Config.Labels[engine.LabelJupyterHub] = "5.2.1"
	d.noteVersion(info, "classhub")
	if v := d.JupyterHubVersion(netip.MustParseAddr("172.18.0.7")); v != "5.2.1" {
		t.Errorf("JupyterHubVersion = %q, want the label's 5.2.1", v)
	}
}

func TestServerArgs(t *testing.T) {
	for _, tc := range []struct {
		m    imageMode
		want []string
	}{
		{labServer, []string{"jupyter-lab", "--no-browser", "--ip=0.0.0.0", "--port=8888", "--ServerApp.base_url=/user/a%20b/",
			"--ServerApp.root_dir=/home/jovyan", "--ServerApp.allow_remote_access=True"}},
		{imageMode{mode: ModeServer, cmd: "jupyter-notebook", version: "6.4.12"}, []string{"jupyter-notebook", "--no-browser", "--ip=0.0.0.0",
			"--port=8888", "--NotebookApp.base_url=/user/a%20b/", "--NotebookApp.notebook_dir=/home/jovyan", "--NotebookApp.allow_remote_access=True"}},
		{imageMode{mode: ModeServer, cmd: "jupyter-notebook", version: "7.2.2"}, []string{"jupyter-notebook", "--no-browser", "--ip=0.0.0.0",
			"--port=8888", "--ServerApp.base_url=/user/a%20b/", "--ServerApp.root_dir=/home/jovyan", "--ServerApp.allow_remote_access=True"}},
	} {
		if got := serverArgs(tc.m, ServerPrefix("a b")); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("serverArgs(%s %s) =\n%q, want\n%q", tc.m.cmd, tc.m.version, got, tc.want)
		}
	}
}

func TestVersionOutput(t *testing.T) {
	for out, want := range map[string]string{
		"5.2.1\n":                         "5.2.1",
		"4.0.11\n":                        "4.0.11",
		"[W 12:00] warning\n2.15.0\n":     "2.15.0",
		"6.4.12":                          "6.4.12",
		"jupyterhub-singleuser 3.0.0\n":   "3.0.0",
		"4.1.0rc1\n":                      "4.1.0rc1",
		"python3: can't open file\n":      "",
		"Traceback (most recent call)\n ": "",
	} {
		if got := versionRE.FindString(out); got != want {
			t.Errorf("version in %q = %q, want %q", out, got, want)
		}
	}
	if !majorBelow("6.4.12", 7) || majorBelow("7.0.0", 7) || majorBelow("", 7) {
		t.Error("majorBelow is wrong")
	}
}

func TestKeepsEntrypoint(t *testing.T) {
	for _, ep := range [][]string{nil, {"tini", "-g", "--", "start.sh"}, {"/usr/bin/tini", "--"}} {
		if !keepsEntrypoint(ep) {
			t.Errorf("entrypoint %q is not kept", ep)
		}
	}
	for _, ep := range [][]string{{"jupyter-lab"}, {"/usr/local/bin/jupyter", "lab"}} {
		if keepsEntrypoint(ep) {
			t.Errorf("entrypoint %q is kept; the server's command would be its arguments", ep)
		}
	}
	sp := serverSpec(t, imageMode{mode: ModeServer, cmd: "jupyter-lab", ownEntrypoint: true}, nil)
	if sp.cfg.Entrypoint == nil || len(sp.cfg.Entrypoint) != 0 {
		t.Errorf("Entrypoint = %#v, want an empty list that replaces the image's", sp.cfg.Entrypoint)
	}
	if sp := serverSpec(t, labServer, nil); sp.cfg.Entrypoint != nil {
		t.Errorf("Entrypoint = %#v, want the image's", sp.cfg.Entrypoint)
	}
}

// Changing the mode recreates a stopped container (the volume is kept)
// and a container of the other mode never passes for this start's.
func TestModeInFingerprintAndToken(t *testing.T) {
	hubSpec := baseSpec(t, nil)
	plain := serverSpec(t, labServer, nil)
	if hubSpec.fingerprint == plain.fingerprint {
		t.Fatal("the mode does not change the fingerprint")
	}
	made := func(sp spec) container.InspectResponse {
		return container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{ID: "c1", Image: "sha256:aaa", State: &container.State{Status: container.StateExited},
				HostConfig: sp.host},
			Config: &container.Config{Labels: sp.cfg.Labels, Env: sp.cfg.Env, Cmd: sp.cfg.Cmd},
		}
	}
	if a := reconcile(made(plain), true, plain); a.step != stepStart {
		t.Errorf("a stopped plain server made by this start: step %v, want start", a.step)
	}
	if a := reconcile(made(hubSpec), true, plain); a.step != stepReplace || !strings.Contains(a.notice, "files in") {
		t.Errorf("a jupyterhub container for a plain start: %+v, want a replace that says the files are kept", a)
	}
	if tokenMatches(made(hubSpec), plain) || tokenMatches(made(plain), hubSpec) {
		t.Error("a container of the other mode holds this start's secret")
	}
	s := serverFrom("alice", made(plain), "classhub")
	if s.Mode != ModeServer || s.APIToken != "" || s.JupyterToken != JupyterToken("secret-token") {
		t.Errorf("serverFrom = mode %q, APIToken %q, JupyterToken set %v", s.Mode, s.APIToken, s.JupyterToken != "")
	}
	if s := serverFrom("alice", made(hubSpec), "classhub"); s.Mode != ModeJupyterHub || s.APIToken != "secret-token" || s.JupyterToken != "" {
		t.Errorf("serverFrom of a jupyterhub server = mode %q", s.Mode)
	}
	// The token is compared on its own, as the hub token is: a new one
	// is not drift.
	other := plain
	other.cfg = &container.Config{}
	*other.cfg = *plain.cfg
	other.cfg.Env = slices.Clone(plain.cfg.Env)
	for i, kv := range other.cfg.Env {
		if strings.HasPrefix(kv, "JUPYTER_TOKEN=") {
			other.cfg.Env[i] = "JUPYTER_TOKEN=" + JupyterToken("another")
		}
	}
	if fingerprint(other.cfg, other.host, "sha256:aaa") != plain.fingerprint {
		t.Error("the Jupyter token is in the fingerprint")
	}
}
