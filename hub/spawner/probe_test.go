package spawner

import (
	"net"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

func TestProbeHubAddress(t *testing.T) {
	e := newTestEnv(t)
	if err := e.d.ProbeHubAddress(e.ctx, e.hub.addr); err != nil {
		t.Fatalf("probe to the stand-in hub: %v", err)
	}
	// A port nobody listens on must fail, saying what to check.
	ln, err := net.Listen("tcp", net.JoinHostPort(e.net.BindAddr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	err = e.d.ProbeHubAddress(e.ctx, closed)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the hub") || !strings.Contains(err.Error(), "firewall") {
		t.Errorf("probe to a closed port = %v", err)
	}
	if err := e.d.ProbeHubAddress(e.ctx, "no-port"); err == nil {
		t.Error("a malformed address was accepted")
	}
	// Probe containers do not outlive the probe.
	cs, err := e.cli.ContainerList(e.ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", engine.LabelRole+"="+RoleProbe), filters.Arg("network", e.cfg.Network))})
	if err != nil || len(cs) != 0 {
		t.Errorf("probe containers left: %d, %v", len(cs), err)
	}
}

func TestEngine(t *testing.T) {
	d := New(connect(t), Options{})
	info, err := d.Engine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version == "" || info.APIVersion == "" || info.OperatingSystem == "" {
		t.Errorf("Engine = %+v", info)
	}
	if info.Desktop != isDesktop(info.OperatingSystem) {
		t.Error("Desktop disagrees with the operating system")
	}
}
