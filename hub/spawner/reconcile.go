package spawner

import (
	"fmt"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
)

// step is what ensureRunning does next with a user's container.
type step int

const (
	// stepCreate: there is none; create one and start it.
	stepCreate step = iota
	// stepUse: it runs; drift from the settings waits for the next stop,
	// so nobody loses a running kernel.
	stepUse
	// stepUnpause: it is paused; unpause it, then use it.
	stepUnpause
	// stepStart: it is stopped and made from the current settings and
	// token; start it.
	stepStart
	// stepReplace: it cannot serve; remove it (the volume stays) and look
	// again.
	stepReplace
	// stepWaitGone: the engine is removing it; wait, then look again.
	stepWaitGone
)

// action is reconcile's decision.
type action struct {
	step step
	// notice, if not "", tells people why: with stepReplace, each time;
	// with stepUse or stepUnpause (drift), once per container.
	notice string
}

// reconcile decides what brings the user's container, as inspected (found
// false when there is none), to the server sp describes. It only decides:
// ensureRunning acts, and asks again after anything that makes it look
// again.
func reconcile(info container.InspectResponse, found bool, sp spec) action {
	if !found {
		return action{step: stepCreate}
	}
	user := sp.user
	tokenOK := tokenMatches(info, sp)
	fpOK := info.Config.Labels[engine.LabelFingerprint] == sp.fingerprint
	drift := func() string { return joinReasons(driftReasons(info, sp.cfg, sp.host, sp.imageID)) }
	switch status := info.State.Status; status {
	case container.StateRunning, container.StatePaused:
		// A running server that cannot authenticate to the hub, or
		// reach it, is broken anyway: restart it.
		why := ""
		if !tokenOK {
			why = "it was running with credentials the hub no longer has"
		} else if old, _ := envValue(info.Config.Env, "JUPYTERHUB_API_URL"); old != sp.apiURL() {
			why = "the hub's address changed, so it could no longer reach the hub"
		}
		if why != "" {
			return action{step: stepReplace, notice: fmt.Sprintf("Restarted %s's server: %s. The files in %s are kept.", user, why, WorkDir)}
		}
		a := action{step: stepUse}
		if status == container.StatePaused {
			a.step = stepUnpause
		}
		if !fpOK {
			a.notice = fmt.Sprintf("%s's server is running with older settings (%s); they apply after it is stopped and started again.", user, drift())
		}
		return a
	case container.StateRestarting, container.StateDead:
		return action{step: stepReplace, notice: fmt.Sprintf("Replaced %s's server container, which the engine reported as %s. The files in %s are kept.", user, status, WorkDir)}
	case container.StateRemoving:
		return action{step: stepWaitGone}
	}
	// Created or exited: reuse it if it is what the settings make.
	switch {
	case !fpOK:
		return action{step: stepReplace, notice: fmt.Sprintf("Recreated %s's server because %s. The files in %s are kept.", user, drift(), WorkDir)}
	case !tokenOK:
		// Quietly: a new token per start is normal for a hub.
		return action{step: stepReplace}
	}
	return action{step: stepStart}
}
