package spawner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/jackpal/gateway"
)

// iccOption is the bridge driver option that stops containers on the
// network from talking to each other; they still reach the host.
const iccOption = "com.docker.network.bridge.enable_icc"

// desktopHost is the name Docker Desktop (and, with ExtraHosts
// host-gateway, any engine since 20.10) gives the host inside containers.
const desktopHost = "host.docker.internal"

// Network is the servers' network and how the hub and servers reach each
// other over it.
type Network struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Gateway string `json:"gateway"`
	Subnet  string `json:"subnet"`
	// HubHost is the host servers use to reach the hub: the bridge's
	// gateway IP, or host.docker.internal when the engine runs in a VM.
	HubHost string `json:"hub_host"`
	// BindAddr is the IP the hub's internal listener binds: the gateway
	// IP, or 127.0.0.1 when the engine runs in a VM. Never a LAN address.
	BindAddr string `json:"bind_addr"`
	// ContainerIPsRoutable says the hub can reach container IPs directly;
	// when false, servers publish their port on 127.0.0.1 instead.
	ContainerIPsRoutable bool `json:"container_ips_routable"`
	// Desktop says the engine reported itself as Docker Desktop.
	Desktop bool `json:"desktop"`
	// PinNode, for the swarm backend with the hub on a node's host, is
	// the node every server runs on: the hub reaches them through that
	// node's docker_gwbridge.
	PinNode string `json:"pin_node,omitempty"`
	// Seats, for the swarm backend with the hub as a service, are the
	// overlays the hub meets its running servers on, one server each
	// (seats.go); servers never join the network named Name then.
	Seats []Seat `json:"seats,omitempty"`
}

// EnsureNetwork creates the configured network if it is missing (a bridge
// with inter-container traffic off, labelled as classhub's) and works out
// how the hub and the servers reach each other. A network of that name
// that classhub did not create is left alone and reported.
func (d *Docker) EnsureNetwork(ctx context.Context) (Network, error) {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	name := d.run.networkName(d.config())
	if d.net != nil && d.net.Name == name {
		return *d.net, nil
	}
	n, err := d.run.ensureNetwork(ctx, name)
	if err != nil {
		return Network{}, fmt.Errorf("network %s: %w", name, err)
	}
	d.net = &n
	return n, nil
}

// forgetNetwork drops the cached network, after the engine said it is gone.
func (d *Docker) forgetNetwork() {
	d.netMu.Lock()
	d.net = nil
	d.netMu.Unlock()
}

func (d *Docker) ensureNetwork(ctx context.Context, name string) (Network, error) {
	ins, err := d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		_, err = d.cli.NetworkCreate(ctx, name, network.CreateOptions{
			Driver:  "bridge",
			Options: map[string]string{iccOption: "false"},
			Labels:  d.labels("network", ""),
		})
		if err != nil && !cerrdefs.IsConflict(err) {
			return Network{}, engine.Explain(err)
		}
		ins, err = d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	}
	if err != nil {
		return Network{}, engine.Explain(err)
	}
	if ins.Labels[engine.LabelManaged] != "true" {
		return Network{}, fmt.Errorf("a Docker network named %s exists but classhub did not create it: remove it (`docker network rm %s`) or set another network name in the settings: %w", name, name, ErrNotManaged)
	}
	if ins.Driver != "bridge" || ins.Options[iccOption] != "false" {
		return Network{}, fmt.Errorf("network %s lets servers reach each other (driver %s, %s=%q): stop classhub's servers and remove it (`docker network rm %s`) so classhub recreates it", name, ins.Driver, iccOption, ins.Options[iccOption], name)
	}
	n := Network{Name: ins.Name, ID: ins.ID}
	for _, c := range ins.IPAM.Config {
		ip, subnet, err := net.ParseCIDR(c.Subnet)
		if err != nil || ip.To4() == nil {
			continue
		}
		n.Subnet = subnet.String()
		n.Gateway = c.Gateway
		if n.Gateway == "" {
			// Some engines leave Gateway out; the bridge takes the first host.
			gw := append(net.IP(nil), subnet.IP.To4()...)
			gw[3]++
			n.Gateway = gw.String()
		}
		break
	}
	if n.Gateway == "" {
		return Network{}, fmt.Errorf("network %s has no IPv4 subnet: remove it (`docker network rm %s`) so classhub recreates it", name, name)
	}
	info, err := d.cli.Info(ctx)
	if err != nil {
		return Network{}, engine.Explain(err)
	}
	n.Desktop = isDesktop(info.OperatingSystem)
	local, err := localIPs()
	if err != nil {
		return Network{}, fmt.Errorf("list this machine's addresses: %w", err)
	}
	n.HubHost, n.BindAddr, n.ContainerIPsRoutable = hubAddress(n.Desktop, net.ParseIP(n.Gateway), local)
	return n, nil
}

func isDesktop(operatingSystem string) bool {
	return strings.Contains(strings.ToLower(operatingSystem), "docker desktop")
}

// hubAddress decides how hub and servers meet. When the bridge's gateway
// is an address of this machine, the engine runs here: the hub binds the
// gateway (reachable only from containers and this machine, never the
// LAN) and reaches containers at their IPs. Otherwise the engine runs in a
// VM (Docker Desktop, a remote or rootless engine): the hub binds loopback,
// containers reach it as host.docker.internal, and their ports are
// published on 127.0.0.1.
func hubAddress(desktop bool, gw net.IP, local []net.IP) (hubHost, bindAddr string, routable bool) {
	if !desktop && gw != nil {
		for _, ip := range local {
			if ip.Equal(gw) {
				return gw.String(), gw.String(), true
			}
		}
	}
	return desktopHost, "127.0.0.1", false
}

// localIPs lists this machine's addresses; engine.Locate reads the same.
func localIPs() ([]net.IP, error) { return engine.OwnIPs() }

// LANAddress returns this machine's address on the network of its default
// route, the address a class uses to reach the hub. It reads the routing
// table and the interfaces; it sends nothing.
func LANAddress() (net.IP, error) {
	gw, err := gateway.DiscoverGateway()
	if err != nil {
		return nil, fmt.Errorf("find the default route (is this machine on a network?): %w", err)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list this machine's addresses: %w", err)
	}
	return lanAddressFor(gw, addrs)
}

// lanAddressFor picks the interface address whose subnet holds the
// default gateway.
func lanAddressFor(gw net.IP, addrs []net.Addr) (net.IP, error) {
	if gw == nil || gw.IsUnspecified() {
		return nil, errors.New("this machine has no default route: connect it to the class network")
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() {
			continue
		}
		if n.Contains(gw) {
			return n.IP, nil
		}
	}
	return nil, fmt.Errorf("no address of this machine is on the same network as the default gateway %s: connect it to the class network", gw)
}
