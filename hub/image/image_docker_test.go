package image

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/internal/testenv"
)

var testLabels = map[string]string{engine.LabelManaged: "true", engine.LabelRole: "test"}

// runOnce runs cmd in the notebook image and returns its standard output.
func runOnce(t *testing.T, cli *client.Client, cmd ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: testenv.NotebookImage, Cmd: cmd, Labels: testLabels},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		t.Fatalf("create %v: %v", cmd, err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start %v: %v", cmd, err)
	}
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		if res.StatusCode != 0 {
			t.Errorf("%v exited %d", cmd, res.StatusCode)
		}
	case err := <-errC:
		t.Fatalf("wait %v: %v", cmd, err)
	}
	logs, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(stdout.String())
}

func TestNotebookImageIdentity(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.NotebookImage)

	if got := runOnce(t, cli, "jupyterhub-singleuser", "--version"); got != "3.0.0" {
		t.Errorf("jupyterhub-singleuser --version = %q, want 3.0.0", got)
	}
	if got := runOnce(t, cli, "whoami"); got != "jovyan" {
		t.Errorf("whoami = %q, want jovyan", got)
	}
	if got := runOnce(t, cli, "stat", "-c", "%u:%g", "/home/jovyan/work"); got != "1000:100" {
		t.Errorf("/home/jovyan/work owned by %q, want 1000:100", got)
	}
	if got := runOnce(t, cli, "sh", "-c", "command -v node nodejs gdb || echo none"); got != "none" {
		t.Errorf("image carries %q, want no Node.js and no gdb", got)
	}

	info, err := cli.ImageInspect(context.Background(), testenv.NotebookImage)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	if cfg.User != "jovyan" || cfg.WorkingDir != "/home/jovyan" {
		t.Errorf("User %q WorkingDir %q, want jovyan and /home/jovyan", cfg.User, cfg.WorkingDir)
	}
	if strings.Join(cfg.Cmd, " ") != "jupyterhub-singleuser" {
		t.Errorf("Cmd = %q, want [jupyterhub-singleuser]", cfg.Cmd)
	}
	if _, ok := cfg.ExposedPorts["8888/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 8888/tcp", cfg.ExposedPorts)
	}
	if cfg.Labels[engine.LabelRole] != "notebook-image" || cfg.Labels["org.classhub.built-by"] == "" {
		t.Errorf("labels = %v, want classhub's build labels", cfg.Labels)
	}
	// Containers inherit image labels; one run by hand must not look
	// like a container classhub manages.
	if _, ok := cfg.Labels[engine.LabelManaged]; ok {
		t.Errorf("image carries %s, which every container from it would inherit", engine.LabelManaged)
	}
}

// TestNotebookImageServesHTTP starts the notebook server in the image on a
// network of our own and gets the classic UI's tree page through its token.
func TestNotebookImageServesHTTP(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, testenv.NotebookImage)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	netName := fmt.Sprintf("classhub-test-image-%d", time.Now().UnixNano())
	n, err := cli.NetworkCreate(ctx, netName, network.CreateOptions{Driver: "bridge", Labels: testLabels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), n.ID) })

	c, err := cli.ContainerCreate(ctx, &container.Config{
		Image:  testenv.NotebookImage,
		Cmd:    []string{"jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--NotebookApp.token=abc"},
		Labels: testLabels,
	}, &container.HostConfig{NetworkMode: container.NetworkMode(netName)}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	insp, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	ip := insp.NetworkSettings.Networks[netName].IPAddress
	if ip == "" {
		t.Fatalf("container has no address on %s", netName)
	}

	httpc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	url := "http://" + ip + ":8888/tree?token=abc"
	var last string
	for ctx.Err() == nil {
		resp, err := httpc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusFound {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("notebook server never answered 200 or 302 at %s; last: %s", url, last)
}
