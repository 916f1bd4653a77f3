// Package e2e runs the real classhub binary, built by `make build`
// (CLASSHUB_BIN), the way a person would.
package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CLASSHUB_BIN")
	if bin == "" {
		testenv.Unavailable(t, "CLASSHUB_BIN is not set; `make test` builds the binary and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("CLASSHUB_BIN: %v", err)
	}
	return bin
}

// run runs the binary with env replacing the process environment's
// DISPLAY and WAYLAND_DISPLAY.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "XDG_DATA_HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestNoDisplaySaysToUseServe(t *testing.T) {
	_, stderr, code := run(t, nil)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr, "needs a desktop") || !strings.Contains(stderr, "classhub serve") {
		t.Errorf("stderr = %q, want it to say a desktop is needed and to point to `classhub serve`", stderr)
	}
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
		t.Errorf("stderr shows a crash: %q", stderr)
	}
}

func TestCommandsRunWithoutDisplay(t *testing.T) {
	stdout, stderr, code := run(t, []string{"LANG=C.UTF-8"}, "version")
	if code != 0 || !strings.HasPrefix(stdout, "classhub ") {
		t.Errorf("version: code %d, stdout %q", code, stdout)
	}
	// A C locale is the default on servers; Fyne's complaint about it
	// must not reach people who never asked for a window.
	if stderr != "" {
		t.Errorf("version wrote to stderr: %q", stderr)
	}
	stdout, _, code = run(t, nil, "help")
	for _, want := range []string{"serve", "image build", "--data-dir"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("help: code %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
	_, stderr, code = run(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, "classhub help") {
		t.Errorf("unknown command: code %d, stderr %q", code, stderr)
	}
}
