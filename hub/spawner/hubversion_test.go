package spawner

import (
	"net/netip"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
)

func TestServersAreKnownByTheVersionTheirImageCarries(t *testing.T) {
	d := New(aliveEngine{}, Options{Config: config.Default()})
	started := func(ip, version string) container.InspectResponse {
		labels := map[string]string{}
		if version != "" {
			labels[engine.LabelJupyterHub] = version
		}
		return container.InspectResponse{
			Config:          &container.Config{Labels: labels},
			NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{"classhub": {IPAddress: ip}}},
		}
	}
	lab, classic := netip.MustParseAddr("172.19.0.2"), netip.MustParseAddr("172.19.0.3")
	d.noteVersion(started("172.19.0.2", "5.2.1"), "classhub")
	d.noteVersion(started("172.19.0.3", "3.0.0"), "classhub")
	if got := d.JupyterHubVersion(lab); got != "5.2.1" {
		t.Errorf("lab server: %q", got)
	}
	if got := d.JupyterHubVersion(netip.AddrFrom16(classic.As16())); got != "3.0.0" {
		t.Errorf("classic server, as an IPv4-mapped address: %q", got)
	}
	// The address goes to a container of an image that does not say.
	d.noteVersion(started("172.19.0.2", ""), "classhub")
	if got := d.JupyterHubVersion(lab); got != "" {
		t.Errorf("an address reused by an unlabelled image still answers %q", got)
	}
	if got := d.JupyterHubVersion(netip.MustParseAddr("172.19.0.9")); got != "" {
		t.Errorf("an unknown address answers %q", got)
	}
}
