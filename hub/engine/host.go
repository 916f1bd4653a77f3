package engine

import (
	"os"
	"runtime"
)

// windowsPipe is the named pipe Docker Desktop and Docker Engine for
// Windows listen on.
const windowsPipe = "npipe:////./pipe/docker_engine"

// systemSocket is the engine's socket where a system-wide engine (Debian's
// docker.io, Docker CE) listens, and where Docker Desktop for Mac links
// its own when it is allowed to.
const systemSocket = "/var/run/docker.sock"

// Host is the address of the engine classhub talks to: DOCKER_HOST when it
// is set, else the place the engine of this OS listens (hostFor says
// which).
func Host() string {
	home, _ := os.UserHomeDir()
	return hostFor(runtime.GOOS, os.Getenv, home, socketExists)
}

// hostFor is the engine's address on goos. The Docker client's own default
// is the system socket (the named pipe on Windows), but Docker Desktop on
// macOS and Linux, and a rootless engine, listen in the user's folders
// instead, where the docker CLI finds them through its contexts and the
// client library does not look:
//   - Windows: the named pipe, Docker Desktop's and the Windows engine's.
//   - macOS: the system socket when Docker Desktop links it there (an
//     admin's choice in its settings), else ~/.docker/run/docker.sock.
//   - Linux and the other Unixes: the system socket, else a rootless
//     engine's $XDG_RUNTIME_DIR/docker.sock, else Docker Desktop for
//     Linux's ~/.docker/desktop/docker.sock.
//
// When none is there the system socket is the answer, so the error names
// the place people know.
func hostFor(goos string, getenv func(string) string, home string, exists func(string) bool) string {
	if h := getenv("DOCKER_HOST"); h != "" {
		return h
	}
	if goos == "windows" {
		return windowsPipe
	}
	candidates := []string{systemSocket}
	switch goos {
	case "darwin":
		if home != "" {
			candidates = append(candidates, home+"/.docker/run/docker.sock")
		}
	default:
		if d := getenv("XDG_RUNTIME_DIR"); len(d) > 0 && d[0] == '/' {
			candidates = append(candidates, d+"/docker.sock")
		}
		if home != "" {
			candidates = append(candidates, home+"/.docker/desktop/docker.sock")
		}
	}
	for _, s := range candidates {
		if exists(s) {
			return "unix://" + s
		}
	}
	return "unix://" + systemSocket
}

// socketExists reports whether something is at path; a socket file may
// outlive its engine, which Connect's ping then finds.
func socketExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
