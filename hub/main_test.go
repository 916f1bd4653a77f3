package hub

import (
	"os"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// TestMain leaves the swarm testenv.Swarm made, if it made one.
func TestMain(m *testing.M) { os.Exit(testenv.RunLeavingSwarm(m)) }
