package spawner

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/engine"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
)

// inspectOwned inspects the user's container. found is false when there is
// none; a container of that name that is not classhub's, or is another
// user's, is an error and is left alone.
func (d *Docker) inspectOwned(ctx context.Context, user string) (info container.InspectResponse, found bool, err error) {
	name := ContainerName(user)
	info, err = d.run.inspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("inspect container %s: %w", name, engine.Explain(err))
	}
	// Containers inherit their image's labels, and classhub's image is
	// labelled managed too: only the server role and a user label mark a
	// server classhub made.
	l := map[string]string{}
	if info.Config != nil {
		l = info.Config.Labels
	}
	if info.State == nil || l[engine.LabelManaged] != "true" || l[engine.LabelRole] != RoleServer || l[engine.LabelUser] == "" {
		return info, false, fmt.Errorf("a Docker container named %s exists but classhub did not create it: rename or remove it (`docker rm -f %s`) so classhub can start %s's server: %w", name, name, user, ErrNotManaged)
	}
	if owner := l[engine.LabelUser]; owner != user {
		return info, false, fmt.Errorf("container %s belongs to user %q, not %q: their names escape alike; rename one of the users: %w", name, owner, user, ErrNotManaged)
	}
	return info, true, nil
}

func (d *Docker) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	info, err := d.run.inspect(ctx, id)
	if err != nil {
		return info, fmt.Errorf("inspect container %s: %w", id, engine.Explain(err))
	}
	return info, nil
}

// HostConfig is how the server id is confined and limited, as Weaknesses
// reads it; for a Swarm service, what its spec expresses of a container's.
func (d *Docker) HostConfig(ctx context.Context, id string) (*container.HostConfig, error) {
	info, err := d.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	return info.HostConfig, nil
}

// targetOf is where the hub reaches a running server: a port published on
// loopback when there is one, else the container's IP on the network.
func targetOf(info container.InspectResponse, netName string) (string, error) {
	port := strconv.Itoa(ServerPort)
	if ns := info.NetworkSettings; ns != nil {
		for _, b := range ns.Ports[nat.Port(port+"/tcp")] {
			if b.HostPort != "" && (b.HostIP == "127.0.0.1" || b.HostIP == "") {
				return "http://127.0.0.1:" + b.HostPort, nil
			}
		}
		if ep := ns.Networks[netName]; ep != nil && ep.IPAddress != "" {
			return "http://" + net.JoinHostPort(ep.IPAddress, port), nil
		}
		for _, ep := range ns.Networks {
			if ep != nil && ep.IPAddress != "" {
				return "http://" + net.JoinHostPort(ep.IPAddress, port), nil
			}
		}
	}
	return "", fmt.Errorf("container %s runs but has no address on network %s: delete the server and start it again", strings.TrimPrefix(info.Name, "/"), netName)
}

// serverFrom describes a container for the hub.
func serverFrom(user string, info container.InspectResponse, netName string) Server {
	s := Server{
		User:      user,
		State:     StateMissing,
		Container: ContainerName(user),
		Volume:    VolumeName(user),
		Prefix:    ServerPrefix(user),
	}
	if info.ContainerJSONBase == nil || info.State == nil {
		return s
	}
	s.ID = info.ID
	// The volume is the account's (see volumes.go), named by the container.
	for _, m := range info.Mounts {
		if m.Destination == WorkDir && m.Name != "" {
			s.Volume = m.Name
		}
	}
	st := info.State
	s.DockerState = st.Status
	s.State = stateOf(st.Status)
	s.StartedAt = parseTime(st.StartedAt)
	s.FinishedAt = parseTime(st.FinishedAt)
	s.ExitCode = st.ExitCode
	s.OOMKilled = st.OOMKilled
	s.Error = st.Error
	if info.Config != nil {
		s.Image = info.Config.Image
		s.Mode = ModeJupyterHub
		if info.Config.Labels[engine.LabelMode] == string(ModeServer) {
			s.Mode = ModeServer
			s.JupyterToken, _ = envValue(info.Config.Env, "JUPYTER_TOKEN")
		} else {
			s.APIToken, _ = envValue(info.Config.Env, "JUPYTERHUB_API_TOKEN")
		}
	}
	if s.State == StateRunning {
		s.Target, _ = targetOf(info, netName)
	}
	return s
}

func stateOf(dockerState string) State {
	switch dockerState {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return StateRunning
	case container.StateCreated, container.StateExited:
		return StateStopped
	case container.StateDead, container.StateRemoving:
		return StateBroken
	}
	return StateBroken
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// Status reports the user's server as the engine sees it now.
func (d *Docker) Status(ctx context.Context, user string) (Server, error) {
	s, err := d.status(ctx, user)
	if err != nil {
		return s, fmt.Errorf("status %s: %w", user, err)
	}
	return s, nil
}

func (d *Docker) status(ctx context.Context, user string) (Server, error) {
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return Server{}, err
	}
	if !found {
		return serverFrom(user, container.InspectResponse{}, ""), nil
	}
	return serverFrom(user, info, d.run.networkName(d.config())), nil
}

// Logs returns the last tail lines (all when tail <= 0) the user's server
// wrote to stdout and stderr.
func (d *Docker) Logs(ctx context.Context, user string, tail int) (string, error) {
	info, found, err := d.inspectOwned(ctx, user)
	if err != nil {
		return "", fmt.Errorf("logs %s: %w", user, err)
	}
	if !found {
		return "", fmt.Errorf("logs %s: %s has no server container", user, user)
	}
	out, err := d.logs(ctx, info.ID, tail)
	if err != nil {
		return "", fmt.Errorf("logs %s: %w", user, err)
	}
	return out, nil
}

func (d *Docker) logs(ctx context.Context, id string, tail int) (string, error) {
	t := "all"
	if tail > 0 {
		t = strconv.Itoa(tail)
	}
	rc, err := d.run.logs(ctx, id, t)
	if err != nil {
		return "", engine.Explain(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	// Servers never get a TTY, so the stream is multiplexed.
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return buf.String(), err
	}
	return buf.String(), nil
}

// lastLines is the end of a container's log on one line, for errors. It
// reads for up to 5 s even when ctx is over: a start that timed out is
// just when the log says why.
func (d *Docker) lastLines(ctx context.Context, id string, n int) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	out, err := d.logs(ctx, id, n)
	if err != nil || strings.TrimSpace(out) == "" {
		return "(no output)"
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		// Python underlines the failing expression with ^ and ~.
		if l = strings.TrimSpace(l); strings.Trim(l, "^~ ") != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
