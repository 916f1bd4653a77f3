package api

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/sse"
	"github.com/classhub/classhub/hub/store"
)

// self is GET /hub/api/user: the caller's model, their scopes, and the
// session the credential came through. session_id is the session's
// non-secret handle, never its login cookie: every server a user opens
// asks this with the token it got for them, and logs the answer.
func (a *API) self(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	us, err := a.userStatus(r, p.User.Name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// Every caller may read their own name and groups; the scopes they
	// list are their own, which the singleuser server checks access with.
	view := p
	view.Scopes = scopes.WithIdentify(p.Scopes, p.User.Name)
	model := a.userModel(r, view, us, false)
	model["scopes"] = scopes.Sorted(p.Scopes)
	model["session_id"] = nilIfEmpty(p.Token.SessionID)
	if p.ViaSession() {
		model["session_id"] = p.Session.ID
	}
	if p.Token.ID != 0 {
		model["token_id"] = p.Token.APIID()
	}
	writeJSON(w, http.StatusOK, model)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *API) startServer(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "servers", name) {
		return
	}
	s, err := a.hub.Start(r.Context(), name)
	switch {
	case errors.Is(err, core.ErrNoSuchUser):
		writeError(w, http.StatusNotFound, "no such user: "+name)
	case errors.Is(err, core.ErrAlreadyRunning):
		writeError(w, http.StatusBadRequest, name+"'s server is already running")
	case errors.Is(err, core.ErrPending):
		writeError(w, http.StatusBadRequest, name+"'s server is stopping; start it again when it has stopped")
	case errors.Is(err, core.ErrCancelled):
		writeError(w, http.StatusBadRequest, name+"'s start was cancelled by a stop; start it again if you still want it")
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	case s.Failed != "" && !s.Ready && s.Pending == "":
		writeError(w, http.StatusInternalServerError, "Spawn failed: "+s.Failed)
	case s.Ready:
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (a *API) stopServer(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "delete:servers", name) {
		return
	}
	var body struct {
		Remove bool `json:"remove"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// A pending start is cancelled and the stop waits for it, so 204
	// means stopped; 202 means another request's stop is still under way,
	// as JupyterHub answers for a stop already pending.
	err := a.hub.Stop(r.Context(), name, body.Remove)
	if errors.Is(err, core.ErrPending) {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeNoContent(w, name, err)
}

// writeNoContent answers a hub operation on name: 204 when it worked, else
// the status its error calls for.
func writeNoContent(w http.ResponseWriter, name string, err error) {
	switch {
	case errors.Is(err, core.ErrNoSuchUser):
		writeError(w, http.StatusNotFound, "no such user: "+name)
	case errors.Is(err, core.ErrPending):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// progressEvent is one line of the progress stream, in JupyterHub's shape.
type progressEvent struct {
	Progress    int    `json:"progress"`
	Message     string `json:"message"`
	Ready       bool   `json:"ready,omitempty"`
	Failed      bool   `json:"failed,omitempty"`
	URL         string `json:"url,omitempty"`
	HTMLMessage string `json:"html_message,omitempty"`
	// Kind, Current and Total add what a progress bar needs for image
	// pulls, Phase and Reason what a page needs to follow the start
	// without reading messages (a cancelled start is failed, reason
	// "cancelled"); JupyterHub clients ignore them.
	Kind    string `json:"kind,omitempty"`
	Current int64  `json:"current,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func toProgress(name string, e events.Event) progressEvent {
	pe := progressEvent{Progress: e.Progress, Message: e.Message, Failed: e.Failed, Kind: string(e.Kind),
		Current: e.Current, Total: e.Total, Phase: string(e.Phase), Reason: string(e.Reason)}
	if e.State == "ready" {
		pe.Ready, pe.URL = true, core.URL(name)
		pe.HTMLMessage = fmt.Sprintf(`Server ready at <a href="%s">%s</a>`, html.EscapeString(pe.URL), html.EscapeString(pe.URL))
	}
	return pe
}

// progress streams a spawn's steps as server-sent events, ending with a
// ready or failed event. Nothing is polled: each write waits for the hub
// to record a new step.
func (a *API) progress(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "read:servers", name) {
		return
	}
	s, err := a.hub.Status(r.Context(), name)
	if errors.Is(err, core.ErrNoSuchUser) {
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	}
	evs, _, _ := a.hub.Progress(name, 0)
	if s.Pending != core.PendingSpawn && !s.Ready && len(evs) == 0 {
		writeError(w, http.StatusBadRequest, name+"'s server is not starting")
		return
	}
	release, ok := a.openStream(w, p)
	if !ok {
		return
	}
	defer release()
	stream := sse.Open(w)
	if s.Ready && s.Pending == "" {
		stream.Send(toProgress(name, events.Event{Progress: 100, State: "ready", Message: "Server ready at " + core.URL(name)}))
		return
	}
	keep := time.NewTicker(a.keepAlive)
	defer keep.Stop()
	next := 0
	for {
		evs, more, finished := a.hub.Progress(name, next)
		next += len(evs)
		for _, e := range evs {
			pe := toProgress(name, e)
			if err := stream.Send(pe); err != nil || pe.Ready || pe.Failed {
				return
			}
		}
		if finished && len(evs) == 0 {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-more:
		case <-keep.C:
			if stream.KeepAlive() != nil {
				return
			}
		}
	}
}

// activity records what a server reports. It is accepted while the
// server is still starting: the singleuser server posts once before the
// hub has seen it answer.
func (a *API) activity(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !a.allow(w, p, "users:activity", name) {
		return
	}
	var body struct {
		LastActivity *string `json:"last_activity"`
		Servers      map[string]struct {
			LastActivity *string `json:"last_activity"`
		} `json:"servers"`
	}
	if err := readJSON(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.LastActivity == nil && body.Servers == nil {
		writeError(w, http.StatusBadRequest, "give last_activity or servers")
		return
	}
	now := time.Now()
	parse := func(s *string) (time.Time, error) {
		if s == nil {
			return time.Time{}, errors.New("missing last_activity")
		}
		t, err := parseISOTime(*s)
		if err != nil {
			return t, err
		}
		if t.After(now.Add(59 * time.Minute)) {
			return t, fmt.Errorf("last_activity %s is in the future", *s)
		}
		return t, nil
	}
	if _, err := a.store.GetUser(r.Context(), name); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such user: "+name)
		return
	}
	for server, v := range body.Servers {
		if server != "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("No such server %q for user %s", server, name))
			return
		}
		t, err := parse(v.LastActivity)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		err = a.store.RecordActivity(r.Context(), name, server, t)
		if errors.Is(err, store.ErrNotFound) {
			// Every user has a default server in JupyterHub's model, even
			// before its first start is recorded.
			err = a.store.RecordUserActivity(r.Context(), name, t)
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if body.LastActivity != nil {
		t, err := parse(body.LastActivity)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := a.store.RecordUserActivity(r.Context(), name, t); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	a.hub.Bus().Publish(events.Event{Kind: events.Activity, User: name})
	w.WriteHeader(http.StatusOK)
}

// parseISOTime reads the timestamps servers send: ISO 8601 with or
// without fraction, zone or "Z" (naive times are UTC, as in JupyterHub).
func parseISOTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("last_activity %q is not an ISO 8601 time", s)
}
