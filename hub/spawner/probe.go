package spawner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"time"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
)

// probeScript fetches argv[1]; any HTTP answer, even an error status,
// proves the hub is reachable.
const probeScript = `import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=10)
except urllib.error.HTTPError:
    pass
except Exception as e:
    print("cannot reach %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
`

// ProbeHubAddress proves that servers can reach the hub: it runs a
// short-lived, labelled container from the configured image on the
// servers' network that fetches http://<HubHost>:<port>/, where port is
// that of listenAddr, the address of an HTTP listener the caller bound on
// Network.BindAddr. Any HTTP answer counts. The probe container is removed
// afterwards.
func (d *Docker) ProbeHubAddress(ctx context.Context, listenAddr string) error {
	_, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("probe hub address: %q is not host:port: %w", listenAddr, err)
	}
	netw, err := d.EnsureNetwork(ctx)
	if err != nil {
		return fmt.Errorf("probe hub address: %w", err)
	}
	cfg := d.config()
	if _, err := d.ensureImage(ctx, cfg, nil); err != nil {
		return fmt.Errorf("probe hub address: %w", err)
	}
	url := "http://" + net.JoinHostPort(netw.HubHost, port) + "/"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(netw.Name)}
	if !netw.ContainerIPsRoutable {
		hc.ExtraHosts = []string{desktopHost + ":host-gateway"}
	}
	var b [4]byte
	rand.Read(b[:])
	name := "classhub-probe-" + hex.EncodeToString(b[:])
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image:  cfg.Image,
		Cmd:    []string{"python3", "-c", probeScript, url},
		Labels: d.labels(RoleProbe, ""),
	}, hc, nil, nil, name)
	if err != nil {
		return fmt.Errorf("probe hub address: create probe container: %w", engine.Explain(err))
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		d.removeContainer(rctx, resp.ID)
		rcancel()
	}()
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("probe hub address: start probe container: %w", engine.Explain(err))
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		return fmt.Errorf("probe hub address: wait for probe container: %w", engine.Explain(err))
	}
	if code != 0 {
		return fmt.Errorf("servers on network %s cannot reach the hub at %s (%s): check that no firewall on this machine blocks connections from %s to %s",
			netw.Name, url, d.lastLines(ctx, resp.ID, 3), netw.Subnet, netw.BindAddr)
	}
	return nil
}

// EngineInfo is what `classhub doctor` shows about the engine.
type EngineInfo struct {
	Version         string `json:"version"`
	APIVersion      string `json:"api_version"`
	OperatingSystem string `json:"operating_system"`
	Desktop         bool   `json:"desktop"`
	// SwapLimit is false when the kernel cannot cap swap, so memory_limit
	// caps memory only.
	SwapLimit bool `json:"swap_limit"`
	// PidsLimit is false when the kernel cannot cap processes, so
	// pids_limit has no effect.
	PidsLimit     bool   `json:"pids_limit"`
	CgroupVersion string `json:"cgroup_version"`
	// SwarmState is the engine's node's state in a swarm: "inactive"
	// (in none), "pending", "active", "error" or "locked".
	SwarmState string `json:"swarm_state"`
	// SwarmError is what the engine said went wrong with its swarm.
	SwarmError string `json:"swarm_error,omitempty"`
	// Manager says the engine's node is a swarm manager, which alone may
	// create services.
	Manager bool `json:"manager"`
	// VolumeDrivers are the volume drivers the engine has, "local" and
	// any plugin installed and enabled.
	VolumeDrivers []string `json:"volume_drivers"`
}

// Engine reports the engine's version and the facts that shape servers.
func (d *Docker) Engine(ctx context.Context) (EngineInfo, error) {
	v, err := d.cli.ServerVersion(ctx)
	if err != nil {
		return EngineInfo{}, fmt.Errorf("engine version: %w", engine.Explain(err))
	}
	info, err := d.cli.Info(ctx)
	if err != nil {
		return EngineInfo{}, fmt.Errorf("engine info: %w", engine.Explain(err))
	}
	return EngineInfo{
		Version: v.Version, APIVersion: d.cli.ClientVersion(), OperatingSystem: info.OperatingSystem,
		Desktop: isDesktop(info.OperatingSystem), SwapLimit: info.SwapLimit, PidsLimit: info.PidsLimit,
		CgroupVersion: info.CgroupVersion, SwarmState: string(info.Swarm.LocalNodeState), SwarmError: info.Swarm.Error,
		Manager: info.Swarm.ControlAvailable, VolumeDrivers: info.Plugins.Volume,
	}, nil
}
