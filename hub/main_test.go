package hub

import (
	"fmt"
	"os"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// TestMain leaves the swarm testenv.Swarm made, if it made one, so the
// engine is left as the tests found it.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := testenv.LeaveSwarm(); err != nil {
		fmt.Fprintf(os.Stderr, "leave the swarm the tests made: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
