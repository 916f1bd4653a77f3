package spawner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/docker/docker/client"
)

// adviceOf runs the operations a hub calls first against cli and checks
// that each fails with the advice a person can act on.
func adviceOf(t *testing.T, cli client.APIClient, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := New(cli, Options{Config: config.Default()})
	ops := map[string]func() error{
		"EnsureNetwork": func() error { _, err := d.EnsureNetwork(ctx); return err },
		"Start": func() error {
			_, err := d.Start(ctx, StartRequest{User: "alice", APIToken: "t", HubPort: 8081})
			return err
		},
		"Stop":    func() error { return d.Stop(ctx, "alice") },
		"List":    func() error { _, err := d.List(ctx); return err },
		"Prepull": func() error { return d.Prepull(ctx) },
	}
	for name, op := range ops {
		err := op()
		var ee *engine.Error
		if !errors.As(err, &ee) || ee.Advice != want {
			t.Errorf("%s: %v, want advice %q", name, err, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: the message %q lacks the advice", name, err)
		}
	}
}

func unixClient(t *testing.T, path string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+path), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestEngineMissingAdvice(t *testing.T) {
	adviceOf(t, unixClient(t, filepath.Join(t.TempDir(), "docker.sock")), engine.AdviceNotRunning)
}

func TestEngineRefusesAdvice(t *testing.T) {
	// A socket file nobody listens on: what a stopped daemon leaves.
	path := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	adviceOf(t, unixClient(t, path), engine.AdviceNotRunning)
}

// TestPermissionDeniedAdvice connects to the real engine's socket as a user
// who may not (nobody, outside the docker group), the failure people meet
// first after installing Docker. As root the test re-runs itself as
// nobody; as another user it uses a socket file that user cannot open.
func TestPermissionDeniedAdvice(t *testing.T) {
	if os.Getenv("CLASSHUB_SPAWNER_AS_NOBODY") == "1" {
		adviceOf(t, unixClient(t, os.Getenv("CLASSHUB_SPAWNER_SOCKET")), engine.AdvicePermission)
		return
	}
	if os.Geteuid() != 0 {
		path := filepath.Join(t.TempDir(), "docker.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		adviceOf(t, unixClient(t, path), engine.AdvicePermission)
		return
	}
	sock := strings.TrimPrefix(connect(t).DaemonHost(), "unix://")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm()&0o006 != 0 {
		t.Fatalf("the engine's socket %s must not be open to everyone for this test (%v)", sock, err)
	}
	// The test binary may sit in a directory nobody cannot enter.
	dir, err := os.MkdirTemp("", "classhub-spawner-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "spawner.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPermissionDeniedAdvice$", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"CLASSHUB_SPAWNER_AS_NOBODY=1", "CLASSHUB_SPAWNER_SOCKET=" + sock, "HOME=" + dir, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "--- PASS: TestPermissionDeniedAdvice") {
		t.Fatalf("the test did not run as nobody:\n%s", out.String())
	}
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
