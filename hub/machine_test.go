package hub

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/store"
	"github.com/classhub/classhub/internal/testenv"
)

// TestMachineCapacityReadsWhatTheHubRecorded: `classhub doctor` sizes the
// engine and takes the idle cost a hub recorded in the data dir; with no
// state it takes the profile's default and makes no state of its own.
func TestMachineCapacityReadsWhatTheHubRecorded(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.NotebookImage)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.Image = testenv.NotebookImage
	dir := t.TempDir()

	c, err := MachineCapacity(ctx, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cost.Source != core.CostDefault || c.Machine.Memory == 0 || c.Machine.CPUs == 0 || c.Students == 0 {
		t.Errorf("with nothing recorded: %+v", c)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); !os.IsNotExist(err) {
		t.Errorf("doctor made a state file: %v", err)
	}

	img, err := cli.ImageInspect(ctx, cfg.Image)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	// Larger than any server of the image the engine may run now, so the
	// class's own figure cannot take over.
	if _, err := st.RecordImageCost(ctx, store.ImageCost{ImageID: img.ID, Image: cfg.Image, Memory: 900 << 20, CPU: 0.1, Measured: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	c, err = MachineCapacity(ctx, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cost.Source != core.CostRecorded || c.Cost.Idle != 900<<20 || !strings.Contains(c.Detail(), "used 900 MiB on this laptop") {
		t.Errorf("with an idle cost recorded: %+v\n%s", c, c.Detail())
	}
}

// TestMachineCapacityOverTheSwarm: with backend = "swarm", `classhub
// doctor` sizes the swarm's nodes, this engine's among them; with the
// container backend on the same engine, this machine alone.
func TestMachineCapacityOverTheSwarm(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.Swarm(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	c, err := MachineCapacity(ctx, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes != nil || !strings.HasPrefix(c.Sentence(), "This laptop holds") {
		t.Errorf("the container backend counts nodes: %s", c.Sentence())
	}
	cfg.Backend = config.BackendSwarm
	if c, err = MachineCapacity(ctx, cfg, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	self := -1
	for i, n := range c.Nodes {
		if n.Self {
			self = i
		}
	}
	if self < 0 || c.Nodes[self].ID != info.Swarm.NodeID || !strings.HasPrefix(c.Sentence(), "The swarm's") {
		t.Fatalf("the swarm's capacity %s lacks this engine's node %s: %+v", c.Sentence(), info.Swarm.NodeID, c.Nodes)
	}
	if line := c.NodeLines(nil)[self]; !strings.HasPrefix(line, info.Name+" (manager") || !strings.Contains(line, "free") {
		t.Errorf("node line %q", line)
	}
}
