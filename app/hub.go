package app

import (
	"context"
	"net"
	"path/filepath"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

// The real hub is what the app drives.
var _ Conn = (*hub.Hub)(nil)

// Conn is an open hub as the app drives it: exactly the methods it calls,
// so tests drive the UI with a fake. *hub.Hub is the real one.
type Conn interface {
	// Serve answers requests until ctx ends; Close releases the hub and
	// leaves servers running.
	Serve(ctx context.Context) error
	Close()

	// Bus is the event stream every view follows.
	Bus() *hub.Bus
	// Owner is the person at this laptop, an admin.
	Owner() string
	ClassURL() string
	// TLSFingerprint is the SHA-256 fingerprint of the hub's certificate
	// authority (or own certificate) people compare; "" on plain HTTP.
	TLSFingerprint() string
	PublicAddr() net.Addr
	InternalAddr() net.Addr
	// Network is the Docker network servers run on and how they reach
	// the hub.
	Network() hub.Network
	Users(ctx context.Context, opt hub.ListOptions) ([]hub.UserStatus, int, error)
	Status(ctx context.Context, user string) (hub.ServerStatus, error)

	Start(ctx context.Context, user string) (hub.ServerStatus, error)
	// WaitReady starts user's server unless it runs or is on its way and
	// waits until it is ready; its error wraps hub.ErrCancelled when a
	// stop cancelled that start.
	WaitReady(ctx context.Context, user string) (hub.ServerStatus, error)
	Stop(ctx context.Context, user string, remove bool) error
	// ResetServer deletes user's container and, with wipe and confirm
	// their name typed again, their files, for good.
	ResetServer(ctx context.Context, user string, wipe bool, confirm string) error
	StartAll(ctx context.Context) (int, error)
	// StartAllQuestion asks whether to start n servers when that takes
	// the laptop past its capacity, "" when they fit.
	StartAllQuestion(ctx context.Context, n int) string
	// Capacity is how many students' servers the laptop holds.
	Capacity(ctx context.Context) (hub.Capacity, error)
	StopAll(ctx context.Context) (int, error)
	// AddUsers creates users, each with the credential to hand them:
	// shown once, by the dashboard.
	AddUsers(ctx context.Context, names []string, admin bool) ([]hub.Account, error)
	// ResetUser takes every way in user had and gives them a new
	// credential to hand out.
	ResetUser(ctx context.Context, user string) (hub.Account, error)
	// SetPassword sets user's password (the owner's, from Settings).
	SetPassword(ctx context.Context, user, password string) error
	// SetImage makes servers start from the notebook image ref from now
	// on, each at its next start (from Settings, with no restart).
	SetImage(ctx context.Context, ref string) (hub.ImageChange, error)
	// RenewSetupCodes gives the students of names still waiting for a
	// first password new setup codes.
	RenewSetupCodes(ctx context.Context, names []string) ([]hub.Account, error)
	// ImportRoster creates the users of a roster read by hub.ParseRoster,
	// as the admin page and the CLI do.
	ImportRoster(ctx context.Context, entries []hub.RosterEntry, generate bool) ([]hub.Imported, error)
	// LoginLink is a single-use, short-lived link that logs user in and
	// opens next (their server when empty).
	LoginLink(ctx context.Context, user, next string) (string, error)

	// Handout copies a folder into every student's work folder, and
	// Collect gathers one back, reporting progress per student.
	Handout(ctx context.Context, src string, to []string, progress hub.Progress) ([]hub.HandoutResult, error)
	Collect(ctx context.Context, dir, out string, to []string, progress hub.Progress) ([]hub.Collected, error)

	// Logs and Stats read users' containers.
	Logs(ctx context.Context, user string, tail int) (string, error)
	Stats(ctx context.Context, user string) (hub.Stats, error)
}

// OpenFunc opens a hub with cfg. Run uses the real one; tests a fake.
type OpenFunc func(ctx context.Context, cfg config.Config) (Conn, error)

// openReal opens the real hub in dataDir.
func openReal(dataDir, version string) OpenFunc {
	return func(ctx context.Context, cfg config.Config) (Conn, error) {
		h, err := hub.Open(ctx, hub.Options{DataDir: dataDir, Config: cfg, Version: version,
			ConfigFile: filepath.Join(dataDir, config.FileName)})
		if err != nil {
			return nil, err
		}
		return h, nil
	}
}
