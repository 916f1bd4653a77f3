package app

import (
	"slices"
	"strings"
	"time"

	"github.com/classhub/classhub/hub"
)

// HubPhase is where the hub is in its life; the tray icon shows it.
type HubPhase int

// Hub phases.
const (
	// HubStopped: no hub yet, or it was closed.
	HubStopped HubPhase = iota
	// HubStarting: hub.Open is under way.
	HubStarting
	// HubRunning: the hub serves.
	HubRunning
	// HubError: the hub could not open or stopped serving; State.Problem
	// says why.
	HubError
)

func (p HubPhase) String() string {
	switch p {
	case HubStarting:
		return "starting"
	case HubRunning:
		return "running"
	case HubError:
		return "error"
	}
	return "stopped"
}

// ServerPhase is where one user's server is, as people see it.
type ServerPhase int

// Server phases.
const (
	ServerStopped ServerPhase = iota
	ServerStarting
	ServerReady
	ServerStopping
	ServerFailed
)

func (p ServerPhase) String() string {
	switch p {
	case ServerStarting:
		return "starting…"
	case ServerReady:
		return "ready"
	case ServerStopping:
		return "stopping…"
	case ServerFailed:
		return "failed"
	}
	return "stopped"
}

// Busy reports whether an operation on the server is under way.
func (p ServerPhase) Busy() bool { return p == ServerStarting || p == ServerStopping }

// UserRow is one line of the users table.
type UserRow struct {
	Name  string
	Admin bool
	Phase ServerPhase
	// Detail is the current start's last step, or why the server failed.
	Detail string
	// Progress is the current start's percentage.
	Progress     int
	LastActivity time.Time
	// Stats is the last sample of a ready server; HasStats is false until
	// one arrived.
	Stats    hub.Stats
	HasStats bool
}

// ImageStatus is the notebook image as the dashboard shows it.
type ImageStatus struct {
	Ref string
	// Checked is false until the doctor looked; Present is meaningless
	// before.
	Checked bool
	Present bool
	// Detail is the doctor's line, or the last pull step.
	Detail string
	// Busy is true while the image is pulled or built; Progress is 0–1,
	// or negative when the size is unknown.
	Busy     bool
	Progress float64
}

// State is everything the tray and the windows show. Only the UI
// goroutine touches it (see ui.do); views render it, events change it.
type State struct {
	Hub HubPhase
	// Problem says why the hub is not running (HubError).
	Problem string
	// Doctor is the last `classhub doctor` report; nil until one ran.
	Doctor *hub.DoctorReport

	Owner    string
	ClassURL string
	// Fingerprint is the hub's certificate fingerprint, "" on plain HTTP;
	// Exposed says the hub is reachable from the network, where plain HTTP
	// sends passwords in clear.
	Fingerprint  string
	Exposed      bool
	PublicAddr   string
	InternalAddr string
	Network      hub.Network
	Image        ImageStatus
	Users        []UserRow
	// Capacity says how many students the laptop holds, and Detail why;
	// "" until the first stats round.
	Capacity, CapacityDetail string
	// Nodes are a swarm's machines, a line each; none for one machine.
	Nodes []string

	// Opening is true while "Open my notebook" waits for the server.
	Opening bool
	// Notice is the hub's last sentence for people.
	Notice       string
	NoticeFailed bool

	// Class is the class hub the learner joined and uses now (classes.go);
	// nil while this laptop's own hub is current.
	Class *Class
	// Classes are the class hubs joined, for the tray's list of hubs.
	Classes []ClassEntry

	// Selected is the user whose logs the dashboard shows; "" shows the
	// hub's own log.
	Selected string
	Logs     string

	lastSeq uint64
}

// Row returns the named user's row, or nil.
func (s *State) Row(name string) *UserRow {
	for i := range s.Users {
		if s.Users[i].Name == name {
			return &s.Users[i]
		}
	}
	return nil
}

// Own is the owner's row: the person at this laptop.
func (s *State) Own() UserRow {
	if r := s.Row(s.Owner); r != nil {
		return *r
	}
	return UserRow{Name: s.Owner}
}

// Active counts servers that run or are on their way, which Quit asks
// about.
func (s *State) Active() int {
	n := 0
	for _, r := range s.Users {
		if r.Phase == ServerReady || r.Phase.Busy() {
			n++
		}
	}
	return n
}

// Effect is what an event asks of the UI beyond re-rendering.
type Effect struct {
	// Notify is a desktop notification to send, or nil.
	Notify *Note
	// Reload asks for a fresh user list: a user the table does not know
	// appeared, or events were lost.
	Reload bool
	// Resync asks the reload to take every server's state from the
	// list too, because events were lost.
	Resync bool
	// Logs asks to fetch the selected user's logs again.
	Logs bool
}

// Note is a desktop notification.
type Note struct{ Title, Content string }

// Apply folds one event into s. Notifications go out only for changes of
// phase, so the spawner's and the hub's reports of the same change notify
// once: when the owner's server is ready, and when any server fails to
// start. A class starting at once would otherwise bury the laptop in
// "ready" notices that nobody at it needs.
func (s *State) Apply(e hub.Event) Effect {
	var eff Effect
	if s.lastSeq != 0 && e.Seq > s.lastSeq+1 {
		// The subscription dropped events: the table may be stale.
		eff.Reload, eff.Resync = true, true
	}
	if e.Seq > s.lastSeq {
		s.lastSeq = e.Seq
	}
	if e.Kind == hub.EventImageProgress {
		s.applyImage(e)
	}
	if e.Kind == hub.EventNotice {
		s.Notice, s.NoticeFailed = e.Message, e.Failed
	}
	if e.Kind == hub.EventImageChanged {
		// Whether the engine holds it is the doctor's to say again.
		s.Image = ImageStatus{Ref: e.Image}
		s.Notice, s.NoticeFailed = e.Message, false
	}
	if e.User == "" {
		return eff
	}
	r := s.Row(e.User)
	if r == nil {
		// A user added or deleted elsewhere (web admin, CLI).
		eff.Reload = true
		return eff
	}
	if e.User == s.Selected && e.Kind == hub.EventServerState {
		eff.Logs = true
	}
	switch e.Kind {
	case hub.EventServerState:
		p, ok := phaseOfState(e.State)
		if !ok {
			break
		}
		was := r.Phase
		r.Phase = p
		switch p {
		case ServerFailed:
			r.Detail = e.Message
		case ServerReady, ServerStopped:
			r.Detail, r.Progress = "", 0
		}
		if p != ServerReady {
			r.HasStats = false
		}
		if p == was {
			break
		}
		switch {
		case p == ServerReady && r.Name == s.Owner:
			eff.Notify = &Note{Title: "Your notebook is ready", Content: "Choose Open my notebook in the classhub menu."}
		case p == ServerFailed && r.Name == s.Owner:
			eff.Notify = &Note{Title: "Your notebook could not start", Content: firstLine(e.Message)}
		case p == ServerFailed:
			eff.Notify = &Note{Title: r.Name + "'s server could not start", Content: firstLine(e.Message)}
		}
	case hub.EventSpawnProgress:
		if !e.Failed && e.Progress < 100 && r.Phase != ServerReady {
			r.Phase = ServerStarting
		}
		r.Detail, r.Progress = e.Message, e.Progress
	case hub.EventActivity:
		if e.Time.After(r.LastActivity) {
			r.LastActivity = e.Time
		}
	}
	return eff
}

func (s *State) applyImage(e hub.Event) {
	im := &s.Image
	im.Detail = e.Message
	switch {
	case e.Failed:
		im.Busy = false
	case e.Progress >= 100:
		im.Busy, im.Checked, im.Present, im.Progress = false, true, true, 1
	default:
		im.Busy = true
		im.Progress = -1
		if e.Total > 0 {
			im.Progress = float64(e.Current) / float64(e.Total)
		} else if e.Progress >= 0 {
			im.Progress = float64(e.Progress) / 100
		}
	}
}

// SetUsers merges a user list into s. With full, every row takes the
// list's server state; otherwise only new rows do, because a list fetched
// in the background can be older than the events applied since.
func (s *State) SetUsers(list []hub.UserStatus, full bool) {
	rows := make([]UserRow, 0, len(list))
	for _, u := range list {
		r := UserRow{Name: u.Name, Admin: u.Admin}
		r.Phase, r.Detail = phaseOfStatus(u.Server)
		r.LastActivity = u.LastActivity
		if u.Server.LastActivity.After(r.LastActivity) {
			r.LastActivity = u.Server.LastActivity
		}
		if old := s.Row(u.Name); old != nil {
			r.Stats, r.HasStats = old.Stats, old.HasStats
			if old.LastActivity.After(r.LastActivity) {
				r.LastActivity = old.LastActivity
			}
			if !full {
				r.Phase, r.Detail, r.Progress = old.Phase, old.Detail, old.Progress
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b UserRow) int { return strings.Compare(a.Name, b.Name) })
	s.Users = rows
}

// SetDoctor records a doctor report; its image line says whether the
// image is there.
func (s *State) SetDoctor(r hub.DoctorReport) {
	s.Doctor = &r
	for _, c := range r.Checks {
		if c.Name == "image" && !s.Image.Busy {
			s.Image.Checked, s.Image.Present, s.Image.Detail = true, c.OK, c.Detail
		}
	}
}

// Trouble is the doctor's first failed check, if any.
func (s *State) Trouble() (hub.DoctorCheck, bool) {
	if s.Doctor == nil {
		return hub.DoctorCheck{}, false
	}
	for _, c := range s.Doctor.Checks {
		if !c.OK {
			return c, true
		}
	}
	return hub.DoctorCheck{}, false
}

// DoctorLine returns the detail of the named check, "" when it did not run.
func (s *State) DoctorLine(name string) (hub.DoctorCheck, bool) {
	if s.Doctor == nil {
		return hub.DoctorCheck{}, false
	}
	for _, c := range s.Doctor.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return hub.DoctorCheck{}, false
}

func phaseOfState(state string) (ServerPhase, bool) {
	switch hub.ContainerState(state) {
	case hub.StateStarting:
		return ServerStarting, true
	case hub.StateRunning:
		return ServerReady, true
	case hub.StateStopping:
		return ServerStopping, true
	case hub.StateStopped, hub.StateMissing, hub.StateBroken:
		return ServerStopped, true
	case hub.StateFailed:
		return ServerFailed, true
	}
	return 0, false
}

func phaseOfStatus(st hub.ServerStatus) (ServerPhase, string) {
	switch {
	case st.Pending == hub.PendingSpawn:
		return ServerStarting, ""
	case st.Pending == hub.PendingStop:
		return ServerStopping, ""
	case st.Ready:
		return ServerReady, ""
	case st.Failed != "":
		return ServerFailed, st.Failed
	}
	return ServerStopped, ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
