package spawner

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// RoleHub is LabelRole on the hub's own service.
const RoleHub = "hub"

// HubServiceName is the name of the service the hub runs as on a swarm:
// "classhub" alone, which no server's service is named (ContainerName
// always adds "-" and the escaped user), so a student named "hub" is no
// hub.
const HubServiceName = "classhub"

// engineSocket is where the engine listens on a Linux node.
const engineSocket = "/var/run/docker.sock"

// HubService is how the hub runs as a Swarm service.
type HubService struct {
	// Image is the hub's image (`classhub image build-hub`); the service
	// runs its ID, so no node pulls it.
	Image string
	// DataDir is the hub's data dir on this node, mounted at dataMount.
	DataDir string
	// DataMount is where the image reads its data dir.
	DataMount string
	// Seats is how many servers can run at once, each on a network it
	// shares with the hub alone (seats.go); 0 keeps those made before,
	// or makes DefaultSeats. Seats made before are never removed.
	Seats int
}

// DeployHub runs the hub as a service on the swarm's overlay network and
// on each of its seats, so it reaches servers on every node and they reach
// it, each on a seat of its own: pinned to this node
// (a manager: it holds the hub's image, its data dir and the engine socket
// the hub drives the swarm through), as this user (the socket's group
// added), with the public port and user_ports published on this node alone
// (host mode, not the routing mesh) and hub_port not published at all.
// Its name resolves to its task's own address (DNS round robin, no
// virtual IP), on each seat the one there. A hub service made before is
// replaced. It returns the service's ID and the seats it has.
func (d *Docker) DeployHub(ctx context.Context, hs HubService) (string, []Seat, error) {
	cfg := d.config()
	if cfg.Backend != config.BackendSwarm {
		return "", nil, fmt.Errorf("deploy the hub: the settings say backend = %q: set backend = %q first", cfg.Backend, config.BackendSwarm)
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr())
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: listen %q: %w", cfg.ListenAddr(), err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return "", nil, fmt.Errorf("deploy the hub: it listens on %s only, which in a service nobody could reach: set listen = \"0.0.0.0:%s\" (class mode's default)", host, port)
	}
	pub, _ := strconv.Atoi(port)
	first, last, err := cfg.UserPortRange()
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: %w", err)
	}
	if hs.Seats < 0 || hs.Seats > MaxSeats {
		return "", nil, fmt.Errorf("deploy the hub: %d seats: give from 1 to %d", hs.Seats, MaxSeats)
	}
	netw, err := d.EnsureNetwork(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: %w", err)
	}
	b := &services{d: d}
	if hs.Seats == 0 {
		hs.Seats = DefaultSeats
	}
	seats, err := b.ensureSeats(ctx, netw.Name, hs.Seats)
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: %w", err)
	}
	attach := []swarm.NetworkAttachmentConfig{{Target: netw.Name}}
	for _, s := range seats {
		attach = append(attach, swarm.NetworkAttachmentConfig{Target: s.ID})
	}
	img, err := d.cli.ImageInspect(ctx, hs.Image)
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: image %s: %w: build it with `classhub image build-hub`", hs.Image, engine.Explain(err))
	}
	info, err := d.cli.Info(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	gid, err := socketGroup(engineSocket)
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: the engine's socket %s: %w: the hub in a service drives the swarm through it", engineSocket, err)
	}
	ports := []swarm.PortConfig{{Protocol: swarm.PortConfigProtocolTCP, TargetPort: uint32(pub), PublishedPort: uint32(pub), PublishMode: swarm.PortConfigPublishModeHost}}
	for p := first; p <= last; p++ {
		ports = append(ports, swarm.PortConfig{Protocol: swarm.PortConfigProtocolTCP, TargetPort: uint32(p), PublishedPort: uint32(p), PublishMode: swarm.PortConfigPublishModeHost})
	}
	one := uint64(1)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: HubServiceName, Labels: d.labels(RoleHub, "")},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:  img.ID,
				Labels: d.labels(RoleHub, ""),
				User:   deployUser(),
				Groups: []string{strconv.Itoa(int(gid))},
				Mounts: []mount.Mount{
					{Type: mount.TypeBind, Source: engineSocket, Target: engineSocket},
					{Type: mount.TypeBind, Source: hs.DataDir, Target: hs.DataMount},
				},
				CapabilityDrop: []string{"ALL"},
				// The hub's container is on every seat: it must not
				// route between them (its network namespace would
				// otherwise inherit the node's forwarding).
				Sysctls: map[string]string{"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"},
			},
			Placement:     &swarm.Placement{Constraints: []string{"node.id==" + info.Swarm.NodeID, "node.role==manager"}},
			Networks:      attach,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR, Ports: ports},
	}
	if old, _, err := d.cli.ServiceInspectWithRaw(ctx, HubServiceName, swarm.ServiceInspectOptions{}); err == nil {
		if old.Spec.Labels[engine.LabelManaged] != "true" || old.Spec.Labels[engine.LabelRole] != RoleHub {
			return "", nil, fmt.Errorf("deploy the hub: a service named %s exists but is not classhub's hub: remove it (`docker service rm %s`): %w", HubServiceName, HubServiceName, ErrNotManaged)
		}
		if err := b.remove(ctx, old.ID); err != nil {
			return "", nil, fmt.Errorf("deploy the hub: %w", err)
		}
	} else if !cerrdefs.IsNotFound(err) {
		return "", nil, fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	resp, err := d.cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		return "", nil, fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	return resp.ID, seats, nil
}

// HubState is where the hub's service is, for `doctor` on a node.
type HubState struct {
	// State is its newest task's state ("running", "preparing", ...),
	// "" when it has none; Err the task's error.
	State, Err string
	// Node is the ID of the node its task is on.
	Node string
	// Seats is how many seats it is on, Held how many of them running
	// servers hold.
	Seats, Held int
}

// HubState describes the hub's service; ok is false when none is
// deployed.
func (d *Docker) HubState(ctx context.Context) (st HubState, ok bool, err error) {
	svc, _, err := d.cli.ServiceInspectWithRaw(ctx, HubServiceName, swarm.ServiceInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return st, false, nil
	}
	if err != nil {
		return st, false, engine.Explain(err)
	}
	if svc.Spec.Labels[engine.LabelManaged] != "true" {
		return st, false, nil
	}
	b := &services{d: d}
	tasks, err := b.tasks(ctx, svc.ID)
	if err != nil {
		return st, true, engine.Explain(err)
	}
	if t := newestTask(tasks); t != nil {
		st.State, st.Err, st.Node = string(t.Status.State), t.Status.Err, t.NodeID
	}
	nets, err := b.seatNetworks(ctx)
	if err != nil {
		return st, true, err
	}
	held, err := b.heldSeats(ctx, "")
	if err != nil {
		return st, true, err
	}
	for _, s := range seatsOn(nets, svc.Spec.TaskTemplate.Networks) {
		st.Seats++
		if s.heldIn(held) {
			st.Held++
		}
	}
	return st, true, nil
}
