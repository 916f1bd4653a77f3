package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/classhub/classhub/hub/engine"
)

// RoleBench labels the Docker objects the bench makes itself (the floor's
// containers and volumes). It is "test", so `make clean` removes what a
// killed bench left behind.
const RoleBench = "test"

// notebookPort is the port jupyterhub-singleuser binds in the container.
const notebookPort = 8888

// Floor starts notebook servers the shortest way the engine allows: one
// volume, one container create, one start, then polling the server's HTTP
// every 50 ms. It is `docker run -d` through the Engine API, with what
// classhub's spawner gives each server (image, the JupyterHub environment,
// a work volume, the memory and CPU limits, the network), and nothing a
// hub does around it. The servers talk to a StubHub.
type Floor struct {
	Docker  *client.Client
	Network string
	HubURL  string // the StubHub's JUPYTERHUB_API_URL
	Image   string
	Memory  int64
	CPUs    float64
	http    *http.Client
}

// FloorServer is one running floor container.
type FloorServer struct {
	User, ID, Name, Volume, IP string
}

// floorEnv is the environment classhub's spawner (and JupyterHub's
// Spawner.get_env) gives a default server, pointing at the stub hub.
func floorEnv(user, hubURL, image string, mem int64, cpus float64) []string {
	tok := make([]byte, 16)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	prefix := "/user/" + user + "/"
	scopes := fmt.Sprintf(`["access:servers!server=%s/", "access:servers!user=%s"]`, user, user)
	env := []string{
		"JUPYTERHUB_API_TOKEN=" + token,
		"JPY_API_TOKEN=" + token,
		"JUPYTERHUB_CLIENT_ID=jupyterhub-user-" + user,
		"JUPYTERHUB_API_URL=" + hubURL,
		"JUPYTERHUB_ACTIVITY_URL=" + hubURL + "/users/" + user + "/activity",
		"JUPYTERHUB_BASE_URL=/",
		"JUPYTERHUB_SERVICE_PREFIX=" + prefix,
		"JUPYTERHUB_SERVICE_URL=http://0.0.0.0:" + strconv.Itoa(notebookPort) + prefix,
		"JUPYTERHUB_OAUTH_CALLBACK_URL=" + prefix + "oauth_callback",
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES=" + scopes,
		"JUPYTERHUB_OAUTH_SCOPES=" + scopes,
		"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES=[]",
		"JUPYTERHUB_USER=" + user,
		"JUPYTERHUB_SERVER_NAME=",
		"JUPYTERHUB_HOST=",
		"JUPYTER_IMAGE_SPEC=" + image,
	}
	if mem > 0 {
		env = append(env, "MEM_LIMIT="+strconv.FormatInt(mem, 10))
	}
	if cpus > 0 {
		env = append(env, "CPU_LIMIT="+strconv.FormatFloat(cpus, 'f', -1, 64))
	}
	return env
}

func floorLabels(user string) map[string]string {
	return map[string]string{engine.LabelManaged: "true", engine.LabelRole: RoleBench, engine.LabelUser: user}
}

// Start creates and starts user's floor server and returns it with its IP.
func (f *Floor) Start(ctx context.Context, user string) (FloorServer, error) {
	s := FloorServer{User: user, Name: "classhub-bench-" + user, Volume: "classhub-bench-" + user + "-work"}
	if _, err := f.Docker.VolumeCreate(ctx, volume.CreateOptions{Name: s.Volume, Labels: floorLabels(user)}); err != nil {
		return s, fmt.Errorf("floor volume for %s: %w", user, err)
	}
	port := nat.Port(strconv.Itoa(notebookPort) + "/tcp")
	swap := f.Memory
	resp, err := f.Docker.ContainerCreate(ctx,
		&container.Config{
			Image: f.Image, Env: floorEnv(user, f.HubURL, f.Image, f.Memory, f.CPUs),
			ExposedPorts: nat.PortSet{port: struct{}{}}, Hostname: s.Name, Labels: floorLabels(user),
		},
		&container.HostConfig{
			NetworkMode: container.NetworkMode(f.Network),
			Mounts:      []mount.Mount{{Type: mount.TypeVolume, Source: s.Volume, Target: "/home/jovyan/work"}},
			Resources:   container.Resources{Memory: f.Memory, MemorySwap: swap, NanoCPUs: int64(f.CPUs * 1e9)},
			LogConfig:   container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}},
		},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{f.Network: {}}},
		nil, s.Name)
	if err != nil {
		return s, fmt.Errorf("create floor container for %s: %w", user, err)
	}
	s.ID = resp.ID
	if err := f.Docker.ContainerStart(ctx, s.ID, container.StartOptions{}); err != nil {
		return s, fmt.Errorf("start floor container for %s: %w", user, err)
	}
	info, err := f.Docker.ContainerInspect(ctx, s.ID)
	if err != nil {
		return s, fmt.Errorf("inspect floor container for %s: %w", user, err)
	}
	if info.NetworkSettings != nil {
		if ep := info.NetworkSettings.Networks[f.Network]; ep != nil {
			s.IP = ep.IPAddress
		}
	}
	if s.IP == "" {
		return s, fmt.Errorf("floor container for %s has no address on %s", user, f.Network)
	}
	return s, nil
}

// WaitReady polls GET /user/NAME/api on the container every 50 ms until it
// answers 200 with a Jupyter version, the test classhub's spawner uses.
func (f *Floor) WaitReady(ctx context.Context, s FloorServer, limit time.Duration) error {
	if f.http == nil {
		f.http = &http.Client{Timeout: 2 * time.Second,
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	}
	url := "http://" + s.IP + ":" + strconv.Itoa(notebookPort) + "/user/" + s.User + "/api"
	polls := 0
	err := waitFor(ctx, limit, 50*time.Millisecond, nil, func() bool {
		polls++
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := f.http.Do(req); err == nil {
			var api struct {
				Version string `json:"version"`
			}
			err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&api)
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && err == nil && api.Version != ""
		}
		// A server that died will never answer: look every second.
		if polls%20 == 0 {
			if info, err := f.Docker.ContainerInspect(ctx, s.ID); err == nil && info.State != nil && !info.State.Running {
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("floor server %s at %s: %w", s.User, url, err)
	}
	if info, err := f.Docker.ContainerInspect(ctx, s.ID); err == nil && info.State != nil && !info.State.Running {
		return fmt.Errorf("floor server %s exited with code %d while starting", s.User, info.State.ExitCode)
	}
	return nil
}

// Remove removes the container and its volume.
func (f *Floor) Remove(ctx context.Context, s FloorServer) error {
	var err error
	if s.ID != "" {
		err = f.Docker.ContainerRemove(ctx, s.ID, container.RemoveOptions{Force: true})
	}
	if verr := f.Docker.VolumeRemove(ctx, s.Volume, true); err == nil {
		err = verr
	}
	return err
}

// gatewayOf returns a network's IPv4 gateway: the one the engine reports,
// or the subnet's first address, which the bridge driver takes.
func gatewayOf(ins network.Inspect) (string, error) {
	for _, c := range ins.IPAM.Config {
		ip, subnet, err := net.ParseCIDR(c.Subnet)
		if err != nil || ip.To4() == nil {
			continue
		}
		if c.Gateway != "" {
			return c.Gateway, nil
		}
		gw := append(net.IP(nil), subnet.IP.To4()...)
		gw[3]++
		return gw.String(), nil
	}
	return "", fmt.Errorf("network %s has no IPv4 subnet", ins.Name)
}
