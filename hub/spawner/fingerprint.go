package spawner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// fingerprintVersion changes when what a fingerprint covers changes, so
// containers from an older classhub are recreated once.
const fingerprintVersion = 2

// fingerprint hashes what defines a container: the image's ID (not its
// tag, so a rebuilt image counts), the environment with secret values
// removed, mounts, limits, confinement, network, ports, hosts and command. It is
// computed from the very structs sent to ContainerCreate so nothing
// classhub sets can escape it. Secrets are left out because the API token
// changes independently of the settings and is compared on its own.
func fingerprint(cfg *container.Config, hc *container.HostConfig, imageID string) string {
	env := make([]string, 0, len(cfg.Env))
	for _, kv := range cfg.Env {
		k, _, _ := strings.Cut(kv, "=")
		if secretEnv[k] {
			kv = k + "=<secret>"
		}
		env = append(env, kv)
	}
	sort.Strings(env)
	mounts := make([]string, 0, len(hc.Mounts))
	for _, m := range hc.Mounts {
		s := string(m.Type) + ":" + m.Source + ":" + m.Target + ":" + boolWord(m.ReadOnly)
		if m.BindOptions != nil {
			// Only binds (the materials) have these, so volumes' stay
			// as older classhubs wrote them.
			s += ":" + string(m.BindOptions.Propagation)
		}
		mounts = append(mounts, s)
	}
	sort.Strings(mounts)
	var ports []string
	for p, bs := range hc.PortBindings {
		for _, b := range bs {
			ports = append(ports, string(p)+"@"+b.HostIP)
		}
	}
	sort.Strings(ports)
	hosts := append([]string(nil), hc.ExtraHosts...)
	sort.Strings(hosts)
	doc := struct {
		V          int
		ImageID    string
		Env        []string
		Mounts     []string
		Memory     int64
		MemorySwap int64
		NanoCPUs   int64
		PidsLimit  int64
		CapAdd     []string
		CapDrop    []string
		Security   []string
		Network    string
		Ports      []string
		ExtraHosts []string
		Cmd        []string
		Entrypoint []string
		User       string
		Hostname   string
		Log        container.LogConfig
	}{
		fingerprintVersion, imageID, env, mounts, hc.Memory, hc.MemorySwap, hc.NanoCPUs,
		pidsOf(hc), hc.CapAdd, hc.CapDrop, hc.SecurityOpt, string(hc.NetworkMode), ports, hosts, cfg.Cmd, cfg.Entrypoint, cfg.User, cfg.Hostname, hc.LogConfig,
	}
	b, _ := json.Marshal(doc)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// pidsOf is a container's process limit, 0 for none (the engine reports
// none as nil, 0 or -1).
func pidsOf(hc *container.HostConfig) int64 {
	if hc.PidsLimit == nil || *hc.PidsLimit < 0 {
		return 0
	}
	return *hc.PidsLimit
}

// bindsOf is the host folders a container's mounts share, for comparing.
func bindsOf(ms []mount.Mount) string {
	var out []string
	for _, m := range ms {
		if m.Type == mount.TypeBind {
			out = append(out, m.Source+":"+m.Target)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func boolWord(b bool) string {
	if b {
		return "ro"
	}
	return "rw"
}

// driftReasons says, for people, what differs between an existing
// container and the one the current settings would create.
func driftReasons(old container.InspectResponse, cfg *container.Config, hc *container.HostConfig, imageID string) []string {
	var why []string
	if old.ContainerJSONBase != nil && old.Image != imageID {
		why = append(why, "the image changed")
	}
	if oh := old.HostConfig; oh != nil {
		if oh.Memory != hc.Memory {
			why = append(why, "the memory limit changed")
		} else if oh.MemorySwap > 0 && hc.MemorySwap > 0 && oh.MemorySwap != hc.MemorySwap {
			// The engine stores -1 when the kernel cannot limit swap, so
			// only two real limits are compared.
			why = append(why, "the swap limit changed")
		}
		if oh.NanoCPUs != hc.NanoCPUs {
			why = append(why, "the CPU limit changed")
		}
		if pidsOf(oh) != pidsOf(hc) {
			why = append(why, "the process limit changed")
		}
		if !slices.Equal(oh.CapDrop, hc.CapDrop) || !slices.Equal(oh.CapAdd, hc.CapAdd) || !slices.Equal(oh.SecurityOpt, hc.SecurityOpt) {
			why = append(why, "its confinement changed")
		}
		if bindsOf(oh.Mounts) != bindsOf(hc.Mounts) {
			why = append(why, "the materials folder changed")
		}
		if oh.NetworkMode != hc.NetworkMode {
			why = append(why, "the network changed")
		}
		if len(oh.PortBindings) != len(hc.PortBindings) || len(oh.ExtraHosts) != len(hc.ExtraHosts) {
			why = append(why, "the way the hub reaches servers changed")
		}
	}
	if old.Config != nil {
		oldEnv := map[string]string{}
		for _, kv := range old.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			oldEnv[k] = v
		}
		hubMoved, envChanged := false, false
		for _, kv := range cfg.Env {
			k, v, _ := strings.Cut(kv, "=")
			if secretEnv[k] {
				continue
			}
			if ov, ok := oldEnv[k]; !ok || ov != v {
				if k == "JUPYTERHUB_API_URL" || k == "JUPYTERHUB_ACTIVITY_URL" {
					hubMoved = true
				} else {
					envChanged = true
				}
			}
		}
		if hubMoved {
			why = append(why, "the hub's address changed")
		}
		if envChanged {
			why = append(why, "the environment changed")
		}
	}
	return why
}

// joinReasons writes "a", "a and b", "a, b and c".
func joinReasons(why []string) string {
	switch len(why) {
	case 0:
		return "its settings changed"
	case 1:
		return why[0]
	}
	return strings.Join(why[:len(why)-1], ", ") + " and " + why[len(why)-1]
}
