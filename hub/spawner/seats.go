package spawner

// The hub as a service meets each running server on a seat: an overlay
// network that the hub's service and that one server share, and nobody
// else. An overlay has no switch that stops its members connecting to
// each other, and the engine neither connects a service's task to another
// network (`docker network connect` answers "not found") nor adds one to a
// service without restarting its task; so `classhub swarm deploy` makes
// the seats up front and attaches the hub to all of them, and each start
// gives its server a seat no other server holds. A stopped server's seat,
// or that of one which exited, is free for the next start once its
// container is gone; its own next start takes it back when it is still
// free, and moves to another when not.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// RoleSeat is LabelRole on a seat's overlay network.
const RoleSeat = "seat"

// LabelSeat is a seat's number, from 1.
const LabelSeat = "org.classhub.seat"

// DefaultSeats is how many seats `classhub swarm deploy` makes when asked
// for none: a large class's running servers.
const DefaultSeats = 40

// MaxSeats bounds a deploy's seats: every seat is an interface in the
// hub's container and an encrypted overlay on each node that runs a server
// on it, and the engine gives each overlay a /24 of its address pool.
const MaxSeats = 250

// Seat is one of the hub service's seats.
type Seat struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// is says whether target, a network attachment's target (an ID or a
// name), is this seat.
func (s Seat) is(target string) bool { return target != "" && (target == s.ID || target == s.Name) }

// heldIn says whether held, from heldSeats, has this seat by its ID or name.
func (s Seat) heldIn(held map[string]bool) bool { return held[s.ID] || held[s.Name] }

// seatsOn is the seats among nets that attach names.
func seatsOn(nets []network.Summary, attach []swarm.NetworkAttachmentConfig) []Seat {
	var seats []Seat
	for _, n := range nets {
		s := Seat{Name: n.Name, ID: n.ID}
		if slices.ContainsFunc(attach, func(a swarm.NetworkAttachmentConfig) bool { return s.is(a.Target) }) {
			seats = append(seats, s)
		}
	}
	return seats
}

// ErrNoSeat is matched by a start refused because every seat is held.
var ErrNoSeat = errors.New("every seat is held")

// seatName is the name of seat n of the servers' network name.
func seatName(netName string, n int) string { return netName + "-seat-" + strconv.Itoa(n) }

// ensureSeats makes seats 1 to n of the overlay netName, those missing,
// labelled as classhub's, and returns all of them, in order. The seats
// made before are kept whatever n says: running servers may hold them.
func (b *services) ensureSeats(ctx context.Context, netName string, n int) ([]Seat, error) {
	have, err := b.seatNetworks(ctx)
	if err != nil {
		return nil, err
	}
	n = max(n, len(have))
	seats := make([]Seat, 0, n)
	for i := 1; i <= n; i++ {
		name := seatName(netName, i)
		ins, err := b.overlay(ctx, name, RoleSeat, "", map[string]string{LabelSeat: strconv.Itoa(i)})
		if err != nil {
			return nil, fmt.Errorf("seat %d: %w", i, err)
		}
		seats = append(seats, Seat{Name: ins.Name, ID: ins.ID})
	}
	return seats, nil
}

// seatNetworks lists the seats classhub made, in order of their number.
func (b *services) seatNetworks(ctx context.Context) ([]network.Summary, error) {
	nets, err := b.d.cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", engine.ManagedFilter()),
		filters.Arg("label", engine.LabelRole+"="+RoleSeat),
	)})
	if err != nil {
		return nil, engine.Explain(err)
	}
	num := func(n network.Summary) int { i, _ := strconv.Atoi(n.Labels[LabelSeat]); return i }
	slices.SortFunc(nets, func(a, b network.Summary) int { return num(a) - num(b) })
	return nets, nil
}

// ownService is the service the hub's own container is a task of, and
// the seats among that service's networks. The hub in a container finds
// its container by its host name, which Swarm sets to the container's ID.
func (b *services) ownService(ctx context.Context, shared string) (swarm.Service, []Seat, error) {
	host, err := os.Hostname()
	if err != nil {
		return swarm.Service{}, nil, fmt.Errorf("the hub's host name: %w", err)
	}
	notService := fmt.Errorf("the hub is on network %s but is no task of a Swarm service, which would leave it no seats to meet its servers on: run it with `classhub swarm deploy`, or on a manager's host (`classhub serve --backend swarm`)", shared)
	c, err := b.d.cli.ContainerInspect(ctx, host)
	if err != nil || c.Config == nil || c.Config.Labels["com.docker.swarm.service.id"] == "" {
		return swarm.Service{}, nil, notService
	}
	svc, _, err := b.d.cli.ServiceInspectWithRaw(ctx, c.Config.Labels["com.docker.swarm.service.id"], swarm.ServiceInspectOptions{})
	if err != nil {
		return swarm.Service{}, nil, fmt.Errorf("the hub's own service: %w", engine.Explain(err))
	}
	nets, err := b.seatNetworks(ctx)
	if err != nil {
		return swarm.Service{}, nil, err
	}
	seats := seatsOn(nets, svc.Spec.TaskTemplate.Networks)
	if len(seats) == 0 {
		return swarm.Service{}, nil, fmt.Errorf("the hub's service %s has no seats, networks it shares with one server each (an older classhub deployed it): deploy it again with `classhub swarm deploy`", svc.Spec.Name)
	}
	return svc, seats, nil
}

// heldSeats is the networks that servers other than except's hold: those
// of every service that wants a task, unless the task it asked for ended
// (see ended), and those any task but the hub's is still on: a stopped
// server's task may take its grace period to go, and so may a removed
// service's (a replace removes a running server), which no service lists
// any more.
func (b *services) heldSeats(ctx context.Context, except string) (map[string]bool, error) {
	svcs, err := b.d.cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: serverFilter()})
	if err != nil {
		return nil, engine.Explain(err)
	}
	tasks, err := b.d.cli.TaskList(ctx, swarm.TaskListOptions{})
	if err != nil {
		return nil, engine.Explain(err)
	}
	byService := map[string][]swarm.Task{}
	for _, t := range tasks {
		byService[t.ServiceID] = append(byService[t.ServiceID], t)
	}
	held := map[string]bool{}
	for _, s := range svcs {
		if s.ID != except && replicas(s) > 0 && !ended(s, byService[s.ID]) {
			for _, a := range s.Spec.TaskTemplate.Networks {
				held[a.Target] = true
			}
		}
	}
	for _, t := range tasks {
		if taskGone(t) || (except != "" && t.ServiceID == except) || hubTask(t) {
			continue
		}
		for _, a := range t.NetworksAttachments {
			held[a.Network.ID], held[a.Network.Spec.Name] = true, true
		}
	}
	return held, nil
}

// ended says the task the service's spec asked for has ended and no other
// comes (its restart policy is none): a server that exited, or that its
// memory limit killed, which the hub shows as stopped and nobody would
// think of stopping, holds no seat. Every wake changes the spec's
// ForceUpdate, so a task from before it is never taken for the one it
// asked for. An orphaned task has not ended: its node is out of reach,
// and its container may still run there.
func ended(s swarm.Service, tasks []swarm.Task) bool {
	rp := s.Spec.TaskTemplate.RestartPolicy
	t := newestTask(tasks)
	return rp != nil && rp.Condition == swarm.RestartPolicyConditionNone &&
		t != nil && taskGone(*t) && t.Status.State != swarm.TaskStateOrphaned &&
		t.Spec.ForceUpdate == s.Spec.TaskTemplate.ForceUpdate
}

// hubTask says the task runs the hub's service, which is on every seat.
func hubTask(t swarm.Task) bool {
	cs := t.Spec.ContainerSpec
	return cs != nil && cs.Labels[engine.LabelManaged] == "true" && cs.Labels[engine.LabelRole] == RoleHub
}

// taskGone says the task's container has stopped or never will run.
func taskGone(t swarm.Task) bool {
	switch t.Status.State {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
		swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// pickSeat is the seat for a server on current (its service's network,
// "" for a new one): current itself when it is a seat nobody else holds,
// else the first free one.
func pickSeat(seats []Seat, held map[string]bool, current string) (Seat, error) {
	for _, s := range seats {
		if s.is(current) && !s.heldIn(held) {
			return s, nil
		}
	}
	for _, s := range seats {
		if !s.heldIn(held) {
			return s, nil
		}
	}
	if len(seats) >= MaxSeats {
		return Seat{}, fmt.Errorf("all %d of the hub's seats, the networks it meets its running servers on, are held: stop a server nobody uses: %w", len(seats), ErrNoSeat)
	}
	return Seat{}, fmt.Errorf("all %d of the hub's seats, the networks it meets its running servers on, are held: stop a server nobody uses, or give the hub more with `classhub swarm deploy --seats %d` on its node (the hub restarts, which takes about a second a seat; running servers keep running): %w",
		len(seats), min(2*len(seats), MaxSeats), ErrNoSeat)
}

// freeSeat is the seat for the server of service except on current (see
// pickSeat). The caller holds d.seatMu until the service's spec names it.
func (b *services) freeSeat(ctx context.Context, seats []Seat, except, current string) (Seat, error) {
	held, err := b.heldSeats(ctx, except)
	if err != nil {
		return Seat{}, err
	}
	return pickSeat(seats, held, current)
}

// seatOf is the seat a service's spec puts it on, "" when none.
func seatOf(spec swarm.ServiceSpec) string {
	if len(spec.TaskTemplate.Networks) == 0 {
		return ""
	}
	return spec.TaskTemplate.Networks[0].Target
}

// Seats is how many seats the hub meets its servers on, once the network
// is ready: 0 unless the hub is a Swarm service (core.Seater).
func (d *Docker) Seats() int {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	if d.net == nil {
		return 0
	}
	return len(d.net.Seats)
}
