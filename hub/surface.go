package hub

import (
	"context"
	"io"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// The words the tray app and the CLI speak to the hub in. Each is an alias
// of the type or value defined where the hub does the work, so there is
// one of each; front ends name them through this package alone.

// Events: what happened, as every view follows it.
type (
	// Event is one thing that happened; its Kind says what.
	Event = events.Event
	// Bus fans the hub's events out to every view that follows them.
	Bus = events.Bus
	// Subscription is one view's feed of the Bus.
	Subscription = events.Subscription
)

// The kinds of Event the front ends tell apart.
const (
	EventServerState   = events.ServerState
	EventSpawnProgress = events.SpawnProgress
	EventImageProgress = events.ImageProgress
	EventActivity      = events.Activity
	EventNotice        = events.Notice
	EventImageChanged  = events.ImageChanged
)

// Users and their servers.
type (
	// User is an account as the store keeps it.
	User = store.User
	// UserStatus is a user with their server's status, for lists.
	UserStatus = core.UserStatus
	// ServerStatus is where a user's server is: ready, pending a start
	// or stop, or failed.
	ServerStatus = core.ServerStatus
	// ListOptions pick, sort and page the users Users lists.
	ListOptions = store.ListOptions
	// ContainerState is where a user's container is in its life; server
	// state events carry it as their State.
	ContainerState = spawner.State
	// Stats is a container's CPU and memory use.
	Stats = spawner.Stats
	// Capacity is how many students' servers the laptop holds, and why.
	Capacity = core.Capacity
	// Network is the Docker network servers run on and how they reach
	// the hub.
	Network = spawner.Network
)

// What ServerStatus.Pending holds while a start or a stop is under way.
const (
	PendingSpawn = core.PendingSpawn
	PendingStop  = core.PendingStop
)

// The states of a container, as server state events report them.
const (
	StateMissing  = spawner.StateMissing
	StateStopped  = spawner.StateStopped
	StateStarting = spawner.StateStarting
	StateRunning  = spawner.StateRunning
	StateStopping = spawner.StateStopping
	StateBroken   = spawner.StateBroken
	StateFailed   = spawner.StateFailed
)

// WorkDir is where each user's work volume is mounted in their container;
// it outlives the container.
const WorkDir = spawner.WorkDir

// Errors the hub's operations return; front ends turn them into sentences.
var (
	ErrNoSuchUser     = core.ErrNoSuchUser
	ErrAlreadyRunning = core.ErrAlreadyRunning
	// ErrCancelled says a start was cancelled by a stop while its caller
	// waited for it.
	ErrCancelled = core.ErrCancelled
)

// ImageChange is what choosing another notebook image did; its Sentence
// says what that means for the class.
type ImageChange = core.ImageChange

// Outcome is what an operation on one user came to, as Each returns it.
type Outcome = core.Outcome

// Each runs fn for every name, at most limit at a time, and returns their
// outcomes in the order of names: the one bounded fan-out, the hub's and
// its front ends'.
func Each(ctx context.Context, names []string, limit int, fn func(ctx context.Context, name string) error) []Outcome {
	return core.Each(ctx, names, limit, fn)
}

// SplitNames splits the usernames typed or pasted into an "add users"
// box: a new line, a comma or a semicolon separates them, a space does
// not, so a full name is refused rather than made two users.
func SplitNames(text string) []string { return core.SplitNames(text) }

// Bytes writes n bytes for people, as every size the hub shows is
// written; see core.Bytes.
func Bytes(n uint64) string { return core.Bytes(n) }

// Accounts and what people are handed to log in the first time.
type (
	// Account is a user as created or reset, with the credential to
	// hand them, shown once.
	Account = core.Account
	// RosterEntry is one line of a roster file.
	RosterEntry = roster.Entry
	// Imported is what importing one roster line did.
	Imported = roster.Imported
	// Handout is a name with the password or setup code to hand them.
	Handout = roster.Handout
)

// MinPasswordLen is the shortest password the hub accepts.
const MinPasswordLen = auth.MinPasswordLen

// ParseRoster reads a roster: a CSV with a username column and an
// optional password column. Its errors name the lines to fix.
func ParseRoster(r io.Reader) ([]RosterEntry, error) { return roster.Parse(r) }

// Handouts are the credentials an import created, to hand out.
func Handouts(imported []Imported) []Handout { return roster.Handouts(imported) }

// AccountHandouts are the credentials of accounts just created or reset.
func AccountHandouts(accounts []Account) []Handout { return roster.AccountHandouts(accounts) }

// WriteHandoutsCSV writes handouts as CSV, with the class link if given.
func WriteHandoutsCSV(w io.Writer, handouts []Handout, link string) error {
	return roster.WriteHandoutsCSV(w, handouts, link)
}

// LocalAccountWarning says why a classhub account named name is a risk
// with the external logins of cfg, or "" when it is not.
func LocalAccountWarning(cfg config.Config, name string) string {
	return core.LocalAccountWarning(cfg, name)
}
