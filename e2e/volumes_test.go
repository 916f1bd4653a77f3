package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/internal/testenv"
)

// classhubFails runs a CLI command that must fail and returns its output.
func (c *classroom) classhubFails(input string, args ...string) string {
	c.t.Helper()
	args = append(args, "--data-dir", c.dataDir)
	cmd := exec.Command(binary(c.t), args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err == nil {
		c.t.Fatalf("classhub %v succeeded, want a refusal:\n%s", args, out)
	}
	return string(out)
}

// TestResetKeepsFilesAndDeletedStudentsFilesAreKept drives `server reset`,
// `users delete` and `volumes` with a hub running: a reset keeps the
// files, a wipe needs the name typed again, a deleted student's files are
// kept and listed and never reach a new student of the same name, and a
// kept volume is deleted only by name and confirmation.
func TestResetKeepsFilesAndDeletedStudentsFilesAreKept(t *testing.T) {
	c := newClassroom(t)
	docker := testenv.Docker(t)
	ctx := context.Background()
	amy, teacher := c.user("amy"), c.user("teacher")
	c.addUsers(amy)
	c.classhub("users", "add", teacher, "--admin")
	adminTok := c.token(teacher)
	c.serve()
	c.startAndWait(adminTok, amy)
	inAmy := func(cmd string) (string, int) {
		t.Helper()
		cs, err := docker.ContainerList(ctx, container.ListOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			if ct.State == "running" && len(ct.Names) > 0 && ct.Names[0] == "/classhub-"+amy {
				return execInContainer(t, docker, ct.ID, "sh", "-c", cmd)
			}
		}
		t.Fatalf("%s's server is not running", amy)
		return "", 0
	}
	if out, code := inAmy("echo kept > work/proof.txt"); code != 0 {
		t.Fatalf("write a file: %d %s", code, out)
	}

	if out := c.classhub("server", "reset", amy); !strings.Contains(out, "files are kept") {
		t.Errorf("server reset said %q", out)
	}
	c.startAndWait(adminTok, amy)
	if out, code := inAmy("cat work/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after a reset: %d %q", code, out)
	}

	if out := c.classhubFails("someone\n", "server", "reset", amy, "--wipe"); !strings.Contains(out, "type their name") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("an unconfirmed wipe said %q", out)
	}
	if out := c.classhubFails("", "server", "reset", "nobody"+c.suffix); !strings.Contains(out, "no user nobody") {
		t.Errorf("reset of no user said %q", out)
	}
	if out := c.classhubFails("", "users", "reset", amy, "--wipe"); !strings.Contains(out, "classhub server reset") {
		t.Errorf("users reset --wipe said %q", out)
	}
	if out, code := inAmy("cat work/proof.txt"); code != 0 || strings.TrimSpace(out) != "kept" {
		t.Errorf("file after refusals: %d %q", code, out)
	}

	if out := c.classhub("users", "delete", amy); !strings.Contains(out, "files are kept") {
		t.Errorf("users delete said %q", out)
	}
	list := c.classhub("volumes", "list")
	var vol string
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == amy {
			vol = f[0]
		}
	}
	if vol == "" {
		t.Fatalf("volumes list lacks %s's files:\n%s", amy, list)
	}
	c.addUsers(amy)
	c.startAndWait(adminTok, amy)
	if _, code := inAmy("test -e work/proof.txt"); code == 0 {
		t.Error("a new student of the same name got the deleted student's files")
	}
	if !strings.Contains(c.classhub("volumes", "list"), vol) {
		t.Errorf("the kept volume %s left the list when a new %s came", vol, amy)
	}
	if out := c.classhubFails("", "volumes", "delete", vol, "--confirm", "someone"); !strings.Contains(out, "type their name") {
		t.Errorf("an unconfirmed volume delete said %q", out)
	}
	if out := c.classhub("volumes", "delete", vol, "--confirm", amy); !strings.Contains(out, "deleted "+vol) {
		t.Errorf("volumes delete said %q", out)
	}
	if strings.Contains(c.classhub("volumes", "list"), vol) {
		t.Errorf("%s is still listed after its deletion", vol)
	}
}

// execInContainer runs cmd in a container as its user and returns the
// combined output and exit code.
func execInContainer(t *testing.T, cli *client.Client, id string, cmd ...string) (string, int) {
	t.Helper()
	ctx := context.Background()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, WorkingDir: "/home/jovyan", AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	defer att.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, att.Reader); err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	return buf.String(), ins.ExitCode
}
