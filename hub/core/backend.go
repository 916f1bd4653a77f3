package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

// BackendProblem is what keeps the engine from running servers the way
// the settings say, and what to do about it. `classhub doctor`, the
// dashboard and a start's progress say these same sentences.
type BackendProblem struct {
	// Check names what is wrong: "swarm", "swarm manager" or
	// "volume driver".
	Check  string
	Detail string
	Advice string
}

func (p BackendProblem) Error() string { return p.Detail + ": " + p.Advice }

// BackendProblems checks the engine against cfg: with backend = "swarm"
// the engine must be a manager of an active swarm, since only a manager
// creates services; volume_driver must be a driver the engine has (on its
// own node: the engine does not say what other nodes have). Nil when
// nothing is wrong.
func BackendProblems(cfg config.Config, eng spawner.EngineInfo) []BackendProblem {
	var ps []BackendProblem
	if cfg.Backend == config.BackendSwarm {
		if p, ok := swarmProblem(eng); ok {
			ps = append(ps, p)
		}
	}
	if d := cfg.VolumeDriver; d != "" && !hasDriver(eng.VolumeDrivers, d) {
		have := "only the local driver"
		if len(eng.VolumeDrivers) > 0 && !slices.Equal(eng.VolumeDrivers, []string{"local"}) {
			have = "these volume drivers: " + strings.Join(eng.VolumeDrivers, ", ")
		}
		ps = append(ps, BackendProblem{Check: "volume driver",
			Detail: fmt.Sprintf("volume_driver = %q is not installed in this engine, which has %s", d, have),
			Advice: fmt.Sprintf("install and enable the plugin on every node (`docker plugin install %s`, with the options its documentation gives), or remove volume_driver from the settings to keep each student's volume on one node", d)})
	}
	return ps
}

func swarmProblem(eng spawner.EngineInfo) (BackendProblem, bool) {
	const none = `or set backend = "container" to run every server on this machine`
	p := BackendProblem{Check: "swarm"}
	switch eng.SwarmState {
	case "active":
		if eng.Manager {
			return p, false
		}
		p.Check = "swarm manager"
		p.Detail = `backend = "swarm", but this engine is a worker node of its swarm, and only a manager may create services`
		p.Advice = "run classhub on a manager node (`docker node ls` there lists the nodes), or make this one a manager by running `docker node promote " +
			"THIS-NODE` on a manager, " + none
	case "", "inactive":
		p.Detail = `backend = "swarm", but this engine is in no swarm`
		p.Advice = "make this machine a swarm's first manager with `docker swarm init` (it prints the `docker swarm join` command that adds other machines), " + none
	case "pending":
		p.Detail = `backend = "swarm", but this engine is still joining its swarm`
		p.Advice = "wait until `docker info` says \"Swarm: active\", and if it stays pending check that the managers are reachable, " + none
	case "locked":
		p.Detail = `backend = "swarm", but this engine's swarm is locked`
		p.Advice = "unlock it with `docker swarm unlock` and the key given when autolock was turned on, " + none
	default:
		p.Detail = fmt.Sprintf(`backend = "swarm", but this engine's swarm is in state %q`, eng.SwarmState)
		if eng.SwarmError != "" {
			p.Detail += ": " + eng.SwarmError
		}
		p.Advice = "see `docker info`; leave the swarm (`docker swarm leave`) and join or init it again, " + none
	}
	return p, true
}

// OverlayWeakness says, with backend = "swarm", that the engine is one
// that takes unencrypted packets on an encrypted overlay (CVE-2023-28840
// to 28842, fixed in Docker 20.10.24 and 23.0.3): a student's laptop on
// the class network could then send packets into a server's overlay, or
// the hub's seats, as if from another node. Servers still start: it is a
// weakness for the doctor and the dashboard to name, not a failure.
func OverlayWeakness(cfg config.Config, eng spawner.EngineInfo) (BackendProblem, bool) {
	if cfg.Backend != config.BackendSwarm || !takesPlainVXLAN(eng.Version) {
		return BackendProblem{}, false
	}
	return BackendProblem{Check: "overlay",
		Detail: fmt.Sprintf("Docker %s takes unencrypted packets on the servers' encrypted overlays (fixed in 20.10.24 and 23.0.3), so a machine on the network could send packets into them", eng.Version),
		Advice: "upgrade Docker on every node of the swarm, or block UDP port 4789 from outside the swarm's nodes at their firewalls"}, true
}

// takesPlainVXLAN reports whether Docker version, as the engine reports
// it ("20.10.24+dfsg1", "23.0.1"), is older than the fix; one it cannot
// read is taken as new.
func takesPlainVXLAN(version string) bool {
	var major, minor, patch int
	if n, _ := fmt.Sscanf(version, "%d.%d.%d", &major, &minor, &patch); n < 3 {
		return false
	}
	switch {
	case major < 20, major == 20 && minor < 10:
		return true
	case major == 20:
		return patch < 24
	case major == 23 && minor == 0:
		return patch < 3
	}
	return false
}

// hasDriver reports whether drivers holds name; a plugin is listed with
// its tag, which settings may leave out.
func hasDriver(drivers []string, name string) bool {
	return slices.Contains(drivers, name) || (!strings.Contains(name, ":") && slices.Contains(drivers, name+":latest"))
}

// EngineReporter reports the engine's facts; the Docker spawner is one.
type EngineReporter interface {
	Engine(ctx context.Context) (spawner.EngineInfo, error)
}

// explainStart gives a failed start the sentence of the backend problem
// behind it, when the settings need a swarm or a volume driver and the
// engine, asked now, lacks it: the engine's own error ("This node is not
// a swarm manager") says nothing of what to do. Other failures pass as
// they are; the engine is asked only after a start failed.
func (h *Lifecycle) explainStart(ctx context.Context, err error) error {
	cfg := h.Config()
	reporter, ok := h.spawner.(EngineReporter)
	if err == nil || ctx.Err() != nil || !ok || (cfg.Backend != config.BackendSwarm && cfg.VolumeDriver == "") {
		return err
	}
	eng, ierr := reporter.Engine(ctx)
	if ierr != nil {
		return err
	}
	if ps := BackendProblems(cfg, eng); len(ps) > 0 {
		return fmt.Errorf("%w (%w)", ps[0], err)
	}
	return err
}
