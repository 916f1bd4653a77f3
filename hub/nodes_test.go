package hub

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestNodesOfASwarm lists the nodes of a real single-node swarm (made for
// the test when the engine is in none) with a server's service running on
// it: the node is there, ready, with that server and its reservation
// among any other tests'.
func TestNodesOfASwarm(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.Swarm(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id [4]byte
	rand.Read(id[:])
	user := "t" + hex.EncodeToString(id[:]) + "-nodes"
	img := idleImage(t, cli, "classhub-test/idle:"+user)
	const reserve = 64 << 20
	d := spawner.New(cli, spawner.Options{Config: config.Default(), Version: "test"})
	// A server's service's labels, as the spawner gives them.
	labels := map[string]string{engine.LabelManaged: "true", engine.LabelRole: "server", engine.LabelUser: user, engine.LabelVersion: "test"}
	// The image's ID, so the node never asks a registry for it.
	svc, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "classhub-test-" + user, Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: img, Labels: labels},
			Resources:     &swarm.ResourceRequirements{Reservations: &swarm.Resources{MemoryBytes: reserve}},
		},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create a server's service: %v", err)
	}
	t.Cleanup(func() {
		if err := cli.ServiceRemove(context.Background(), svc.ID); err != nil {
			t.Errorf("remove the test's service: %v", err)
		}
		// Its container goes after it; the image can go once it has.
		for range 60 {
			cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
				Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+svc.ID))})
			if err != nil || len(cs) == 0 {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	var nodes []spawner.Node
	for {
		if nodes, err = d.Nodes(ctx); err != nil {
			t.Fatal(err)
		}
		// Other tests' servers may run on the engine too.
		if len(nodes) == 1 && slices.Contains(nodes[0].Servers, user) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the server's task never ran on a node: %+v", nodes)
		case <-time.After(500 * time.Millisecond):
		}
	}
	n := nodes[0]
	if n.ID != info.Swarm.NodeID || n.Hostname != info.Name || n.Role != "manager" || !n.Leader || !n.Self || !n.Usable() {
		t.Errorf("node %+v, want this engine's node %s (%s), a ready active leading manager", n, info.Swarm.NodeID, info.Name)
	}
	if n.Reserved < reserve || !slices.IsSorted(n.Servers) {
		t.Errorf("node's servers %v reserving %d, want %s's %d among them, sorted", n.Servers, n.Reserved, user, reserve)
	}
	if n.Memory == 0 || n.Memory > uint64(info.MemTotal)+1<<20 || n.CPUs != info.NCPU {
		t.Errorf("node's memory %d and CPUs %d, want the engine's %d and %d", n.Memory, n.CPUs, info.MemTotal, info.NCPU)
	}
}

// idleImage builds an image of one program that waits for a signal, from
// nothing (no registry), labelled as a test's and removed after it; it
// returns the image's ID, which a service runs without asking a
// registry.
func idleImage(t *testing.T, cli *client.Client, ref string) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nimport (\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n)\n\n" +
		"func main() {\n\tc := make(chan os.Signal, 1)\n\tsignal.Notify(c, syscall.SIGTERM, os.Interrupt)\n\t<-c\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	gob := exec.Command("go", "build", "-o", "idle", "main.go")
	gob.Dir, gob.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := gob.CombinedOutput(); err != nil {
		t.Fatalf("build the idle program: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "idle"))
	if err != nil {
		t.Fatal(err)
	}
	var ctx bytes.Buffer
	tw := tar.NewWriter(&ctx)
	dockerfile := "FROM scratch\nCOPY idle /idle\nENTRYPOINT [\"/idle\"]\n"
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"idle", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := cli.ImageBuild(context.Background(), &ctx, build.ImageBuildOptions{Tags: []string{ref}, Remove: true,
		Labels: map[string]string{engine.LabelRole: "test"}})
	if err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	img, err := cli.ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	t.Cleanup(func() {
		// PruneChildren: the build's untagged parent layers (unlabelled)
		// go with it, as `docker rmi` does by default.
		if _, err := cli.ImageRemove(context.Background(), img.ID, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove %s: %v", ref, err)
		}
	})
	return img.ID
}
