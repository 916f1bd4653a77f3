package hub

import (
	"context"

	"github.com/classhub/classhub/hub/roster"
)

// The servers' and users' operations of an open hub, as the tray drives
// them. Each is the core.Lifecycle's or the spawner's own; the REST API and
// the pages call the same ones.

// Bus is the hub's event stream, the one every view follows.
func (h *Hub) Bus() *Bus { return h.life.Bus() }

// Network is the Docker network servers run on and how they reach the hub.
func (h *Hub) Network() Network { return h.network }

// Users lists the users opt picks with their servers' status, and how many
// there are in all.
func (h *Hub) Users(ctx context.Context, opt ListOptions) ([]UserStatus, int, error) {
	return h.life.Users(ctx, opt)
}

// Status is where user's server is.
func (h *Hub) Status(ctx context.Context, user string) (ServerStatus, error) {
	return h.life.Status(ctx, user)
}

// Start starts user's server, answering once it is ready or after a short
// wait with its start still pending.
func (h *Hub) Start(ctx context.Context, user string) (ServerStatus, error) {
	return h.life.Start(ctx, user)
}

// WaitReady starts user's server unless it runs or is on its way, and
// waits until it is ready, starting a server that stops at once again a
// few times. Its error says why the server cannot start, and wraps
// ErrCancelled when a stop cancelled the start it asked for.
func (h *Hub) WaitReady(ctx context.Context, user string) (ServerStatus, error) {
	return h.life.WaitReady(ctx, user)
}

// Stop stops user's server, or cancels its start; remove deletes its
// container too, keeping the work volume.
func (h *Hub) Stop(ctx context.Context, user string, remove bool) error {
	return h.life.Stop(ctx, user, remove)
}

// ResetServer deletes user's server container, so their next start makes
// a new one; with wipe, and confirm their name typed again, their files
// go too, for good.
func (h *Hub) ResetServer(ctx context.Context, user string, wipe bool, confirm string) error {
	return h.life.ResetServer(ctx, user, wipe, confirm)
}

// StartAll starts every server that is not running and returns how many
// were asked to start.
func (h *Hub) StartAll(ctx context.Context) (int, error) { return h.life.StartAll(ctx) }

// StopAll stops every running server and cancels every start still
// pending, returning how many it stopped or cancelled.
func (h *Hub) StopAll(ctx context.Context) (int, error) { return h.life.StopAll(ctx) }

// AddUsers creates the users of names that do not exist, each with the
// credential to hand them, shown once.
func (h *Hub) AddUsers(ctx context.Context, names []string, admin bool) ([]Account, error) {
	return h.life.AddUsers(ctx, names, admin)
}

// ResetUser takes every way in user had and gives them a new credential
// to hand out.
func (h *Hub) ResetUser(ctx context.Context, user string) (Account, error) {
	return h.life.ResetUser(ctx, user)
}

// SetPassword sets user's password and logs them out everywhere.
func (h *Hub) SetPassword(ctx context.Context, user, password string) error {
	return h.life.SetPassword(ctx, user, password)
}

// RenewSetupCodes gives the students of names still waiting for a first
// password new setup codes.
func (h *Hub) RenewSetupCodes(ctx context.Context, names []string) ([]Account, error) {
	return h.life.RenewSetupCodes(ctx, names)
}

// ImportRoster creates the users of a roster read by ParseRoster, as the
// admin page and `classhub users import` do.
func (h *Hub) ImportRoster(ctx context.Context, entries []RosterEntry, generate bool) ([]Imported, error) {
	return roster.Import(ctx, h.store, entries, generate)
}

// SetImage makes servers start from the notebook image ref from now on,
// each at its next start with its files kept, and writes it to the
// settings file, as the admin page's image choice does.
func (h *Hub) SetImage(ctx context.Context, ref string) (ImageChange, error) {
	return h.life.SetImage(ctx, ref)
}

// Logs is the last tail lines user's server wrote.
func (h *Hub) Logs(ctx context.Context, user string, tail int) (string, error) {
	return h.spawner.Logs(ctx, user, tail)
}

// Stats samples the CPU and memory user's server uses; the hub keeps the
// sample for Capacity.
func (h *Hub) Stats(ctx context.Context, user string) (Stats, error) {
	return h.life.Stats(ctx, user)
}

// Capacity says how many students' servers this laptop holds, how many
// run, and where the figures come from.
func (h *Hub) Capacity(ctx context.Context) (Capacity, error) { return h.life.Capacity(ctx) }

// StartAllQuestion asks whether to start n servers when that takes the
// laptop past its capacity, "" when they fit: what Start all asks first.
func (h *Hub) StartAllQuestion(ctx context.Context, n int) string {
	return h.life.StartAllQuestion(ctx, n)
}
