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

// HubServiceName is the name of the service the hub runs as on a swarm.
const HubServiceName = "classhub-hub"

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
}

// DeployHub runs the hub as a service on the swarm's overlay network, so
// it reaches servers on every node and they reach it: pinned to this node
// (a manager: it holds the hub's image, its data dir and the engine socket
// the hub drives the swarm through), as this user (the socket's group
// added), with the public port and user_ports published on this node alone
// (host mode, not the routing mesh) and hub_port not published at all.
// A hub service made before is replaced. It returns the service's ID.
func (d *Docker) DeployHub(ctx context.Context, hs HubService) (string, error) {
	cfg := d.config()
	if cfg.Backend != config.BackendSwarm {
		return "", fmt.Errorf("deploy the hub: the settings say backend = %q: set backend = %q first", cfg.Backend, config.BackendSwarm)
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr())
	if err != nil {
		return "", fmt.Errorf("deploy the hub: listen %q: %w", cfg.ListenAddr(), err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return "", fmt.Errorf("deploy the hub: it listens on %s only, which in a service nobody could reach: set listen = \"0.0.0.0:%s\" (class mode's default)", host, port)
	}
	pub, _ := strconv.Atoi(port)
	first, last, err := cfg.UserPortRange()
	if err != nil {
		return "", fmt.Errorf("deploy the hub: %w", err)
	}
	netw, err := d.EnsureNetwork(ctx)
	if err != nil {
		return "", fmt.Errorf("deploy the hub: %w", err)
	}
	img, err := d.cli.ImageInspect(ctx, hs.Image)
	if err != nil {
		return "", fmt.Errorf("deploy the hub: image %s: %w: build it with `classhub image build-hub`", hs.Image, engine.Explain(err))
	}
	info, err := d.cli.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	gid, err := socketGroup(engineSocket)
	if err != nil {
		return "", fmt.Errorf("deploy the hub: the engine's socket %s: %w: the hub in a service drives the swarm through it", engineSocket, err)
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
			},
			Placement:     &swarm.Placement{Constraints: []string{"node.id==" + info.Swarm.NodeID, "node.role==manager"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: netw.Name}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
		EndpointSpec: &swarm.EndpointSpec{Ports: ports},
	}
	if old, _, err := d.cli.ServiceInspectWithRaw(ctx, HubServiceName, swarm.ServiceInspectOptions{}); err == nil {
		if old.Spec.Labels[engine.LabelManaged] != "true" {
			return "", fmt.Errorf("deploy the hub: a service named %s exists but classhub did not create it: remove it (`docker service rm %s`): %w", HubServiceName, HubServiceName, ErrNotManaged)
		}
		if err := (&services{d: d}).remove(ctx, old.ID); err != nil {
			return "", fmt.Errorf("deploy the hub: %w", err)
		}
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	resp, err := d.cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		return "", fmt.Errorf("deploy the hub: %w", engine.Explain(err))
	}
	return resp.ID, nil
}
