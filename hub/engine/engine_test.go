package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/docker/docker/client"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"socket permission", fmt.Errorf("dial unix /var/run/docker.sock: %w", os.ErrPermission), AdvicePermission},
		{"eacces", &os.SyscallError{Syscall: "connect", Err: syscall.EACCES}, AdvicePermission},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), AdviceNotRunning},
		{"no socket", fmt.Errorf("dial: %w", syscall.ENOENT), AdviceNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.err)
			var e *Error
			if !errors.As(got, &e) || e.Advice != tt.want {
				t.Fatalf("Explain(%v) = %v, want advice %q", tt.err, got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("Explain(%v) lost the cause", tt.err)
			}
		})
	}
	other := errors.New("no such image")
	if got := Explain(other); got != other {
		t.Errorf("Explain(other) = %v, want it unchanged", got)
	}
	if Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}

// TestExplainNoDaemon asks a real client for an engine whose socket is not
// there, so the error is the one the Docker client really returns.
func TestExplainNoDaemon(t *testing.T) {
	c, err := client.NewClientWithOpts(client.WithHost("unix://" + filepath.Join(t.TempDir(), "docker.sock")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Ping(context.Background())
	var e *Error
	if got := Explain(err); !errors.As(got, &e) || e.Advice != AdviceNotRunning {
		t.Fatalf("Explain(%v) = %v, want advice %q", err, got, AdviceNotRunning)
	}
}
