//go:build unix

package spawner

import (
	"fmt"
	"syscall"
)

// socketGroup is the group that owns the engine's socket at path, which
// the hub in a service joins to drive the engine.
func socketGroup(path string) (uint32, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Gid, nil
}

// deployUser is the user and group the hub's service runs as: whoever
// deploys it, so that the data dir they own stays theirs.
func deployUser() string { return fmt.Sprintf("%d:%d", syscall.Getuid(), syscall.Getgid()) }
