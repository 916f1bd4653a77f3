package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// JupyterHub is JupyterHub itself (Debian's jupyterhub 3.0.0) on loopback
// with a throwaway config: the dummy authenticator, no servers spawned. It
// starts its own configurable-http-proxy, as every JupyterHub does.
type JupyterHub struct {
	Proc *Proc
	// Base is the public URL (CHP's), where /hub/api answers once the hub
	// has added its route.
	Base string
	dir  string
}

// jupyterHubConfig is the throwaway config; its state stays in dir.
func jupyterHubConfig(port, hubPort, apiPort int) string {
	return fmt.Sprintf(`# Written by classhub-bench; used once.
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = %d
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = %d
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d"
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
`, port, hubPort, apiPort)
}

// NewJupyterHub prepares a state dir with a config on free loopback ports.
// The state persists across starts, as an installed hub's does.
func NewJupyterHub(dir string) (*JupyterHub, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("jupyterhub dir: %w", err)
	}
	var ports [3]int
	for i := range ports {
		p, err := freePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	if err := os.WriteFile(filepath.Join(dir, "jupyterhub_config.py"), []byte(jupyterHubConfig(ports[0], ports[1], ports[2])), 0o600); err != nil {
		return nil, fmt.Errorf("jupyterhub config: %w", err)
	}
	return &JupyterHub{Base: "http://127.0.0.1:" + strconv.Itoa(ports[0]), dir: dir}, nil
}

// AddConfig appends Python lines to the hub's config, for a run that needs
// more than the bench's (a spawner, a service); call it before Start.
func (j *JupyterHub) AddConfig(lines string) error {
	f, err := os.OpenFile(filepath.Join(j.dir, "jupyterhub_config.py"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("jupyterhub config: %w", err)
	}
	if _, err := f.WriteString(lines + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("jupyterhub config: %w", err)
	}
	return f.Close()
}

// Start runs `jupyterhub` (the binary at path) and returns how long it took
// from starting the process to GET /hub/api answering 200 through its
// proxy.
func (j *JupyterHub) Start(ctx context.Context, path string, n int) (time.Duration, error) {
	start := time.Now()
	p, err := StartProc("jupyterhub", filepath.Join(j.dir, fmt.Sprintf("jupyterhub-%d.log", n)), nodeEnv(), j.dir,
		path, "-f", "jupyterhub_config.py")
	if err != nil {
		return 0, err
	}
	j.Proc = p
	if err := waitHTTP200(ctx, j.Base+"/hub/api", p, 120*time.Second); err != nil {
		return 0, fmt.Errorf("jupyterhub: %w; its output:\n%s", err, p.LogTail(20))
	}
	return time.Since(start), nil
}

// Stop stops the hub, which stops its proxy; the process group catches
// the proxy if the hub did not.
func (j *JupyterHub) Stop() {
	if j.Proc != nil {
		j.Proc.Stop(15 * time.Second)
	}
}

// waitHTTP200 polls url every 10 ms until it answers 200.
func waitHTTP200(ctx context.Context, url string, proc *Proc, limit time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	return waitFor(ctx, limit, 10*time.Millisecond, proc, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}
