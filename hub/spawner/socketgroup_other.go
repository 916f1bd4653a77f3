//go:build !unix

package spawner

import "errors"

// socketGroup has no answer here: the hub's service mounts a Unix socket
// of a Linux swarm manager, which is where `classhub swarm deploy` runs.
func socketGroup(string) (uint32, error) {
	return 0, errors.New("run `classhub swarm deploy` on the Linux swarm manager itself")
}

func deployUser() string { return "" }
