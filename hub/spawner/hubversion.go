package spawner

import (
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/classhub/classhub/hub/engine"
)

// jupyterhub-singleuser compares the hub's version (X-JupyterHub-Version of
// GET /hub/api) with its own when it starts, and warns that logins may fail
// when they differ: 3.0 on any major.minor difference, 5.x on a major one.
// Servers of different images run on one hub, so the hub answers each with
// the version of the jupyterhub package in that server's image, which
// classhub's images carry as a label (engine.LabelJupyterHub) and other
// images tell when asked (mode.go).

// noteVersion records, for the server about to start in info, the
// jupyterhub version its image says it holds, by the address it calls the
// hub from. An address Docker gives to a later container is noted again
// when that container starts.
func (d *Docker) noteVersion(info container.InspectResponse, netName string) {
	if info.Config == nil || info.NetworkSettings == nil || info.NetworkSettings.Networks[netName] == nil {
		return
	}
	ip, err := netip.ParseAddr(info.NetworkSettings.Networks[netName].IPAddress)
	if err != nil {
		return
	}
	d.versionMu.Lock()
	defer d.versionMu.Unlock()
	v := info.Config.Labels[engine.LabelJupyterHub]
	if v == "" && info.ContainerJSONBase != nil {
		v = d.detectedHubVersion(info.Image)
	}
	if v != "" {
		d.versions[ip] = v
	} else {
		delete(d.versions, ip)
	}
}

// detectedHubVersion is the jupyterhub-singleuser version found in the
// image imageID, "" when none was.
func (d *Docker) detectedHubVersion(imageID string) string {
	d.modesMu.Lock()
	defer d.modesMu.Unlock()
	for key, m := range d.modes {
		if id, _, _ := strings.Cut(key, "\x00"); id == imageID && m.mode == ModeJupyterHub && m.version != "" {
			return m.version
		}
	}
	return ""
}

// JupyterHubVersion returns the jupyterhub version in the image of the
// server calling from ip, or "" when its image does not say.
func (d *Docker) JupyterHubVersion(ip netip.Addr) string {
	d.versionMu.Lock()
	defer d.versionMu.Unlock()
	return d.versions[ip.Unmap()]
}
