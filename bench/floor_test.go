package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/internal/testenv"
)

func TestGatewayOf(t *testing.T) {
	ins := network.Inspect{}
	ins.IPAM.Config = []network.IPAMConfig{{Subnet: "fd00::/64", Gateway: "fd00::1"}, {Subnet: "172.31.5.0/24"}}
	if gw, err := gatewayOf(ins); err != nil || gw != "172.31.5.1" {
		t.Errorf("gateway of a v4 subnet without Gateway: %q %v", gw, err)
	}
	ins.IPAM.Config = []network.IPAMConfig{{Subnet: "172.31.6.0/24", Gateway: "172.31.6.254"}}
	if gw, _ := gatewayOf(ins); gw != "172.31.6.254" {
		t.Errorf("gateway given: %q", gw)
	}
	ins.IPAM.Config = nil
	if _, err := gatewayOf(ins); err == nil {
		t.Error("a network without IPv4 has a gateway")
	}
}

// The floor: the real image, the stub hub on the bridge gateway, and the
// server answers through its prefix; removeRun leaves nothing behind.
func TestFloorServerAnswersWithStubHub(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.NotebookImage)
	ctx := context.Background()
	suffix := fmt.Sprintf("-t%06x", rand.IntN(1<<24))
	netName := "classhub-bench-test" + suffix
	_, err := cli.NetworkCreate(ctx, netName, network.CreateOptions{Driver: "bridge",
		Options: map[string]string{"com.docker.network.bridge.enable_icc": "false"},
		Labels:  map[string]string{engine.LabelManaged: "true", engine.LabelRole: RoleBench}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeRun(context.Background(), cli, suffix, netName); err != nil {
			t.Error(err)
		}
		if n, err := leftovers(context.Background(), cli, suffix, netName); err != nil || n != 0 {
			t.Errorf("after removeRun %d objects are left (%v)", n, err)
		}
	})
	ins, err := cli.NetworkInspect(ctx, netName, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gatewayOf(ins)
	if err != nil {
		t.Fatal(err)
	}
	stub, err := StartStubHub(gw)
	if err != nil {
		t.Fatal(err)
	}
	defer stub.Close()
	f := &Floor{Docker: cli, Network: netName, HubURL: stub.URL, Image: testenv.NotebookImage, Memory: 1 << 30, CPUs: 1}
	s, err := f.Start(ctx, "floor"+suffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WaitReady(ctx, s, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.IP + ":8888/user/" + s.User + "/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"version"`) {
		t.Errorf("the floor server's /api: %s %s", resp.Status, body)
	}
	if n, _ := leftovers(ctx, cli, suffix, netName); n != 3 {
		t.Errorf("the run has %d objects, want container, volume and network", n)
	}
	if err := f.Remove(ctx, s); err != nil {
		t.Error(err)
	}
}
