package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Main is a TestMain for a package whose tests call Swarm: it runs them,
// then leaves the swarm Swarm made, if it made one, so the engine is left
// as the tests found it.
func Main(m *testing.M) {
	code := m.Run()
	if err := LeaveSwarm(); err != nil {
		fmt.Fprintf(os.Stderr, "leave the swarm the tests made: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
