package app

import (
	"fmt"

	"github.com/classhub/classhub/classclient"
)

// ClassPhase is where the learner's server on the current class hub is,
// as the tray shows it.
type ClassPhase int

// Class phases.
const (
	// ClassChecking: the hub has not answered yet since the class became
	// current.
	ClassChecking ClassPhase = iota
	ClassStopped
	ClassStarting
	ClassReady
	ClassStopping
	// ClassUnreachable: the hub does not answer, answers 5xx, or is no
	// hub; Class.Detail says which and what to do.
	ClassUnreachable
	// ClassExpired: the hub refused the app's token (expired, revoked).
	ClassExpired
	// ClassFailed: the hub reported that the start failed.
	ClassFailed
)

func (p ClassPhase) String() string {
	switch p {
	case ClassChecking:
		return "checking…"
	case ClassStarting:
		return "starting…"
	case ClassReady:
		return "ready"
	case ClassStopping:
		return "stopping…"
	case ClassUnreachable:
		return "hub unreachable"
	case ClassExpired:
		return "login expired"
	case ClassFailed:
		return "failed to start"
	}
	return "stopped"
}

// Trouble reports whether the phase is a failure a Retry may mend.
func (p ClassPhase) Trouble() bool {
	return p == ClassUnreachable || p == ClassExpired || p == ClassFailed
}

// ClassEntry is one joined class hub in the tray's list of hubs.
type ClassEntry struct{ Name, URL string }

// Class is the current class hub, and the learner's server on it, as the
// tray and the class panel show it. Its methods fold what the hub answered
// into it, returning the notification to send, if any.
type Class struct {
	Name, URL, User string
	Phase           ClassPhase
	// Progress is the current start's percentage.
	Progress int
	// Detail is the current start's last step, or the sentence that says
	// what went wrong and what to do.
	Detail string
	// ServerURL is the server's address while it is ready.
	ServerURL string
	// Opening is true while "Open my notebook" waits for the server.
	Opening bool
	// Stopping says this app asked the hub to stop the server, so that
	// the stop is not taken for the hub's culling it.
	Stopping bool
}

// SetServer folds a poll of the server's state into c. A server that went
// from ready (perhaps through stopping) to stopped without this app
// stopping it was culled (the
// hub's idle culler, or the instructor): that is worth a notification, as
// is a server becoming ready.
func (c *Class) SetServer(s classclient.Server) *Note {
	was := c.Phase
	switch {
	case s.State == classclient.Ready:
		c.Phase, c.ServerURL, c.Progress = ClassReady, s.URL, 0
	case s.State == classclient.Pending && s.Pending == "stop":
		c.Phase = ClassStopping
	case s.State == classclient.Pending:
		c.Phase = ClassStarting
	case was == ClassStarting && !c.Stopping:
		// A start the hub has not taken up yet, or the moment between
		// POST and pending: the progress stream says how it ends.
		return nil
	case was == ClassFailed:
		// A failed start leaves the server stopped; the failure stays
		// shown until the next start.
		c.ServerURL = ""
		return nil
	default:
		c.Phase, c.ServerURL, c.Progress = ClassStopped, "", 0
	}
	if c.Phase != ClassStarting && c.Phase != ClassFailed {
		c.Detail = ""
	}
	// The hub's own stop may be seen on its way (JupyterHub 3.0 takes
	// seconds): stopping is not this app's unless it asked.
	culled := (was == ClassReady || was == ClassStopping) && c.Phase == ClassStopped && !c.Stopping
	if c.Phase == ClassStopped {
		c.Stopping = false
	}
	switch {
	case culled:
		return &Note{Title: "Your notebook server on " + c.Name + " was stopped",
			Content: "The class hub stopped it, perhaps after it sat idle. Choose Start my server in the classhub menu to start it again."}
	case c.Phase == ClassReady && was != ClassReady && was != ClassChecking && !was.Trouble():
		return readyNote(c.Name)
	}
	return nil
}

func readyNote(name string) *Note {
	return &Note{Title: "Your notebook on " + name + " is ready", Content: "Choose Open my notebook in the classhub menu."}
}

// SetProgress folds one step of a start from the hub's progress stream
// into c.
func (c *Class) SetProgress(e classclient.Event) *Note {
	was := c.Phase
	switch {
	case e.Ready:
		c.Phase, c.ServerURL, c.Progress, c.Detail = ClassReady, e.URL, 0, ""
		if was != ClassReady {
			return readyNote(c.Name)
		}
	case e.Failed:
		// SetError takes the stream's StartFailed error.
	default:
		if c.Phase != ClassStopping {
			c.Phase = ClassStarting
		}
		c.Progress, c.Detail = e.Progress, e.Message
	}
	return nil
}

// SetError folds a failed call to the hub into c. The notification goes
// out when the trouble starts, not at every poll that finds it again.
func (c *Class) SetError(err error) *Note {
	if c.Stopping && classclient.KindOf(err) == classclient.StartFailed {
		// The stop this app asked for cut the start short.
		return nil
	}
	was := c.Phase
	c.Detail, c.Progress = err.Error(), 0
	switch classclient.KindOf(err) {
	case classclient.Refused:
		c.Phase = ClassExpired
	case classclient.StartFailed:
		c.Phase = ClassFailed
	case classclient.Unreachable, classclient.HubFailed, classclient.NotHub:
		c.Phase = ClassUnreachable
	default:
		// A refusal of one action (a 400, a bad answer): the server is
		// where it was; the sentence says what happened.
		return &Note{Title: "classhub: " + c.Name, Content: err.Error()}
	}
	c.Opening, c.Stopping = false, false
	if c.Phase == was {
		return nil
	}
	switch c.Phase {
	case ClassExpired:
		return &Note{Title: "Your login to " + c.Name + " expired", Content: "Choose Log in again in the classhub menu."}
	case ClassFailed:
		return &Note{Title: "Your notebook on " + c.Name + " could not start", Content: firstLine(err.Error())}
	}
	return &Note{Title: c.Name + " does not answer", Content: firstLine(err.Error())}
}

// IconPhase is the phase the tray icon shows: this laptop's hub's, or,
// while a class hub is current, the learner's server there in the same
// colours (running when ready, starting while it starts or is checked,
// error on trouble).
func (s *State) IconPhase() HubPhase {
	if s.Class == nil {
		return s.Hub
	}
	switch p := s.Class.Phase; {
	case p == ClassReady:
		return HubRunning
	case p == ClassStarting || p == ClassStopping || p == ClassChecking:
		return HubStarting
	case p.Trouble():
		return HubError
	}
	return HubStopped
}

// classStatus is the tray's first line while a class hub is current.
func classStatus(c *Class) string {
	if c.Phase == ClassStarting && c.Progress > 0 {
		return fmt.Sprintf("Class: starting… %d%%", c.Progress)
	}
	return "Class: " + c.Phase.String()
}
