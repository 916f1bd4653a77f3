package spawner

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// gwBridge is the bridge every swarm node gives its tasks for traffic
// leaving the overlay; its inter-container traffic is off.
const gwBridge = engine.GatewayBridge

// LabelNode is, on a work volume the swarm backend made with the local
// driver, the ID of the swarm node that holds it: its student's server
// runs there.
const LabelNode = "org.classhub.node"

// ErrNoSwarm is matched by the swarm backend's refusals to run on an
// engine that is in no swarm, or only a worker of one.
var ErrNoSwarm = fmt.Errorf("not a swarm manager")

// SwarmManager checks that the engine can run the swarm backend: it is a
// manager of an active swarm. It returns the node's ID.
func SwarmManager(info swarm.Info) (string, error) {
	switch {
	case info.LocalNodeState != swarm.LocalNodeStateActive:
		return "", fmt.Errorf("the settings say backend = %q but this Docker engine is in no swarm (%s): run `docker swarm init` here, or join it to your swarm as a manager, or set backend = %q: %w",
			config.BackendSwarm, info.LocalNodeState, config.BackendContainer, ErrNoSwarm)
	case !info.ControlAvailable:
		return "", fmt.Errorf("this Docker engine is a worker of its swarm, and only a manager can run services: run classhub on a manager node (`docker node ls` there lists them) or promote this one (`docker node promote %s` on a manager): %w",
			info.NodeID, ErrNoSwarm)
	}
	return info.NodeID, nil
}

// ensureNetwork makes the attachable overlay network a hub service joins
// (labelled as classhub's) and works out how hub and servers meet. When
// the hub runs in a container on that overlay (the service `classhub swarm
// deploy` makes), no server joins that overlay: each running server has a
// seat of its own, an overlay it shares with the hub alone (seats.go), and
// the hub reaches tasks on every node at their seat's address. When it
// runs on a manager's host, which has no address on any overlay,
// it meets its servers on that node's docker_gwbridge instead, as the
// container backend does on its bridge, every server is pinned to that
// node (Network.PinNode) and runs on an overlay of its own (ownNetwork).
func (b *services) ensureNetwork(ctx context.Context, name string) (Network, error) {
	info, err := b.d.cli.Info(ctx)
	if err != nil {
		return Network{}, engine.Explain(err)
	}
	nodeID, err := SwarmManager(info.Swarm)
	if err != nil {
		return Network{}, err
	}
	ins, err := b.overlay(ctx, name, RoleNetwork, "", nil)
	if err != nil {
		return Network{}, err
	}
	n := Network{Name: ins.Name, ID: ins.ID, ContainerIPsRoutable: true}
	var subnet *net.IPNet
	for _, c := range ins.IPAM.Config {
		if _, s, err := net.ParseCIDR(c.Subnet); err == nil && s.IP.To4() != nil {
			subnet, n.Subnet, n.Gateway = s, s.String(), c.Gateway
			break
		}
	}
	if subnet == nil {
		return Network{}, fmt.Errorf("network %s has no IPv4 subnet: remove it (`docker network rm %s`) so classhub recreates it", name, name)
	}
	local, err := localIPs()
	if err != nil {
		return Network{}, fmt.Errorf("list this machine's addresses: %w", err)
	}
	for _, ip := range local {
		if subnet.Contains(ip) {
			svc, seats, err := b.ownService(ctx, name)
			if err != nil {
				return Network{}, err
			}
			// Each server's task has an address on its node's
			// docker_gwbridge too, beside its seat, and with local
			// volumes every server runs on the hub's node.
			if _, err := b.gatewayBridge(ctx); err != nil {
				return Network{}, err
			}
			// Servers call the hub by its service's name, which each
			// resolves on its own seat to the hub's address there; the
			// hub listens on all of its container's addresses, seats
			// included (none is on the LAN: its public ports are
			// published by the engine).
			n.HubHost, n.BindAddr, n.Seats = svc.Spec.Name, "0.0.0.0", seats
			return n, nil
		}
	}
	gw, err := b.gatewayBridge(ctx)
	if err != nil {
		return Network{}, err
	}
	// Listed again: a bridge the engine made while gatewayBridge waited
	// (just after `docker swarm init`) was not among them before.
	if local, err = localIPs(); err != nil {
		return Network{}, fmt.Errorf("list this machine's addresses: %w", err)
	}
	for _, c := range gw.IPAM.Config {
		ip := net.ParseIP(c.Gateway)
		for _, l := range local {
			if ip != nil && ip.To4() != nil && l.Equal(ip) {
				n.HubHost, n.BindAddr, n.PinNode = ip.String(), ip.String(), nodeID
				return n, nil
			}
		}
	}
	return Network{}, fmt.Errorf("the hub is neither on network %s nor on this node's %s, so no server could reach it: run the hub on a manager node, or as a service (see `classhub image build-hub`)", name, gwBridge)
}

// overlay inspects the attachable overlay network name, labelled as
// classhub's with role (for user, when not "", and with the extra labels),
// and makes it when it is missing.
func (b *services) overlay(ctx context.Context, name, role, user string, extra map[string]string) (network.Inspect, error) {
	ins, err := b.d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		labels := b.d.labels(role, user)
		for k, v := range extra {
			labels[k] = v
		}
		_, err = b.d.cli.NetworkCreate(ctx, name, network.CreateOptions{
			Driver: "overlay",
			// Servers' traffic between nodes carries their tokens and
			// the students' cookies over the LAN: IPsec, by the engine.
			Options:    map[string]string{"encrypted": ""},
			Scope:      "swarm",
			Attachable: true,
			Labels:     labels,
		})
		if err != nil && !cerrdefs.IsConflict(err) {
			return network.Inspect{}, engine.Explain(err)
		}
		// A manager answers for a network it just made before it knows
		// its driver: look until it does.
		for range 50 {
			ins, err = b.d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
			if err != nil || ins.Driver != "" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err != nil {
		return network.Inspect{}, engine.Explain(err)
	}
	if ins.Labels[engine.LabelManaged] != "true" || ins.Labels[engine.LabelRole] != role || ins.Labels[engine.LabelUser] != user {
		return network.Inspect{}, fmt.Errorf("a Docker network named %s exists but classhub did not create it: remove it (`docker network rm %s`) or set another network name in the settings: %w", name, name, ErrNotManaged)
	}
	if ins.Driver != "overlay" || !ins.Attachable {
		return network.Inspect{}, fmt.Errorf("network %s is not an attachable overlay (driver %s): stop classhub's servers and remove it (`docker network rm %s`) so classhub recreates it", name, ins.Driver, name)
	}
	return ins, nil
}

// ownNetwork is the overlay a server of a hub on a node's host runs on,
// its user's alone: a task on an overlay can connect to every other task
// on it, and an overlay has no switch that stops it. The hub does not
// join it; it meets the server on docker_gwbridge, whose inter-container
// traffic is off, so no server reaches another's by any address.
func (b *services) ownNetwork(ctx context.Context, sp spec) (string, error) {
	name := sp.name + ownSuffix
	if _, err := b.overlay(ctx, name, RoleNetwork, sp.user, nil); err != nil {
		return "", fmt.Errorf("%s's network %s: %w", sp.user, name, err)
	}
	return name, nil
}

// ownSuffix names a server's own overlay after its service.
const ownSuffix = "-net"

// removeOwnNetworks removes the overlays of the service's user among
// targets (network IDs from its spec) once its tasks have left them; the
// shared overlay stays.
func (b *services) removeOwnNetworks(ctx context.Context, targets []string) error {
	for _, id := range targets {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			ins, err := b.d.cli.NetworkInspect(ctx, id, network.InspectOptions{})
			if cerrdefs.IsNotFound(err) {
				break
			}
			if err != nil {
				return engine.Explain(err)
			}
			if ins.Labels[engine.LabelManaged] != "true" || ins.Labels[engine.LabelUser] == "" {
				break
			}
			err = b.d.cli.NetworkRemove(ctx, ins.ID)
			if err == nil || cerrdefs.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("remove network %s: %w", ins.Name, engine.Explain(err))
			}
		}
	}
	return nil
}

// gatewayBridge inspects this node's docker_gwbridge, where a hub outside
// the swarm meets its servers. The engine makes it a moment after `docker
// swarm init`, so a hub started at once waits for it. One with
// inter-container traffic on (made by hand before the swarm) would let
// every student's server reach every other's: it is refused.
func (b *services) gatewayBridge(ctx context.Context) (network.Inspect, error) {
	var gw network.Inspect
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		gw, err = b.d.cli.NetworkInspect(ctx, gwBridge, network.InspectOptions{})
		if !cerrdefs.IsNotFound(err) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return network.Inspect{}, fmt.Errorf("this node's %s, where a hub outside the swarm meets its servers: %w", gwBridge, engine.Explain(err))
	}
	if gw.Options[iccOption] != "false" {
		return network.Inspect{}, fmt.Errorf("this node's %s lets containers connect to each other (%s is not false), so every student's server could reach every other's: make this node leave the swarm, remove %s and create it again with -o %s=false before it rejoins (Docker's guide to docker_gwbridge shows the command): %w",
			gwBridge, iccOption, gwBridge, iccOption, ErrGatewayICC)
	}
	return gw, nil
}

// ErrGatewayICC is matched by the refusal of a docker_gwbridge whose
// inter-container traffic is on.
var ErrGatewayICC = fmt.Errorf("docker_gwbridge has inter-container traffic on")

// volumeNode is the node a server must run on to find its work volume:
// none with a volume driver, which every node reaches; else the node the
// hub made the volume on, which is this one.
func (d *Docker) volumeNode(ctx context.Context, vol string, cfg config.Config) (string, error) {
	if cfg.VolumeDriver != "" {
		return "", nil
	}
	v, err := d.cli.VolumeInspect(ctx, vol)
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", vol, engine.Explain(err))
	}
	if node := v.Labels[LabelNode]; node != "" {
		return node, nil
	}
	info, err := d.cli.Info(ctx)
	if err != nil {
		return "", engine.Explain(err)
	}
	return info.Swarm.NodeID, nil
}

// volumeDriver is the driver of a new work volume, volume_driver or
// "local"; for a local volume of the swarm backend it records in labels
// the node that holds it (this one), where its student's server must run.
func (d *Docker) volumeDriver(ctx context.Context, labels map[string]string) (string, error) {
	cfg := d.config()
	if cfg.VolumeDriver != "" {
		return cfg.VolumeDriver, nil
	}
	if cfg.Backend == config.BackendSwarm {
		info, err := d.cli.Info(ctx)
		if err != nil {
			return "", engine.Explain(err)
		}
		labels[LabelNode] = info.Swarm.NodeID
	}
	return "local", nil
}
