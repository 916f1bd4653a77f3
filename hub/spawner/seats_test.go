package spawner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// TestPickSeat: a server keeps its seat while nobody else holds it, else
// takes the first free one, never one another server holds (by the ID or
// the name its service names it by); with none free the refusal says what
// to do.
func TestPickSeat(t *testing.T) {
	seats := []Seat{{Name: "n-seat-1", ID: "id1"}, {Name: "n-seat-2", ID: "id2"}, {Name: "n-seat-3", ID: "id3"}}
	for _, tc := range []struct {
		name    string
		held    map[string]bool
		current string
		want    string
	}{
		{"a new server takes the first", nil, "", "id1"},
		{"a server keeps its free seat", map[string]bool{"id1": true}, "id3", "id3"},
		{"a seat named by its name is kept", nil, "n-seat-2", "id2"},
		{"a held seat is left", map[string]bool{"id1": true, "id3": true}, "id3", "id2"},
		{"held by name", map[string]bool{"n-seat-1": true}, "", "id2"},
		{"the hub's own network is no seat", nil, "shared", "id1"},
	} {
		got, err := pickSeat(seats, tc.held, tc.current)
		if err != nil || got.ID != tc.want {
			t.Errorf("%s: got %+v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err := pickSeat(seats, map[string]bool{"id1": true, "n-seat-2": true, "id3": true}, "id2")
	if !errors.Is(err, ErrNoSeat) || !strings.Contains(err.Error(), "all 3 of the hub's seats") || !strings.Contains(err.Error(), "--seats 6") {
		t.Errorf("every seat held: %v", err)
	}
	_, err = pickSeat(make([]Seat, MaxSeats), map[string]bool{"": true}, "")
	if !errors.Is(err, ErrNoSeat) || strings.Contains(err.Error(), "--seats") {
		t.Errorf("every one of the most seats held: %v", err)
	}
}

// TestSeatOf: a service's seat is its one network, "" without one.
func TestSeatOf(t *testing.T) {
	if got := seatOf(swarm.ServiceSpec{}); got != "" {
		t.Errorf("no network: %q", got)
	}
	spec := swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{Networks: []swarm.NetworkAttachmentConfig{{Target: "id2"}}}}
	if got := seatOf(spec); got != "id2" {
		t.Errorf("seatOf = %q, want id2", got)
	}
}

// seatHubClient is the engine as the hub in a service sees it: on the
// overlay shared (whose subnet holds this machine's loopback, so the hub
// finds itself on it), a task of service hub, which is on seat 1; its
// node's docker_gwbridge is gw.
type seatHubClient struct {
	client.APIClient
	shared string
	gw     network.Inspect
}

func (c seatHubClient) Info(context.Context) (system.Info, error) {
	return system.Info{Swarm: swarm.Info{LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: true, NodeID: "n1"}}, nil
}

func (c seatHubClient) NetworkInspect(_ context.Context, name string, _ network.InspectOptions) (network.Inspect, error) {
	if name == gwBridge {
		return c.gw, nil
	}
	return network.Inspect{Name: c.shared, ID: "shared", Driver: "overlay", Attachable: true,
		Labels: map[string]string{engine.LabelManaged: "true", engine.LabelRole: RoleNetwork},
		IPAM:   network.IPAM{Config: []network.IPAMConfig{{Subnet: "127.0.0.0/8", Gateway: "127.0.0.254"}}}}, nil
}

func (c seatHubClient) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	return container.InspectResponse{Config: &container.Config{Labels: map[string]string{"com.docker.swarm.service.id": "hub"}}}, nil
}

func (c seatHubClient) ServiceInspectWithRaw(context.Context, string, swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	return swarm.Service{ID: "hub", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: HubServiceName},
		TaskTemplate: swarm.TaskSpec{Networks: []swarm.NetworkAttachmentConfig{{Target: "shared"}, {Target: "seat1"}}}}}, nil, nil
}

func (c seatHubClient) NetworkList(context.Context, network.ListOptions) ([]network.Summary, error) {
	return []network.Summary{{Name: c.shared + "-seat-1", ID: "seat1", Labels: map[string]string{LabelSeat: "1"}}}, nil
}

// TestSeatsGatewayICC: the hub as a service refuses its node's
// docker_gwbridge when containers on it may talk to each other, as the hub
// on the host does: every server's task has an address on its node's
// docker_gwbridge besides its seat, and with local volumes every server
// runs on the hub's node.
func TestSeatsGatewayICC(t *testing.T) {
	for _, opts := range []map[string]string{nil, {iccOption: "true"}} {
		b := &services{d: New(seatHubClient{shared: "n-swarm", gw: network.Inspect{Name: gwBridge, Options: opts}}, Options{Config: config.Default()})}
		n, err := b.ensureNetwork(context.Background(), "n-swarm")
		if !errors.Is(err, ErrGatewayICC) {
			t.Errorf("docker_gwbridge with options %v: %+v, %v; want a refusal", opts, n, err)
		}
	}
	b := &services{d: New(seatHubClient{shared: "n-swarm", gw: network.Inspect{Name: gwBridge, Options: map[string]string{iccOption: "false"}}}, Options{Config: config.Default()})}
	n, err := b.ensureNetwork(context.Background(), "n-swarm")
	if err != nil || len(n.Seats) != 1 || n.HubHost != HubServiceName {
		t.Errorf("the engine's docker_gwbridge: %+v, %v; want the hub's one seat", n, err)
	}
}

// TestEnded: a service's seat is free once the task its spec asked for
// ended, and not before: not while a wake's task is still to come (the
// newest task is from before the wake's ForceUpdate), nor with none yet,
// nor with a restart policy that brings another.
func TestEnded(t *testing.T) {
	svc := func(force uint64, cond swarm.RestartPolicyCondition) swarm.Service {
		return swarm.Service{Spec: swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ForceUpdate: force, RestartPolicy: &swarm.RestartPolicy{Condition: cond}}}}
	}
	task := func(force uint64, state swarm.TaskState, at int) swarm.Task {
		return swarm.Task{Meta: swarm.Meta{CreatedAt: time.Unix(int64(at), 0)}, Spec: swarm.TaskSpec{ForceUpdate: force}, Status: swarm.TaskStatus{State: state}}
	}
	none := swarm.RestartPolicyConditionNone
	for _, tc := range []struct {
		name  string
		svc   swarm.Service
		tasks []swarm.Task
		want  bool
	}{
		{"its task failed", svc(2, none), []swarm.Task{task(1, swarm.TaskStateShutdown, 1), task(2, swarm.TaskStateFailed, 2)}, true},
		{"its task runs", svc(2, none), []swarm.Task{task(2, swarm.TaskStateRunning, 2)}, false},
		{"a wake's task is to come", svc(3, none), []swarm.Task{task(2, swarm.TaskStateFailed, 2)}, false},
		{"no task yet", svc(0, none), nil, false},
		{"its node is out of reach", svc(2, none), []swarm.Task{task(2, swarm.TaskStateOrphaned, 2)}, false},
		{"another comes", svc(2, swarm.RestartPolicyConditionAny), []swarm.Task{task(2, swarm.TaskStateFailed, 2)}, false},
	} {
		if got := ended(tc.svc, tc.tasks); got != tc.want {
			t.Errorf("%s: ended = %v, want %v", tc.name, got, tc.want)
		}
	}
}
