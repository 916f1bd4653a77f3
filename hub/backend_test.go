package hub

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/internal/testenv"
)

// TestOpenRefusesAVolumeDriverTheEngineLacks: a hub whose volume_driver
// the engine does not have refuses to open with what to do, before it
// makes its network or listens anywhere.
func TestOpenRefusesAVolumeDriverTheEngineLacks(t *testing.T) {
	cli := testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.Mode = config.ModePersonal
	cfg.VolumeDriver = "classhub-test/no-such-driver"
	cfg.Network = "classhub-test-driver-" + strings.ReplaceAll(t.Name(), "/", "-")
	cfg.HubPort = 0
	cfg.Listen = "127.0.0.1:0"
	h, err := Open(ctx, Options{DataDir: t.TempDir(), Config: cfg})
	if err == nil {
		h.Close()
		t.Fatal("the hub opened with a volume driver the engine lacks")
	}
	var p core.BackendProblem
	if !errors.As(err, &p) || p.Check != "volume driver" || !strings.Contains(err.Error(), "docker plugin install classhub-test/no-such-driver") {
		t.Fatalf("Open = %v, want the volume driver's problem with what to do", err)
	}
	if _, err := cli.NetworkInspect(ctx, cfg.Network, network.InspectOptions{}); err == nil {
		cli.NetworkRemove(ctx, cfg.Network)
		t.Error("the refused hub made its network")
	}
}
