// Package engine connects classhub to the Docker engine and names what
// classhub owns there. Every container, volume, network and image classhub
// creates carries LabelManaged; classhub never touches objects without it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/docker/docker/client"
)

// Labels classhub puts on what it creates.
const (
	// LabelManaged marks every object classhub created; its value is "true".
	LabelManaged = "org.classhub.managed"
	// LabelUser names the classhub user a container or volume belongs to.
	LabelUser = "org.classhub.user"
	// LabelAccount, on a work volume, is the key of the account the files
	// belong to (spawner.Account.Key): names are reused, keys never.
	LabelAccount = "org.classhub.account"
	// LabelRole says what an object is for: "server", "work", "network",
	// "probe", "volume-owner", "notebook-image", "test".
	LabelRole = "org.classhub.role"
	// LabelFingerprint is the hash of what defines a container, so a
	// stopped container built from older settings is recreated.
	LabelFingerprint = "org.classhub.fingerprint"
	// LabelVersion is the classhub version that created the object.
	LabelVersion = "org.classhub.version"
	// LabelJupyterHub is, on a notebook image classhub built (and so on
	// its containers), the version of the jupyterhub package inside.
	LabelJupyterHub = "org.classhub.jupyterhub-version"
	// LabelMode is, on a server's container, how its image runs the
	// server: "jupyterhub" or "server" (spawner.Mode).
	LabelMode = "org.classhub.mode"
)

// Advice for the failures people meet first; `classhub doctor` and the
// dashboard show the same sentences.
const (
	AdvicePermission = "this user may not use the Docker socket: run `sudo usermod -aG docker $USER`, then `newgrp docker` (or log out and in again)"
	AdviceNotRunning = "the Docker engine is not running: start it (`sudo systemctl start docker`, or open Docker Desktop) and try again"
	AdviceMissing    = "Docker is not installed: install it (`sudo apt-get install docker.io` on Debian or Ubuntu, Docker Desktop elsewhere)"
)

// Error is a Docker failure explained for a person: what went wrong and
// what to do.
type Error struct {
	Advice string
	Err    error
}

func (e *Error) Error() string { return e.Advice }

func (e *Error) Unwrap() error { return e.Err }

// Connect returns a client for the engine at Host (DOCKER_HOST, or where
// this OS's engine listens), negotiated down to the engine's API version,
// after checking that the engine answers. An engine on another machine is
// refused (Location.Refusal) before anything is sent to it: making a
// client dials nothing, and the address it will dial is what is located.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithHost(Host()), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, Explain(fmt.Errorf("docker client: %w", err))
	}
	if err := Locate(cli.DaemonHost()).Refusal(); err != nil {
		cli.Close()
		return nil, err
	}
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, Explain(err)
	}
	return cli, nil
}

// Explain turns a Docker client error into an *Error with advice when the
// cause is one people can fix themselves; other errors pass through.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EACCES),
		strings.Contains(msg, "permission denied"):
		return &Error{Advice: AdvicePermission, Err: err}
	case client.IsErrConnectionFailed(err), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ENOENT), strings.Contains(msg, "Cannot connect to the Docker daemon"):
		return &Error{Advice: AdviceNotRunning, Err: err}
	}
	return err
}

// ManagedFilter is the label filter value that selects classhub's objects.
func ManagedFilter() string { return LabelManaged + "=true" }
