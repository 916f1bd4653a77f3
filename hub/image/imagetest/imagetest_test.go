package imagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/internal/testenv"
)

func TestChangesQuoteAndInherit(t *testing.T) {
	var base dockerimage.InspectResponse
	if err := json.Unmarshal([]byte(`{"Config": {"Env": ["PATH=/usr/bin:/bin", "HOME=/home/jovyan"], "User": "jovyan",
		"Entrypoint": ["tini", "--"], "Cmd": ["jupyterhub-singleuser"], "Labels": {"org.classhub.image-profile": "classic"}}}`), &base); err != nil {
		t.Fatal(err)
	}
	got, err := changesFor(base, Spec{Base: "b", Env: []string{`HOME=/home/a "b" $HOME`}, Entrypoint: []string{}, Labels: map[string]string{"x": "y"}}, "id1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`ENV PATH="/usr/bin:/bin"`,
		`ENV HOME="/home/a \"b\" \$HOME"`,
		`USER jovyan`,
		`ENTRYPOINT []`,
		`CMD ["jupyterhub-singleuser"]`,
		`LABEL "classhub-test.derived"="id1"`,
		`LABEL "x"="y"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := changesFor(base, Spec{Env: []string{"NOEQUALS"}}, "id"); err == nil {
		t.Error("an env entry without = was taken")
	}
	if _, err := changesFor(base, Spec{Labels: map[string]string{Label: "other"}}, "id"); err == nil {
		t.Error("a spec that sets Label was taken")
	}
}

// TestDerive derives an image from the classic notebook image with the
// real engine, runs it, and removes it by label.
func TestDerive(t *testing.T) {
	cli := testenv.Docker(t)
	base := Classic(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	img, err := Build(ctx, cli, Spec{
		Base:   base,
		Script: "echo derived > /derived && rm -r /home/jovyan/work && id -u > /built-as",
		Cmd:    []string{"sh", "-c", `cat /derived /built-as; id -un; pwd; echo "$GREETING"; test -e /home/jovyan/work || echo no work`},
		User:   "1000:100", WorkingDir: "/tmp",
		Env:    []string{`GREETING=hello "you" $HOME`},
		Labels: map[string]string{"course": "test"},
	})
	t.Cleanup(func() {
		if err := Remove(context.Background(), cli, img.ID); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	info, err := cli.ImageInspect(ctx, img.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for k := range info.Config.Labels {
		if strings.HasPrefix(k, "org.classhub.") {
			t.Errorf("the derived image kept the base's label %s", k)
		}
	}
	if info.Config.Labels[Label] != img.ID || info.Config.Labels["course"] != "test" {
		t.Errorf("labels %v, want %s=%s and course=test", info.Config.Labels, Label, img.ID)
	}
	if strings.Join(info.Config.Entrypoint, " ") != "tini -g --" {
		t.Errorf("entrypoint %q, want the base's", info.Config.Entrypoint)
	}
	if _, ok := info.Config.ExposedPorts["8888/tcp"]; !ok {
		t.Errorf("exposed ports %v, want the base's 8888/tcp", info.Config.ExposedPorts)
	}

	out := runImage(t, cli, img.Ref)
	want := "derived\n0\njovyan\n/tmp\nhello \"you\" $HOME\nno work"
	if out != want {
		t.Errorf("the derived image printed\n%s\nwant\n%s", out, want)
	}

	if err := Remove(ctx, cli, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageInspect(ctx, img.Ref); err == nil {
		t.Errorf("%s is still in the engine after Remove", img.Ref)
	}
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", Label+"="+img.ID))})
	if err != nil || len(cs) != 0 {
		t.Errorf("containers left after Remove: %d (%v)", len(cs), err)
	}
	if _, err := cli.ImageInspect(ctx, base); err != nil {
		t.Errorf("Remove took the base image: %v", err)
	}
}

func TestDeriveScriptFails(t *testing.T) {
	cli := testenv.Docker(t)
	base := Classic(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := Build(ctx, cli, Spec{Base: base, Script: "echo no such luck >&2; exit 7"})
	defer Remove(context.Background(), cli, img.ID)
	if err == nil || !strings.Contains(err.Error(), "exit code 7") || !strings.Contains(err.Error(), "no such luck") {
		t.Fatalf("Build = %v, want the script's exit code and output", err)
	}
	if _, err := cli.ImageInspect(ctx, img.Ref); err == nil {
		t.Errorf("a failed script still made %s", img.Ref)
	}
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", Label+"="+img.ID))})
	if err != nil || len(cs) != 0 {
		t.Errorf("the script's container is left: %d (%v)", len(cs), err)
	}
}

// runImage runs ref's own command with no network and returns what it
// printed. The container carries the image's Label, so Remove finds it.
func runImage(t *testing.T, cli client.APIClient, ref string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, cli, c.ID); err != nil {
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var buf bytes.Buffer
	stdcopy.StdCopy(&buf, &buf, logs)
	return strings.TrimSpace(buf.String())
}
