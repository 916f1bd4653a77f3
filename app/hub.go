package app

import (
	"context"
	"net"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Hub is what the app needs from an open hub: exactly the methods it
// calls, so tests drive the UI with a fake; *hub.Hub satisfies it with the
// little realHub adds (see realhub.go).
type Hub interface {
	// Serve answers requests until ctx ends; Close releases the hub and
	// leaves servers running.
	Serve(ctx context.Context) error
	Close()

	// Bus is the event stream every view follows.
	Bus() *events.Bus
	// Owner is the person at this laptop, an admin.
	Owner() string
	ClassURL() string
	// TLSFingerprint is the SHA-256 fingerprint of the hub's certificate
	// authority (or own certificate) people compare; "" on plain HTTP.
	TLSFingerprint() string
	PublicAddr() net.Addr
	InternalAddr() net.Addr
	Users(ctx context.Context, opt store.ListOptions) ([]core.UserStatus, int, error)
	Status(ctx context.Context, user string) (core.ServerStatus, error)

	Start(ctx context.Context, user string) (core.ServerStatus, error)
	Stop(ctx context.Context, user string, remove bool) error
	StartAll(ctx context.Context) (int, error)
	StopAll(ctx context.Context) (int, error)
	// AddUsers creates users, each with the credential to hand them
	// (core.CreateUser): shown once, by the dashboard.
	AddUsers(ctx context.Context, names []string, admin bool) ([]core.Account, error)
	// ResetUser takes every way in user had and gives them a new
	// credential to hand out (core.ResetUser).
	ResetUser(ctx context.Context, user string) (core.Account, error)
	// SetPassword sets user's password (the owner's, from Settings).
	SetPassword(ctx context.Context, user, password string) error
	// RenewSetupCodes gives the students of names still waiting for a
	// first password new setup codes (core.RenewSetupCodes).
	RenewSetupCodes(ctx context.Context, names []string) ([]core.Account, error)
	// ImportRoster creates the users of a roster read by roster.Parse, as
	// roster.Import does for the admin page and the CLI.
	ImportRoster(ctx context.Context, entries []roster.Entry, generate bool) ([]roster.Imported, error)
	// LoginLink is a single-use, short-lived link that logs user in and
	// opens next (their server when empty).
	LoginLink(ctx context.Context, user, next string) (string, error)
}

// Containers reads users' containers; *spawner.Docker satisfies it.
type Containers interface {
	Logs(ctx context.Context, user string, tail int) (string, error)
	Stats(ctx context.Context, user string) (spawner.Stats, error)
}

// Conn is an open hub with what the app reads beside its methods.
type Conn struct {
	Hub
	Containers Containers
	// Network is the Docker network servers run on and how they reach
	// the hub.
	Network spawner.Network
}

// OpenFunc opens a hub with cfg. Run uses the real one; tests a fake.
type OpenFunc func(ctx context.Context, cfg config.Config) (Conn, error)
