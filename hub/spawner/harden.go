package spawner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/classhub/classhub/hub/config"
	"github.com/docker/docker/api/types/container"
)

// noNewPrivileges keeps setuid binaries (su, sudo, ping) and file
// capabilities from raising a server's processes above jovyan.
const noNewPrivileges = "no-new-privileges"

// harden confines a server's container: the image runs the singleuser as
// jovyan from the first process on (tini as PID 1, USER jovyan), so it
// needs no capability at all, and nothing in it may gain one; the pids
// limit stops a fork bomb at its own container.
func harden(hc *container.HostConfig, cfg config.Config) {
	hc.CapDrop = []string{"ALL"}
	hc.SecurityOpt = []string{noNewPrivileges}
	if cfg.PidsLimit > 0 {
		n := cfg.PidsLimit
		hc.PidsLimit = &n
	}
}

// Weakness is one way a server's container is less confined than classhub
// makes them.
type Weakness struct {
	// What is weak, for people: "no process limit".
	What string
	// Advice says what to do about it.
	Advice string
}

// Weaknesses says how the HostConfig of a server's container falls short
// of what harden sets and of having memory and CPU limits. A container
// made by an older classhub, or with limits turned off, has some.
func Weaknesses(hc *container.HostConfig) []Weakness {
	if hc == nil {
		return []Weakness{{What: "its settings are unknown", Advice: "stop and start the server so classhub recreates it"}}
	}
	const recreate = "stop the server and start it again: classhub recreates its container with the current settings"
	var w []Weakness
	if hc.PidsLimit == nil || *hc.PidsLimit <= 0 {
		w = append(w, Weakness{What: "no process limit", Advice: fmt.Sprintf("set pids_limit (e.g. %d) in the config, then %s", config.DefaultPidsLimit, recreate)})
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(o string) bool {
		return o == noNewPrivileges || o == noNewPrivileges+":true" || o == noNewPrivileges+"=true"
	}) {
		w = append(w, Weakness{What: "no-new-privileges off, so setuid programs work", Advice: recreate})
	}
	if !slices.ContainsFunc(hc.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) || len(hc.CapAdd) > 0 {
		w = append(w, Weakness{What: "Linux capabilities kept", Advice: recreate})
	}
	if hc.Privileged {
		w = append(w, Weakness{What: "it runs privileged", Advice: "remove it (`docker rm -f`): classhub never makes privileged containers"})
	}
	if hc.Memory <= 0 {
		w = append(w, Weakness{What: "no memory limit", Advice: "set memory_limit (e.g. \"2G\") in the config, then " + recreate})
	}
	if hc.NanoCPUs <= 0 && hc.CPUQuota <= 0 {
		w = append(w, Weakness{What: "no CPU limit", Advice: "set cpu_limit (e.g. 1) in the config, then " + recreate})
	}
	return w
}
