package spawner

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"
)

func TestHubAddress(t *testing.T) {
	gw := net.ParseIP("172.18.0.1")
	local := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("192.168.1.20"), gw}
	tests := []struct {
		name     string
		desktop  bool
		gw       net.IP
		local    []net.IP
		host     string
		bind     string
		routable bool
	}{
		{"linux engine", false, gw, local, "172.18.0.1", "172.18.0.1", true},
		{"docker desktop", true, gw, local, "host.docker.internal", "127.0.0.1", false},
		{"engine in a VM", false, gw, local[:2], "host.docker.internal", "127.0.0.1", false},
		{"no gateway", false, nil, local, "host.docker.internal", "127.0.0.1", false},
	}
	for _, tt := range tests {
		host, bind, routable := hubAddress(tt.desktop, tt.gw, tt.local)
		if host != tt.host || bind != tt.bind || routable != tt.routable {
			t.Errorf("%s: got %s, %s, %v", tt.name, host, bind, routable)
		}
	}
	if !isDesktop("Docker Desktop") || isDesktop("Debian GNU/Linux 12 (bookworm)") {
		t.Error("isDesktop")
	}
}

func TestLANAddressFor(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	addrs := []net.Addr{cidr("127.0.0.1/8"), cidr("172.17.0.1/16"), cidr("192.168.1.20/24"), cidr("fe80::1/64")}
	got, err := lanAddressFor(net.ParseIP("192.168.1.1"), addrs)
	if err != nil || !got.Equal(net.ParseIP("192.168.1.20")) {
		t.Errorf("lanAddressFor = %v, %v", got, err)
	}
	if _, err := lanAddressFor(net.ParseIP("10.0.0.1"), addrs); err == nil {
		t.Error("a gateway on no local subnet gave an address")
	}
	if _, err := lanAddressFor(net.IPv4zero, addrs); err == nil || !strings.Contains(err.Error(), "no default route") {
		t.Errorf("no default route: %v", err)
	}
}

// TestLANAddress reads this machine's routing table: the answer must be an
// address of one of its interfaces, not loopback.
func TestLANAddress(t *testing.T) {
	ip, err := LANAddress()
	if err != nil {
		t.Fatal(err)
	}
	local, err := localIPs()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range local {
		found = found || l.Equal(ip)
	}
	if !found || ip.IsLoopback() {
		t.Errorf("LANAddress = %v, not a non-loopback address of this machine (%v)", ip, local)
	}
}

func TestEnsureNetwork(t *testing.T) {
	e := newTestEnv(t)
	n := e.net
	if n.Name != e.cfg.Network || n.ID == "" || n.Subnet == "" {
		t.Fatalf("network = %+v", n)
	}
	_, subnet, err := net.ParseCIDR(n.Subnet)
	if err != nil || !subnet.Contains(net.ParseIP(n.Gateway)) {
		t.Errorf("gateway %s is not in subnet %s", n.Gateway, n.Subnet)
	}
	// This engine runs on this machine: the bridge's gateway is ours, so
	// the hub binds it and reaches containers directly.
	if !n.ContainerIPsRoutable || n.BindAddr != n.Gateway || n.HubHost != n.Gateway || n.Desktop {
		t.Errorf("address decision = %+v", n)
	}
	// A second spawner (a restarted hub) finds the same network.
	again, err := New(e.cli, Options{Config: e.cfg}).EnsureNetwork(e.ctx)
	if err != nil || again.ID != n.ID {
		t.Errorf("second EnsureNetwork = %+v, %v", again, err)
	}
}

func TestEnsureNetworkRefusesForeign(t *testing.T) {
	e := newTestEnv(t)
	name := "classhub-test-foreign-" + e.id
	resp, err := e.cli.NetworkCreate(e.ctx, name, network.CreateOptions{Driver: "bridge"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cli.NetworkRemove(e.ctx, resp.ID) })
	cfg := e.cfg
	cfg.Network = name
	_, err = New(e.cli, Options{Config: cfg}).EnsureNetwork(e.ctx)
	if !errors.Is(err, ErrNotManaged) || !strings.Contains(err.Error(), "classhub did not create it") {
		t.Errorf("EnsureNetwork on a foreign network = %v", err)
	}
}

// TestICC: one user's server cannot open a TCP connection to another's
// port 8888, while the host (the hub) can, and both reach the hub.
func TestICC(t *testing.T) {
	e := newTestEnv(t)
	a := e.start(e.user("ann"), "tok-a")
	b := e.start(e.user("ben"), "tok-b")
	bIP := e.inspect(b.ID).NetworkSettings.Networks[e.cfg.Network].IPAddress
	if bIP == "" {
		t.Fatal("ben's server has no IP")
	}
	connect := func(host string, port int) []string {
		return []string{"python3", "-c", "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)", host, strconv.Itoa(port)}
	}
	// Control: networking inside ann's container works.
	if out, code := execIn(t, e.cli, a.ID, connect(e.net.HubHost, e.hub.port)...); code != 0 {
		t.Fatalf("ann's server cannot reach the hub: %s", out)
	}
	if out, code := execIn(t, e.cli, a.ID, connect(bIP, ServerPort)...); code == 0 {
		t.Errorf("ann's server opened a connection to ben's port %d: %s", ServerPort, out)
	}
	if code := httpStatus(t, b.Target+b.Prefix+"api"); code != 200 {
		t.Errorf("the host got %d from ben's server", code)
	}
}

// TestPublishedWhenNotRoutable takes the Docker Desktop path on this
// engine: the server's port is published on loopback only, the hub reaches
// it there, and the container knows host.docker.internal.
func TestPublishedWhenNotRoutable(t *testing.T) {
	e := newTestEnv(t)
	vm := e.net
	vm.ContainerIPsRoutable = false // HubHost stays the gateway, where the stand-in hub listens
	e.d.net = &vm
	user := e.user("desk")
	s := e.start(user, "tok")
	if !strings.HasPrefix(s.Target, "http://127.0.0.1:") {
		t.Fatalf("target %s is not on loopback", s.Target)
	}
	if code := httpStatus(t, s.Target+s.Prefix+"api"); code != 200 {
		t.Errorf("published server answers %d", code)
	}
	info := e.inspect(s.ID)
	for port, bs := range info.NetworkSettings.Ports {
		for _, b := range bs {
			if b.HostIP != "127.0.0.1" {
				t.Errorf("%s published on %q, not loopback", port, b.HostIP)
			}
		}
	}
	if len(info.HostConfig.ExtraHosts) != 1 || info.HostConfig.ExtraHosts[0] != "host.docker.internal:host-gateway" {
		t.Errorf("ExtraHosts = %v", info.HostConfig.ExtraHosts)
	}
	if out, code := execIn(t, e.cli, s.ID, "getent", "hosts", "host.docker.internal"); code != 0 {
		t.Errorf("host.docker.internal does not resolve in the server: %s", out)
	}
	// Adopted after a restart, it is still reached through the published port.
	d2 := New(e.cli, Options{Config: e.cfg})
	list, err := d2.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range list { // others' servers may run on this engine too
		if l.User == user {
			found = true
			if l.Target != s.Target {
				t.Errorf("adopted target %s, want %s", l.Target, s.Target)
			}
		}
	}
	if !found {
		t.Errorf("List lacks %s: %+v", user, list)
	}
}
