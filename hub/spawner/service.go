package spawner

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
)

// LabelImage is, on a server's service, the image reference it was started
// from; the service itself runs the image's ID, so no node ever pulls.
const LabelImage = "org.classhub.image"

// services runs each server as a Swarm service of one replica: on an
// overlay of its own when the hub runs on a node's host (see ownNetwork),
// on a seat it shares with the hub alone when the hub is a service (see
// seats.go). A stop scales the service to zero and keeps it, as a stop
// keeps a container: the next start is one update,
// and a stopped server keeps its fingerprint, token and placement, so
// reconcile decides for services exactly as for containers. Delete removes
// the service. (JupyterHub's SwarmSpawner removes the service at each
// stop; classhub keeps the stop/delete distinction its pages already show.)
type services struct {
	d *Docker
}

// swarmSuffix names the overlay network after the settings' network: a
// laptop's bridge network of that name may exist already.
const swarmSuffix = "-swarm"

func (*services) networkName(cfg config.Config) string { return cfg.Network + swarmSuffix }

// create makes the user's service with one replica, which the swarm
// schedules at once; start then waits for its task to run.
func (b *services) create(ctx context.Context, sp spec) (string, error) {
	netw, err := b.d.EnsureNetwork(ctx)
	if err != nil {
		return "", err
	}
	spec, err := b.serviceSpec(ctx, sp, netw)
	if err != nil {
		return "", err
	}
	if netw.PinNode != "" {
		own, err := b.ownNetwork(ctx, sp)
		if err != nil {
			return "", err
		}
		spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: own}}
	}
	if len(netw.Seats) > 0 {
		// Held from the choice until the service that holds the seat
		// exists, so two starts never choose the same one.
		b.d.seatMu.Lock()
		defer b.d.seatMu.Unlock()
		seat, err := b.freeSeat(ctx, netw.Seats, "", "")
		if err != nil {
			return "", err
		}
		spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: seat.ID}}
	}
	// QueryRegistry false: the image is named by its ID, and nothing is
	// ever pulled (there may be no registry at all).
	resp, err := b.d.cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		if strings.Contains(err.Error(), "name conflicts") || strings.Contains(err.Error(), "already exists") {
			return "", errdefs.Conflict(err)
		}
		return "", err
	}
	return resp.ID, nil
}

// serviceSpec is sp as a service: the container the container backend
// would create, with what Swarm can express of it (see confine).
func (b *services) serviceSpec(ctx context.Context, sp spec, netw Network) (swarm.ServiceSpec, error) {
	one := uint64(1)
	grace := b.d.stopTimeout
	labels := map[string]string{}
	for k, v := range sp.cfg.Labels {
		labels[k] = v
	}
	labels[LabelImage] = sp.cfg.Image
	mounts := slices.Clone(sp.host.Mounts)
	cfg := b.d.config()
	for i, m := range mounts {
		if m.Type == mount.TypeVolume && m.Target == WorkDir && cfg.VolumeDriver != "" {
			// Each node makes or attaches the volume through the driver.
			mounts[i].VolumeOptions = &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: cfg.VolumeDriver}}
		}
	}
	placement := &swarm.Placement{}
	node, err := b.d.volumeNode(ctx, sp.volume, cfg)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	if netw.PinNode != "" {
		node = netw.PinNode
	}
	if node != "" {
		placement.Constraints = []string{"node.id==" + node}
	}
	var pids int64
	if sp.host.PidsLimit != nil {
		pids = *sp.host.PidsLimit
	}
	cs := &swarm.ContainerSpec{
		Image:           sp.imageID,
		Labels:          sp.cfg.Labels,
		Command:         sp.cfg.Entrypoint,
		Args:            sp.cfg.Cmd,
		Hostname:        sp.cfg.Hostname,
		Env:             sp.cfg.Env,
		Mounts:          mounts,
		StopGracePeriod: &grace,
		CapabilityDrop:  sp.host.CapDrop,
		CapabilityAdd:   sp.host.CapAdd,
	}
	if slices.Contains(sp.host.SecurityOpt, noNewPrivileges) {
		cs.Privileges = &swarm.Privileges{NoNewPrivileges: true}
	}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: sp.name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			Resources: &swarm.ResourceRequirements{Limits: &swarm.Limit{
				NanoCPUs: sp.host.NanoCPUs, MemoryBytes: sp.host.Memory, Pids: pids,
			}},
			// A server that exits stays stopped, as a container does; the
			// hub (or its user) starts it again.
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     placement,
			Networks:      []swarm.NetworkAttachmentConfig{{Target: netw.Name}},
			LogDriver:     &swarm.Driver{Name: sp.host.LogConfig.Type, Options: sp.host.LogConfig.Config},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}, nil
}

// confine drops from hc what a service cannot express on this engine, so
// the fingerprint, the drift reasons and Weaknesses describe what runs:
// Swarm has no swap limit, and no-new-privileges only from API 1.46
// (engine 27); before that it is silently ignored.
func (b *services) confine(hc *container.HostConfig) {
	hc.MemorySwap = 0
	if versions.LessThan(b.d.cli.ClientVersion(), "1.46") {
		hc.SecurityOpt = slices.DeleteFunc(hc.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, noNewPrivileges) })
	}
}

// inspect shows the service named ref as the container its newest task
// runs (see viewOf).
func (b *services) inspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	svc, _, err := b.d.cli.ServiceInspectWithRaw(ctx, ref, swarm.ServiceInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, err
	}
	// A prefix of another service's ID is not this name.
	if svc.ID != ref && svc.Spec.Name != ref {
		return container.InspectResponse{}, notFound("no service %s", ref)
	}
	tasks, err := b.tasks(ctx, svc.ID)
	if err != nil {
		return container.InspectResponse{}, err
	}
	netName := b.networkName(b.d.config())
	return b.viewOf(ctx, svc, newestTask(tasks), netName), nil
}

func (b *services) tasks(ctx context.Context, serviceID string) ([]swarm.Task, error) {
	return b.d.cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
}

// newestTask is the task the service's one slot runs now or ran last.
func newestTask(tasks []swarm.Task) *swarm.Task {
	var t *swarm.Task
	for i := range tasks {
		if t == nil || tasks[i].CreatedAt.After(t.CreatedAt) {
			t = &tasks[i]
		}
	}
	return t
}

// replicas is the service's wanted number of tasks.
func replicas(svc swarm.Service) uint64 {
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

// taskStatus is the container state a service's task stands for: running
// while its task runs; "created" while it is on its way (scheduled, image
// checked, starting), so a start waits for it; "exited" when scaled to zero
// or its task ended.
func taskStatus(svc swarm.Service, t *swarm.Task) string {
	if t == nil {
		if replicas(svc) == 0 {
			return container.StateExited
		}
		return container.StateCreated
	}
	switch t.Status.State {
	case swarm.TaskStateRunning:
		if t.DesiredState == swarm.TaskStateRunning {
			return container.StateRunning
		}
		return container.StateRunning // being stopped: still running until it is
	case swarm.TaskStateNew, swarm.TaskStateAllocated, swarm.TaskStatePending, swarm.TaskStateAssigned,
		swarm.TaskStateAccepted, swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting:
		if replicas(svc) == 0 || t.DesiredState != swarm.TaskStateRunning {
			return container.StateExited
		}
		return container.StateCreated
	}
	return container.StateExited
}

// viewOf is the container a service stands for, in the terms the rest of
// the spawner reads: labels, environment and the fingerprint from the
// service's spec, the state from its newest task, and the task's address
// on netName.
func (b *services) viewOf(ctx context.Context, svc swarm.Service, t *swarm.Task, netName string) container.InspectResponse {
	cs := svc.Spec.TaskTemplate.ContainerSpec
	if cs == nil {
		cs = &swarm.ContainerSpec{}
	}
	status := taskStatus(svc, t)
	st := &container.State{Status: status, Running: status == container.StateRunning}
	if t != nil {
		if status == container.StateRunning {
			st.StartedAt = t.Status.Timestamp.Format(time.RFC3339Nano)
		} else if status == container.StateExited {
			st.FinishedAt = t.Status.Timestamp.Format(time.RFC3339Nano)
		}
		if t.Status.ContainerStatus != nil {
			st.ExitCode = t.Status.ContainerStatus.ExitCode
			st.Pid = t.Status.ContainerStatus.PID
		}
		if t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateRejected {
			st.Error = t.Status.Err
		}
	}
	labels := map[string]string{}
	for k, v := range svc.Spec.Labels {
		labels[k] = v
	}
	hc := &container.HostConfig{
		NetworkMode: container.NetworkMode(netName),
		Mounts:      cs.Mounts,
		CapDrop:     cs.CapabilityDrop,
		CapAdd:      cs.CapabilityAdd,
	}
	if cs.Privileges != nil && cs.Privileges.NoNewPrivileges {
		hc.SecurityOpt = []string{noNewPrivileges}
	}
	if r := svc.Spec.TaskTemplate.Resources; r != nil && r.Limits != nil {
		hc.Memory, hc.NanoCPUs = r.Limits.MemoryBytes, r.Limits.NanoCPUs
		if r.Limits.Pids > 0 {
			p := r.Limits.Pids
			hc.PidsLimit = &p
		}
	}
	if ld := svc.Spec.TaskTemplate.LogDriver; ld != nil {
		hc.LogConfig = container.LogConfig{Type: ld.Name, Config: ld.Options}
	}
	info := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{
			ID:         svc.ID,
			Name:       "/" + svc.Spec.Name,
			Image:      cs.Image,
			State:      st,
			HostConfig: hc,
			Created:    svc.CreatedAt.Format(time.RFC3339Nano),
		},
		Config: &container.Config{
			Image:      labels[LabelImage],
			Env:        cs.Env,
			Labels:     labels,
			Hostname:   cs.Hostname,
			Cmd:        cs.Args,
			Entrypoint: cs.Command,
		},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{}},
	}
	for _, m := range cs.Mounts {
		if m.Type == mount.TypeVolume {
			info.Mounts = append(info.Mounts, container.MountPoint{Type: m.Type, Name: m.Source, Destination: m.Target, RW: !m.ReadOnly})
		}
	}
	if status == container.StateRunning && t != nil {
		if ip := b.taskAddress(ctx, t, netName); ip != "" {
			info.NetworkSettings.Networks[netName] = &network.EndpointSettings{IPAddress: ip}
		}
	}
	return info
}

// taskAddress is where the hub reaches a running task: its address on its
// seat (or on the hub's overlay, for a server made before seats) when the
// hub is a service, else (the hub runs on this
// node's host, and its servers are pinned here) its address on this
// node's docker_gwbridge.
func (b *services) taskAddress(ctx context.Context, t *swarm.Task, netName string) string {
	n, err := b.d.EnsureNetwork(ctx)
	if err != nil {
		return ""
	}
	if n.PinNode != "" {
		if t.Status.ContainerStatus == nil {
			return ""
		}
		gw, err := b.d.cli.NetworkInspect(ctx, gwBridge, network.InspectOptions{})
		if err != nil {
			return ""
		}
		if ep, ok := gw.Containers[t.Status.ContainerStatus.ContainerID]; ok {
			ip, _, _ := strings.Cut(ep.IPv4Address, "/")
			return ip
		}
		return ""
	}
	for _, a := range t.NetworksAttachments {
		onSeat := slices.ContainsFunc(n.Seats, func(s Seat) bool { return s.is(a.Network.ID) })
		if !onSeat && a.Network.Spec.Name != netName {
			continue
		}
		for _, addr := range a.Addresses {
			if ip, _, err := net.ParseCIDR(addr); err == nil && ip.To4() != nil {
				return ip.String()
			}
		}
	}
	return ""
}

// update changes the service with fn and sends it, again when another
// update came first.
func (b *services) update(ctx context.Context, id string, fn func(*swarm.ServiceSpec)) error {
	for attempt := 0; ; attempt++ {
		svc, _, err := b.d.cli.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
		if err != nil {
			return err
		}
		spec := svc.Spec
		fn(&spec)
		_, err = b.d.cli.ServiceUpdate(ctx, id, svc.Version, spec, swarm.ServiceUpdateOptions{})
		if err == nil || attempt >= 5 || !strings.Contains(err.Error(), "out of sequence") {
			return err
		}
	}
}

// start scales the service to one (or, when its task ended, asks for a new
// one) and waits until the task runs.
func (b *services) start(ctx context.Context, id string, say func(string)) error {
	svc, _, err := b.d.cli.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if err != nil {
		return err
	}
	tasks, err := b.tasks(ctx, svc.ID)
	if err != nil {
		return err
	}
	if replicas(svc) == 0 || taskStatus(svc, newestTask(tasks)) == container.StateExited {
		if err := b.wake(ctx, svc, say); err != nil {
			return err
		}
	}
	return b.waitTask(ctx, svc, tasks, say)
}

// wake asks the swarm for a task of svc: scaled to one, or, when its task
// ended, a new one; with the hub as a service, on a seat nobody else
// holds.
func (b *services) wake(ctx context.Context, svc swarm.Service, say func(string)) error {
	netw, err := b.d.EnsureNetwork(ctx)
	if err != nil {
		return err
	}
	var seat *Seat
	if len(netw.Seats) > 0 {
		b.d.seatMu.Lock()
		defer b.d.seatMu.Unlock()
		s, err := b.freeSeat(ctx, netw.Seats, svc.ID, seatOf(svc.Spec))
		if err != nil {
			return err
		}
		if !s.is(seatOf(svc.Spec)) {
			seat = &s
			say("Seat: " + s.Name)
		}
	}
	err = b.update(ctx, svc.ID, func(s *swarm.ServiceSpec) {
		if replicas(svc) == 0 {
			one := uint64(1)
			s.Mode.Replicated.Replicas = &one
		}
		// A new task either way; a new ForceUpdate too, which tells
		// heldSeats the task asked for from those that ended before.
		s.TaskTemplate.ForceUpdate++
		if seat != nil {
			s.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: seat.ID}}
		}
	})
	if err != nil {
		return fmt.Errorf("update service %s: %w", svc.Spec.Name, err)
	}
	return nil
}

// waitTask waits until a task newer than those in before, or one of them
// still meant to run, runs; a task that fails is the start's error.
func (b *services) waitTask(ctx context.Context, svc swarm.Service, before []swarm.Task, say func(string)) error {
	old := map[string]bool{}
	for _, t := range before {
		if t.DesiredState != swarm.TaskStateRunning {
			old[t.ID] = true
		}
	}
	delay := 50 * time.Millisecond
	said := ""
	for {
		tasks, err := b.tasks(ctx, svc.ID)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if old[t.ID] || t.DesiredState != swarm.TaskStateRunning {
				continue
			}
			if now := taskProgress(t); now != said {
				said = now
				say(now)
			}
			switch t.Status.State {
			case swarm.TaskStateRunning:
				return nil
			case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateComplete, swarm.TaskStateOrphaned:
				return fmt.Errorf("the swarm could not run %s's task: %s", svc.Spec.Name, taskWhy(t))
			}
		}
		select {
		case <-ctx.Done():
			// Not wrapped: the task's state says more than the start's
			// generic timeout would.
			return fmt.Errorf("the swarm has not run %s's task yet (%s; %v): a task pending for \"no suitable node\" waits for the node its files are on; otherwise the nodes may be overloaded, try again", svc.Spec.Name, pendingWhy(tasks), ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// taskProgress says, for a start's progress, where the swarm is with a
// task: which node it chose and what that node is doing ("preparing" is
// the node checking the image, which it never pulls).
func taskProgress(t swarm.Task) string {
	msg := "Swarm: " + string(t.Status.State)
	if t.NodeID != "" {
		msg += " on node " + t.NodeID
	}
	if t.Status.Err != "" {
		msg += " (" + t.Status.Err + ")"
	} else if t.Status.Message != "" {
		msg += " (" + t.Status.Message + ")"
	}
	return msg
}

// taskWhy is a task's own words for where it is.
func taskWhy(t swarm.Task) string {
	why := string(t.Status.State)
	if t.Status.Err != "" {
		why += ": " + t.Status.Err
	} else if t.Status.Message != "" {
		why += ": " + t.Status.Message
	}
	return why
}

// pendingWhy says where the newest task is, for a start that timed out:
// "pending: no suitable node" names the constraint that keeps it waiting.
func pendingWhy(tasks []swarm.Task) string {
	if t := newestTask(tasks); t != nil {
		return taskWhy(*t)
	}
	return "no task yet"
}

func (*services) unpause(context.Context, string) error { return nil }

// stop scales the service to zero and waits until its task has stopped.
func (b *services) stop(ctx context.Context, id string) error {
	err := b.update(ctx, id, func(s *swarm.ServiceSpec) {
		zero := uint64(0)
		s.Mode.Replicated.Replicas = &zero
	})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return engine.Explain(err)
	}
	return b.waitStopped(ctx, id)
}

// waitStopped waits until no task of the service runs or is on its way.
func (b *services) waitStopped(ctx context.Context, id string) error {
	delay := 50 * time.Millisecond
	for {
		tasks, err := b.tasks(ctx, id)
		if err != nil {
			return engine.Explain(err)
		}
		busy := false
		for _, t := range tasks {
			switch t.Status.State {
			case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected,
				swarm.TaskStateRemove, swarm.TaskStateOrphaned:
			default:
				busy = true
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %s is still stopping: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// remove removes the service and waits until its containers on this node
// are gone, so its volume can go next, and then its user's own overlay.
func (b *services) remove(ctx context.Context, id string) error {
	var nets []string
	if svc, _, err := b.d.cli.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{}); err == nil {
		for _, n := range svc.Spec.TaskTemplate.Networks {
			nets = append(nets, n.Target)
		}
	}
	err := b.d.cli.ServiceRemove(ctx, id)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove service %s: %w", id, engine.Explain(err))
	}
	if err := b.waitGone(ctx, id); err != nil {
		return err
	}
	return b.removeOwnNetworks(ctx, nets)
}

func (b *services) waitGone(ctx context.Context, id string) error {
	f := filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))
	delay := 100 * time.Millisecond
	for {
		cs, err := b.d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			return fmt.Errorf("wait for service %s to go: %w", id, engine.Explain(err))
		}
		if len(cs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %s's containers are still being removed: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (b *services) list(ctx context.Context) ([]listed, error) {
	svcs, err := b.d.cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: serverFilter()})
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, nil
	}
	f := filters.NewArgs()
	for _, s := range svcs {
		f.Add("service", s.ID)
	}
	tasks, err := b.d.cli.TaskList(ctx, swarm.TaskListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	byService := map[string][]swarm.Task{}
	for _, t := range tasks {
		byService[t.ServiceID] = append(byService[t.ServiceID], t)
	}
	out := make([]listed, 0, len(svcs))
	for _, s := range svcs {
		user := s.Spec.Labels[engine.LabelUser]
		out = append(out, listed{user: user, id: s.ID, state: stateOf(taskStatus(s, newestTask(byService[s.ID]))),
			named: user != "" && s.Spec.Name == ContainerName(user)})
	}
	return out, nil
}

func (b *services) logs(ctx context.Context, id string, tail string) (io.ReadCloser, error) {
	return b.d.cli.ServiceLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
}

// stats samples the running task's container, which must be on this node:
// the engine measures only its own containers.
func (b *services) stats(ctx context.Context, id string) (container.StatsResponseReader, error) {
	tasks, err := b.tasks(ctx, id)
	if err != nil {
		return container.StatsResponseReader{}, err
	}
	t := newestTask(tasks)
	if t == nil || t.Status.State != swarm.TaskStateRunning || t.Status.ContainerStatus == nil {
		return container.StatsResponseReader{}, ErrNotRunning
	}
	resp, err := b.d.cli.ContainerStats(ctx, t.Status.ContainerStatus.ContainerID, false)
	if cerrdefs.IsNotFound(err) {
		return resp, fmt.Errorf("the server runs on another node of the swarm (%s), whose engine alone can measure it", t.NodeID)
	}
	return resp, err
}
