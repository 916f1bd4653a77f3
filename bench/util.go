package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/classhub/classhub/internal/freeport"
)

// freePort returns a port that was free on ip a moment ago, for a server
// that binds it later; see freeport for why it is not the kernel's pick.
func freePort(ip string) (int, error) { return freeport.Port(ip) }

// commandOutput runs a short command and returns its combined output.
func commandOutput(ctx context.Context, env []string, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitFor polls ok every interval until it is true, proc exits, ctx ends or
// limit passes. Limits only keep a broken run from hanging; nothing is
// measured against them.
func waitFor(ctx context.Context, limit, interval time.Duration, proc *Proc, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if ok() {
			return nil
		}
		if proc != nil {
			if exited, err := proc.Exited(); exited {
				return fmt.Errorf("%s %w (%v)", proc.Name, errExited, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", limit, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// version runs path with args and returns the first line of its output
// that holds a digit, or "unknown".
func version(ctx context.Context, env []string, path string, args ...string) string {
	out, err := commandOutput(ctx, env, path, args...)
	for _, line := range strings.Split(out, "\n") {
		if strings.ContainsAny(line, "0123456789") {
			return strings.TrimSpace(line)
		}
	}
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return "unknown"
}
