// Package testenv decides what tests may skip. On a developer's machine a
// test whose engine, browser or display is missing skips with the reason; in
// CI (CI is set) the same test fails, because a skipped Docker test counted
// as a pass hides exactly the failures CI exists to catch.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// InCI reports whether tests run in CI.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips t locally and fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI must run this test, but: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Docker returns a client for the real engine, or skips (fails in CI) when
// there is none.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := engine.Connect(ctx)
	if err != nil {
		Unavailable(t, "no Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// NotebookImage is the image the Docker tests run. `make test` builds it
// when it is missing.
const NotebookImage = "classhub/notebook:latest"

// RequireImage skips (fails in CI) when ref is not in the engine.
func RequireImage(t testing.TB, cli *client.Client, ref string) {
	t.Helper()
	if _, err := cli.ImageInspect(context.Background(), ref); err != nil {
		Unavailable(t, "image %s is missing (run `classhub image build`): %v", ref, err)
	}
}

// Command returns the path of a program, or skips (fails in CI).
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed", name)
	}
	return p
}
