package spawner

import (
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
)

func TestReconcile(t *testing.T) {
	const apiURL = "http://172.17.0.1:8081/hub/api"
	want := spec{user: "alice", token: "tok", fingerprint: "fp", imageID: "sha256:new",
		cfg:  &container.Config{Env: []string{"JUPYTERHUB_API_URL=" + apiURL}},
		host: &container.HostConfig{}}
	// made is alice's container as the engine reports it, made with
	// token, fingerprint fp and api.
	made := func(status, token, fp, api, image string) container.InspectResponse {
		return container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{ID: "c1", Image: image, State: &container.State{Status: status},
				HostConfig: &container.HostConfig{}},
			Config: &container.Config{Labels: map[string]string{engine.LabelFingerprint: fp},
				Env: []string{"JUPYTERHUB_API_TOKEN=" + token, "JUPYTERHUB_API_URL=" + api}},
		}
	}
	ok := func(status string) container.InspectResponse { return made(status, "tok", "fp", apiURL, "sha256:new") }
	for _, tc := range []struct {
		name   string
		info   container.InspectResponse
		found  bool
		step   step
		notice string // a part of the notice; "" for none
	}{
		{"none", container.InspectResponse{}, false, stepCreate, ""},

		{"running as wanted", ok(container.StateRunning), true, stepUse, ""},
		{"paused as wanted", ok(container.StatePaused), true, stepUnpause, ""},
		// Drift waits for the next stop: nobody loses a running kernel.
		{"running from older settings", made(container.StateRunning, "tok", "old", apiURL, "sha256:old"), true, stepUse,
			"alice's server is running with older settings (the image changed)"},
		{"paused from older settings", made(container.StatePaused, "tok", "old", apiURL, "sha256:new"), true, stepUnpause,
			"running with older settings"},
		// A server that cannot reach or authenticate to the hub is broken anyway.
		{"running with an old token", made(container.StateRunning, "old", "fp", apiURL, "sha256:new"), true, stepReplace,
			"Restarted alice's server: it was running with credentials the hub no longer has"},
		{"paused with an old token", made(container.StatePaused, "old", "fp", apiURL, "sha256:new"), true, stepReplace,
			"credentials the hub no longer has"},
		{"running for an old hub address", made(container.StateRunning, "tok", "fp", "http://10.0.0.1:8081/hub/api", "sha256:new"), true,
			stepReplace, "the hub's address changed"},
		{"running with old token and address", made(container.StateRunning, "old", "old", "http://x/", "sha256:old"), true, stepReplace,
			"credentials the hub no longer has"},

		{"restarting", ok(container.StateRestarting), true, stepReplace, "which the engine reported as restarting"},
		{"dead", ok(container.StateDead), true, stepReplace, "which the engine reported as dead"},
		{"being removed", ok(container.StateRemoving), true, stepWaitGone, ""},

		{"exited as wanted", ok(container.StateExited), true, stepStart, ""},
		{"created as wanted", ok(container.StateCreated), true, stepStart, ""},
		{"exited from older settings", made(container.StateExited, "tok", "old", apiURL, "sha256:old"), true, stepReplace,
			"Recreated alice's server because the image changed. The files in " + WorkDir + " are kept."},
		{"created from older settings", made(container.StateCreated, "old", "old", apiURL, "sha256:old"), true, stepReplace,
			"Recreated alice's server because the image changed"},
		// Quietly: a new token per start is normal for a hub.
		{"exited with an old token", made(container.StateExited, "old", "fp", apiURL, "sha256:new"), true, stepReplace, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reconcile(tc.info, tc.found, want)
			if got.step != tc.step {
				t.Errorf("step = %d, want %d", got.step, tc.step)
			}
			switch {
			case tc.notice == "" && got.notice != "":
				t.Errorf("notice %q, want none", got.notice)
			case !strings.Contains(got.notice, tc.notice):
				t.Errorf("notice %q, want one with %q", got.notice, tc.notice)
			}
		})
	}
}
