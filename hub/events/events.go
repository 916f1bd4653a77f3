// Package events is classhub's one event stream. Server state changes, image
// pull and build progress, activity and hub status are published here once and
// fanned out to every subscriber: the tray, the dashboard and the browser's
// progress page (SSE), so none of them polls.
package events

import (
	"sync"
	"time"
)

// Kind names what an Event reports.
type Kind string

const (
	// ServerState reports a user's server moving between states (see State).
	ServerState Kind = "server-state"
	// SpawnProgress reports a step of a server start with a percentage.
	SpawnProgress Kind = "spawn-progress"
	// ImageProgress reports image pull or build progress.
	ImageProgress Kind = "image-progress"
	// Activity reports that a user's server showed activity.
	Activity Kind = "activity"
	// HubStatus reports the hub itself starting, running, stopping or failing.
	HubStatus Kind = "hub-status"
	// Notice is a sentence for people: a container was recreated, removed
	// behind the hub's back, and the like.
	Notice Kind = "notice"
	// ImageChanged reports that servers start from another notebook
	// image (Image) from now on; Message says what that means for them.
	ImageChanged Kind = "image-changed"
	// HandoutProgress and CollectProgress report that handing a folder
	// out to a student (User), or collecting theirs, is done: Current of
	// Total students are, Failed says whether theirs failed, and Message
	// is their result for people.
	HandoutProgress Kind = "handout-progress"
	CollectProgress Kind = "collect-progress"
)

// Phase names the step a server start is at, so that readers follow a
// start without reading its messages.
type Phase string

// Phases of a start, in order; a start may skip some.
const (
	PhaseRequested Phase = "requested" // the hub accepted the start
	PhaseNetwork   Phase = "network"   // making the servers' network ready
	PhaseImage     Phase = "image"     // checking or pulling the notebook image
	PhaseQueued    Phase = "queued"    // waiting for a free start slot
	PhaseCreating  Phase = "creating"  // creating the container
	PhaseStarting  Phase = "starting"  // starting the container
	PhaseWaiting   Phase = "waiting"   // waiting for the notebook server to answer
	PhaseReady     Phase = "ready"     // the server answers: the start is over
)

// Reason says why an operation ends, or is about to end, the way it does.
// Readers branch on it, never on Message, which is copy for people and may
// be reworded freely.
type Reason string

const (
	// ReasonFailed: the operation did not succeed; Message says why.
	ReasonFailed Reason = "failed"
	// ReasonCancelling: a stop is cancelling a start still pending, as
	// opposed to stopping a running server.
	ReasonCancelling Reason = "cancelling"
	// ReasonCancelled: a start ended because a stop cancelled it. It is
	// not a failure, though the progress stream marks it failed as
	// JupyterHub does.
	ReasonCancelled Reason = "cancelled"
	// ReasonCulled: the hub stopped a server that had been idle too long.
	ReasonCulled Reason = "culled"
)

// Event is one thing that happened. Fields that do not apply to a Kind are
// left zero.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    Kind      `json:"kind"`
	User    string    `json:"user,omitempty"`
	State   string    `json:"state,omitempty"`
	Message string    `json:"message,omitempty"`
	// Phase is the step of a start that SpawnProgress reports.
	Phase Phase `json:"phase,omitempty"`
	// Reason says why an operation ends the way it does, "" when it
	// simply succeeds.
	Reason Reason `json:"reason,omitempty"`
	// Progress is 0–100 for progress kinds, -1 when unknown.
	Progress int `json:"progress,omitempty"`
	// Current and Total count bytes or steps for progress kinds.
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
	// Failed marks the end of an operation that did not succeed.
	Failed bool `json:"failed,omitempty"`
	// Image is the notebook image ImageChanged names.
	Image string `json:"image,omitempty"`
	// Job is the run of a hand-out or collect that HandoutProgress or
	// CollectProgress belongs to, as whoever started it named it (see
	// core.WithJob), "" when unnamed: two instructors' runs at once are
	// told apart by it.
	Job string `json:"job,omitempty"`
}

// Bus fans published events out to subscribers. A slow subscriber never
// blocks the publisher: when its buffer is full the oldest events are
// dropped and the subscriber sees a gap in Seq.
type Bus struct {
	mu     sync.Mutex
	seq    uint64
	subs   map[*Subscription]struct{}
	recent []Event // ring of the last events, for late subscribers
	keep   int
	now    func() time.Time
}

// NewBus returns a Bus that remembers the last keep events for subscribers
// that ask for history.
func NewBus(keep int) *Bus {
	return &Bus{subs: make(map[*Subscription]struct{}), keep: keep, now: time.Now}
}

// Publish stamps e with a sequence number and time and delivers it.
func (b *Bus) Publish(e Event) Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	if b.keep > 0 {
		if len(b.recent) == b.keep {
			copy(b.recent, b.recent[1:])
			b.recent = b.recent[:b.keep-1]
		}
		b.recent = append(b.recent, e)
	}
	for s := range b.subs {
		s.deliver(e)
	}
	return e
}

// Subscription receives events on C until Close is called.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	filter func(Event) bool
	bus    *Bus
	once   sync.Once
}

// Subscribe returns a subscription with a buffer of size events. filter, if
// not nil, selects which events are delivered. With history, the remembered
// events that pass the filter are delivered first.
func (b *Bus) Subscribe(size int, history bool, filter func(Event) bool) *Subscription {
	if size < 1 {
		size = 1
	}
	c := make(chan Event, size)
	s := &Subscription{C: c, c: c, filter: filter, bus: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if history {
		for _, e := range b.recent {
			s.deliver(e)
		}
	}
	b.subs[s] = struct{}{}
	return s
}

// deliver is called with the bus lock held.
func (s *Subscription) deliver(e Event) {
	if s.filter != nil && !s.filter(e) {
		return
	}
	for {
		select {
		case s.c <- e:
			return
		default:
		}
		// Full: drop the oldest so the newest state always arrives.
		select {
		case <-s.c:
		default:
		}
	}
}

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
		close(s.c)
	})
}

// ForUser is a filter that selects one user's events.
func ForUser(name string) func(Event) bool {
	return func(e Event) bool { return e.User == name }
}
