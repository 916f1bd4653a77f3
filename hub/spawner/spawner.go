// Package spawner runs each classhub user's single-user Jupyter server in a
// Docker container: one default server per user, its files in a named
// volume, on a dedicated bridge network where servers cannot reach each
// other but can reach the hub.
//
// With the swarm backend (backend.go, service.go) each server is instead a
// Swarm service of one replica on an attachable overlay network; the rest
// of the package sees a service as the container its task runs, so both
// backends share one reconcile, fingerprint, adoption and Watch.
//
// Operations on one user are serialized; different users proceed in
// parallel through a bounded pool, and a class arriving at once queues
// visibly (SpawnProgress events say "queued, N ahead") instead of failing.
// A start reports its steps to whoever asked for it (StartRequest.Progress),
// and Watch its findings to the hub (the report func it is given); the
// spawner publishes on the hub's event bus only what is news to everyone:
// notices, image pulls, and the state changes of the stops it is asked for.
package spawner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
)

// Spawner is what the hub needs from a server runtime.
type Spawner interface {
	// Start makes the user's server run with the current settings and
	// returns it once it answers HTTP.
	Start(ctx context.Context, req StartRequest) (Server, error)
	// Stop stops the user's server and keeps its container.
	Stop(ctx context.Context, user string) error
	// Delete removes the user's container and keeps the user's files.
	Delete(ctx context.Context, user string) error
	// DeleteData removes the account's files for good; it refuses while
	// the user's container exists.
	DeleteData(ctx context.Context, user string, acct Account) error
	// Volumes lists every work volume, kept ones of deleted accounts too.
	Volumes(ctx context.Context) ([]Volume, error)
	// DeleteVolume removes a work volume by name; it refuses while a
	// container uses it.
	DeleteVolume(ctx context.Context, name string) error
	// RestoreVolume moves the files of a work volume into an account that
	// has none.
	RestoreVolume(ctx context.Context, name, user string, acct Account) error
	// Status reports the user's server as the engine sees it now.
	Status(ctx context.Context, user string) (Server, error)
	// Logs returns the last tail lines the user's server printed.
	Logs(ctx context.Context, user string, tail int) (string, error)
	// Stats samples the running server's memory and CPU use.
	Stats(ctx context.Context, user string) (Stats, error)
	// List reports every server container classhub made.
	List(ctx context.Context) ([]Server, error)
	// Adopt is List for a hub that just started: it also remembers what
	// it found, so later changes made behind the hub's back are reported.
	Adopt(ctx context.Context) ([]Server, error)
	// Watch reports containers that stop or vanish behind the hub's back
	// through report until ctx ends.
	Watch(ctx context.Context, report func(events.Event)) error
	// Prepull makes sure the configured image is in the engine.
	Prepull(ctx context.Context) error
	// SetImage makes the starts from now on run ref; each server moves to
	// it at its next start.
	SetImage(ref string)
	// HasImage reports whether the engine holds ref.
	HasImage(ctx context.Context, ref string) (bool, error)
	// LocalImages lists the engine's images that carry a notebook server.
	LocalImages(ctx context.Context) ([]image.Local, error)
	// ServerActivity is the last activity a running ModeServer server
	// reports itself; the zero time for one that reports to the hub.
	ServerActivity(ctx context.Context, user string) (time.Time, error)
}

// StartRequest is what the hub knows when a user's server should start.
type StartRequest struct {
	// User is the hub's username, unescaped.
	User string
	// Account is the account the user's files belong to.
	Account Account
	// APIToken is the server's hub API token, also its OAuth client
	// secret. A stopped container made with another token is recreated.
	APIToken string
	// HubPort is the port of the hub's internal listener, bound on
	// Network.BindAddr; servers reach it at Network.HubHost:HubPort.
	HubPort int
	// Progress, if not nil, receives this start's events: its steps
	// (SpawnProgress), the bytes of an image pull it waits for
	// (ImageProgress) and its state changes (ServerState). They belong to
	// this start alone, so a start that was cancelled can never speak for
	// the next one. It is called from the start's goroutines and the
	// pull's, and must not block.
	Progress func(events.Event)

	// volume is the work volume volumeFor chose for this start.
	volume string
}

func (r StartRequest) validate() error {
	switch {
	case r.User == "":
		return errors.New("start: the username is empty")
	case r.APIToken == "":
		return fmt.Errorf("start %s: the server's API token is empty", r.User)
	case r.HubPort <= 0 || r.HubPort > 65535:
		return fmt.Errorf("start %s: hub port %d is not a port: bind the hub's internal listener first", r.User, r.HubPort)
	}
	return nil
}

// State is where a user's server is in its life.
type State string

// States. Status reports Missing, Stopped, Running and Broken; events also
// carry the transitions Starting, Stopping and Failed.
const (
	// StateMissing: the user has no container (their files may exist).
	StateMissing State = "missing"
	// StateStopped: the container exists and is not running.
	StateStopped State = "stopped"
	// StateStarting: a start is under way.
	StateStarting State = "starting"
	// StateRunning: the container runs.
	StateRunning State = "running"
	// StateStopping: a stop is under way.
	StateStopping State = "stopping"
	// StateBroken: the container is dead or being removed; the next Start
	// replaces it.
	StateBroken State = "broken"
	// StateFailed: the last start did not succeed.
	StateFailed State = "failed"
)

// Server describes one user's server.
type Server struct {
	User  string `json:"user"`
	State State  `json:"state"`
	// DockerState is the engine's word for the container's state.
	DockerState string `json:"docker_state,omitempty"`
	// Container and Volume are the names classhub uses for this user;
	// Volume is the one the container mounts, or the name the user alone
	// gives when there is no container.
	Container string `json:"container"`
	Volume    string `json:"volume"`
	// ID is the container's ID, empty when missing.
	ID string `json:"id,omitempty"`
	// Target is where the hub reaches the server (scheme://host:port, no
	// path) while it runs.
	Target string `json:"target,omitempty"`
	// Prefix is the server's URL prefix, /user/<escaped name>/.
	Prefix string `json:"prefix"`
	Image  string `json:"image,omitempty"`
	// StartedAt and FinishedAt are zero when unknown.
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	ExitCode   int       `json:"exit_code,omitempty"`
	OOMKilled  bool      `json:"oom_killed,omitempty"`
	// Error is the engine's last error for the container, if any.
	Error string `json:"error,omitempty"`
	// APIToken is the token the container was made with, so a restarted
	// hub can recognise its running servers; "" for a ModeServer server,
	// which holds no hub token. Never serialized.
	APIToken string `json:"-"`
	// Mode is how the server runs: ModeServer servers need the proxy to
	// log their visitors in and to add JupyterToken on the way.
	Mode Mode `json:"mode,omitempty"`
	// JupyterToken is a ModeServer server's own token, which only the
	// proxy sends it. Never serialized.
	JupyterToken string `json:"-"`
}

// Stats is one sample of a running server's resource use.
type Stats struct {
	// MemoryBytes is memory in use, page cache excluded as `docker stats`
	// does.
	MemoryBytes uint64 `json:"memory_bytes"`
	// MemoryLimit is the container's memory cap (the host's memory when
	// unlimited).
	MemoryLimit uint64 `json:"memory_limit"`
	// CPUPercent is 100 per fully used CPU.
	CPUPercent float64 `json:"cpu_percent"`
	PIDs       uint64  `json:"pids"`
	// ImageID is the ID of the image the server runs, Image the
	// reference it was started from.
	ImageID string `json:"-"`
	Image   string `json:"-"`
}

// ErrImageUnavailable is matched (errors.Is) by errors saying the
// configured image is neither in the engine nor pullable.
var ErrImageUnavailable = errors.New("image unavailable")

// ErrNotManaged is matched by errors about a container, volume or network
// that has classhub's name but not its label; classhub leaves such objects
// alone.
var ErrNotManaged = errors.New("not created by classhub")

// ErrInUse is matched by refusals to delete or replace files while a
// server container uses them.
var ErrInUse = errors.New("in use by a server")

// ErrNotRunning is matched by errors from operations that need a running
// server.
var ErrNotRunning = errors.New("server not running")
