package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Pending operations, as JupyterHub names them in the user model.
const (
	PendingSpawn = "spawn"
	PendingStop  = "stop"
)

// serverState is what the hub knows of one user's default server beyond
// the store: the operation in flight and the current spawn's progress.
type serverState struct {
	pending string
	ready   bool
	failed  string
	target  string
	started time.Time
	// done is closed when the pending operation ends. A start that Stop
	// cancels becomes that stop, so done closes once, when both are over.
	done chan struct{}
	// cancel interrupts the spawn in flight; spawnEnded is closed when its
	// goroutine has returned, and issued is the server token it issued.
	cancel     context.CancelFunc
	spawnEnded chan struct{}
	issued     issuedToken
	// secret is the server token of the last start. A plain Jupyter
	// server's container holds only a token derived from it (see
	// spawner.JupyterToken), so this is how a stopped one is known to
	// hold a token the hub still has.
	secret string
	// cancelling is set while Stop waits for the spawn it cancelled.
	cancelling bool
	// cancelledDone is the done channel of the last start Stop cancelled,
	// so a caller still waiting on it learns so even if a new start has
	// begun since.
	cancelledDone chan struct{}
	// progress holds the current spawn's steps; changed is closed and
	// replaced on every append, so progress readers never poll.
	progress []events.Event
	changed  chan struct{}
}

// ServerStatus is a user's default server as callers see it.
type ServerStatus struct {
	User    string
	Pending string
	Ready   bool
	// Failed is why the last start failed, "" if it did not.
	Failed string
	// Target is where the proxy forwards, e.g. http://172.18.0.5:8888.
	Target       string
	Started      time.Time
	LastActivity time.Time
}

// Active reports whether the server is running or on its way.
func (s ServerStatus) Active() bool { return s.Ready || s.Pending != "" }

// URL is the server's public path, escaped as JupyterHub does.
func URL(user string) string { return spawner.ServerPrefix(user) }

func (h *Lifecycle) state(name string) *serverState {
	st, ok := h.servers[name]
	if !ok {
		st = &serverState{changed: make(chan struct{})}
		h.servers[name] = st
	}
	return st
}

// Status returns a user's server status.
func (h *Lifecycle) Status(ctx context.Context, name string) (ServerStatus, error) {
	if _, err := h.user(ctx, name); err != nil {
		return ServerStatus{}, err
	}
	return h.status(ctx, name), nil
}

func (h *Lifecycle) status(ctx context.Context, name string) ServerStatus {
	h.mu.Lock()
	st := h.state(name)
	s := ServerStatus{User: name, Pending: st.pending, Ready: st.ready && st.pending == "", Failed: st.failed,
		Target: st.target, Started: st.started}
	h.mu.Unlock()
	if sv, err := h.store.GetServer(ctx, name, ""); err == nil {
		s.LastActivity = sv.LastActivity
	}
	return s
}

// Start begins starting name's server and waits up to the slow-spawn
// timeout for it. The returned status says whether it is ready or still
// pending; a pending start goes on in the background, reporting progress.
func (h *Lifecycle) Start(ctx context.Context, name string) (ServerStatus, error) {
	if _, err := h.user(ctx, name); err != nil {
		return ServerStatus{}, err
	}
	h.mu.Lock()
	st := h.state(name)
	switch {
	case st.pending == PendingStop || st.cancelling:
		h.mu.Unlock()
		return h.status(ctx, name), fmt.Errorf("start %s: %w (stopping)", name, ErrPending)
	case st.pending == PendingSpawn:
		done := st.done
		h.mu.Unlock()
		return h.waitStart(ctx, name, done)
	case st.ready:
		h.mu.Unlock()
		return h.status(ctx, name), fmt.Errorf("start %s: %w", name, ErrAlreadyRunning)
	}
	st.pending, st.failed, st.progress = PendingSpawn, "", nil
	st.done = make(chan struct{})
	done := st.done
	// The spawn lives as long as the hub, not the request, unless Stop
	// cancels it.
	sctx, cancel := context.WithCancel(h.ctx)
	ended := make(chan struct{})
	st.cancel, st.spawnEnded, st.issued = cancel, ended, issuedToken{}
	h.appendProgress(st, events.Event{Kind: events.SpawnProgress, User: name, Progress: 0, Phase: events.PhaseRequested,
		Message: "Server requested"})
	h.mu.Unlock()
	h.bus.Publish(events.Event{Kind: events.ServerState, User: name, State: string(spawner.StateStarting), Message: "Server requested"})
	h.noteFailure(name, h.recordPending(ctx, name, PendingSpawn))

	h.goBackground(func(context.Context) {
		defer close(ended)
		defer cancel()
		h.spawn(sctx, name, done)
	})
	return h.waitStart(ctx, name, done)
}

// waitStart waits up to the slow-spawn timeout for the start whose done
// channel is done, and says if a stop cancelled it meanwhile, which would
// otherwise look like a start still under way.
func (h *Lifecycle) waitStart(ctx context.Context, name string, done chan struct{}) (ServerStatus, error) {
	t := time.NewTimer(h.slowSpawn)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	s := h.status(context.WithoutCancel(ctx), name)
	select {
	case <-done:
	default:
		return s, nil // still under way
	}
	h.mu.Lock()
	cancelled := h.state(name).cancelledDone == done
	h.mu.Unlock()
	if cancelled {
		return s, fmt.Errorf("start %s: %w", name, ErrCancelled)
	}
	return s, nil
}

// Wait blocks until name's pending operation ends or ctx is done.
func (h *Lifecycle) Wait(ctx context.Context, name string) (ServerStatus, error) {
	h.mu.Lock()
	done := h.state(name).done
	h.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return h.status(context.WithoutCancel(ctx), name), ctx.Err()
		}
	}
	return h.status(ctx, name), nil
}

// stopBudget bounds a stop: the notebook server's shutdown grace, removal
// and the cancelled start giving up all fit well within it.
const stopBudget = 2 * time.Minute

// issuedToken is the API token a spawn gave its server.
type issuedToken struct {
	secret string
	id     int64
}

func (h *Lifecycle) spawn(ctx context.Context, name string, done chan struct{}) {
	sv, tok, err := h.launch(ctx, name, done)
	err = h.explainStart(ctx, err)
	started := time.Now().UTC()
	h.mu.Lock()
	st := h.state(name)
	st.issued = tok
	cancelling := st.cancelling
	h.mu.Unlock()
	// Record before answering: whoever waits on done reads the store. A
	// cancelled start leaves the record to Stop.
	switch {
	case cancelling:
	case err == nil:
		h.noteFailure(name, h.recordRunning(context.WithoutCancel(ctx), name, sv, started, tok.id))
	default:
		h.noteFailure(name, h.recordStopped(context.WithoutCancel(ctx), name))
	}

	h.mu.Lock()
	st.cancel = nil
	if st.cancelling {
		// Stop cancelled this start, maybe after it got this far, and
		// takes over: it stops whatever the start made, revokes its
		// token and closes done.
		st.pending, st.failed = PendingStop, ""
		h.appendProgress(st, events.Event{Kind: events.SpawnProgress, User: name, Progress: 100, Failed: true,
			Reason: events.ReasonCancelled, Message: "Start cancelled"})
		h.mu.Unlock()
		return
	}
	st.pending = ""
	if err != nil {
		st.failed, st.ready = err.Error(), false
		h.appendProgress(st, events.Event{Kind: events.SpawnProgress, User: name, Progress: 100, Failed: true,
			Reason: events.ReasonFailed, Message: "Spawn failed: " + err.Error()})
	} else {
		st.ready, st.target, st.started = true, sv.Target, started
		h.appendProgress(st, events.Event{Kind: events.SpawnProgress, User: name, Progress: 100, State: "ready",
			Phase: events.PhaseReady, Message: "Server ready at " + URL(name)})
	}
	close(done)
	h.mu.Unlock()

	if err != nil {
		h.bus.Publish(events.Event{Kind: events.ServerState, User: name, State: string(spawner.StateFailed), Failed: true,
			Reason: events.ReasonFailed, Message: err.Error()})
		return
	}
	h.bus.Publish(events.Event{Kind: events.ServerState, User: name, State: string(spawner.StateRunning), Message: "Server ready at " + URL(name)})
	h.measureIdle(name, started)
}

// launch opens the user's origin, issues the server's credentials, starts
// its container and routes it once it answers. The token it issued is
// returned even when the start fails, so that a cancelled start's token can
// be revoked. done identifies the start: the spawner reports its progress
// to it alone.
func (h *Lifecycle) launch(ctx context.Context, name string, done chan struct{}) (spawner.Server, issuedToken, error) {
	var tok issuedToken
	var err error
	if h.origins != nil {
		if err := h.origins.Open(ctx, name); err != nil {
			return spawner.Server{}, tok, err
		}
	}
	u, err := h.user(ctx, name)
	if err != nil {
		return spawner.Server{}, tok, err
	}
	tok.secret, tok.id, err = h.serverToken(ctx, name)
	if err != nil {
		return spawner.Server{}, tok, err
	}
	h.mu.Lock()
	port := h.hubPort
	h.mu.Unlock()
	sv, err := h.spawner.Start(ctx, spawner.StartRequest{User: name, Account: AccountOf(u), APIToken: tok.secret, HubPort: port,
		Progress: h.progressOf(name, done)})
	if err != nil {
		return sv, tok, err
	}
	target, err := url.Parse(sv.Target)
	if err != nil || target.Host == "" {
		return sv, tok, fmt.Errorf("start %s: the spawner gave no usable address (%q)", name, sv.Target)
	}
	h.route(name, target, sv)
	return sv, tok, nil
}

// route sends name's requests to sv at target: through the proxy's login
// when sv is a plain Jupyter server, which would otherwise let in anyone
// who has its token and no one else.
func (h *Lifecycle) route(name string, target *url.URL, sv spawner.Server) {
	if sv.Mode == spawner.ModeServer {
		h.router.SetGuardedRoute(name, target, sv.JupyterToken)
		return
	}
	h.router.SetRoute(name, target)
}

// serverScopes are JupyterHub 3.0's "server" role for the owner: report
// activity and let the owner in.
func serverScopes(name string) []string {
	role, _ := scopes.Role(scopes.RoleServer)
	s, _ := scopes.Resolve(role, scopes.Owner{User: name}) // a built-in role always parses
	return s
}

// OAuthClientID is the OAuth client of name's server (JUPYTERHUB_CLIENT_ID).
func OAuthClientID(name string) string { return spawner.ClientID(name) }

// OAuthCallback is the redirect_uri name's server sends.
func OAuthCallback(name string) string { return URL(name) + "oauth_callback" }

// serverToken returns the API token for name's server. A container that
// still holds a valid token (a plain server: one derived from the token
// this hub issued it) keeps it, so restarting a stopped container
// needs no recreate, unless an instructor reset the user since it was
// issued (whoever had the account may have read it in the container);
// otherwise a new token replaces the old ones, and the spawner recreates
// a container holding another. The server's OAuth client uses the token
// as its secret.
func (h *Lifecycle) serverToken(ctx context.Context, name string) (string, int64, error) {
	u, err := h.user(ctx, name)
	if err != nil {
		return "", 0, fmt.Errorf("start %s: %w", name, err)
	}
	var secret string
	var id int64
	if cur, err := h.spawner.Status(ctx, name); err == nil {
		held := cur.APIToken
		if cur.Mode == spawner.ModeServer {
			h.mu.Lock()
			last := h.state(name).secret
			h.mu.Unlock()
			if last != "" && spawner.JupyterToken(last) == cur.JupyterToken {
				held = last
			}
		}
		if tok, err := h.store.LookupToken(ctx, held); held != "" && err == nil && tok.User == name && tok.Kind == "server" &&
			tok.Created.After(u.Reset) {
			secret, id = held, tok.ID
		}
	}
	if secret == "" {
		var tok store.Token
		var err error
		secret, tok, err = h.store.CreateToken(ctx, store.TokenSpec{User: name, Kind: "server", Scopes: serverScopes(name),
			Note: "Server at " + URL(name)})
		if err != nil {
			return "", 0, fmt.Errorf("start %s: issue the server's token: %w", name, err)
		}
		id = tok.ID
	}
	// Old server tokens die with the containers that held them.
	toks, err := h.store.ListTokens(ctx, name)
	if err != nil {
		h.noteFailure(name, fmt.Errorf("could not list %s's old server tokens to revoke them: %w", name, err))
	}
	for _, t := range toks {
		if t.Kind != "server" || t.ID == id {
			continue
		}
		if err := h.store.DeleteToken(ctx, name, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.noteFailure(name, fmt.Errorf("could not revoke %s's old server token: %w", name, err))
		}
	}
	_, err = h.store.PutOAuthClient(ctx, store.OAuthClient{ID: OAuthClientID(name), RedirectURI: OAuthCallback(name),
		Owner: name, Description: "Server at " + URL(name), AllowedScopes: []string{scopes.ServerAccessScope(name, "")}}, secret)
	if err != nil {
		return "", 0, fmt.Errorf("start %s: register the server's OAuth client: %w", name, err)
	}
	h.mu.Lock()
	h.state(name).secret = secret
	h.mu.Unlock()
	return secret, id, nil
}

// Stop stops name's server and keeps its container for a quick restart.
// With remove, the container is deleted too (its work volume stays): the
// next start makes a fresh one from the current settings.
//
// A start still pending (queued behind other starts, or waiting for a slow
// image or server) is cancelled: Stop waits for it to give up, then stops
// what it made and revokes the token it issued unless a kept container
// holds it. Only a stop already under way makes Stop return ErrPending.
func (h *Lifecycle) Stop(ctx context.Context, name string, remove bool) error {
	if _, err := h.user(ctx, name); err != nil {
		return err
	}
	// A stop, and above all the cleanup after a cancelled start, must not
	// end halfway because the caller went away: a browser that leaves the
	// page would leave a container running with no route. It gets a budget
	// of its own instead, so a hung engine cannot keep the server
	// "stopping" (and the hub from closing) for ever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopBudget)
	defer cancel()
	h.mu.Lock()
	st := h.state(name)
	if st.pending == PendingStop || st.cancelling {
		h.mu.Unlock()
		return fmt.Errorf("stop %s: %w (%s)", name, ErrPending, PendingStop)
	}
	var spawnEnded chan struct{}
	if st.pending == PendingSpawn {
		st.cancelling, st.cancelledDone = true, st.done
		if st.cancel != nil {
			st.cancel()
		}
		spawnEnded = st.spawnEnded
	} else {
		st.pending = PendingStop
		st.done = make(chan struct{})
	}
	done := st.done
	h.mu.Unlock()
	stopping := events.Event{Kind: events.ServerState, User: name, State: string(spawner.StateStopping)}
	if spawnEnded != nil {
		stopping.Reason, stopping.Message = events.ReasonCancelling, "Cancelling the start"
	}
	h.bus.Publish(stopping)
	var issued issuedToken
	if spawnEnded != nil {
		// The spawner gives up as soon as its context ends, whether it is
		// queued, pulling or waiting for the server to answer.
		<-spawnEnded
		h.mu.Lock()
		issued = st.issued
		h.mu.Unlock()
	}
	h.noteFailure(name, h.recordPending(ctx, name, PendingStop))

	h.router.RemoveRoute(name)
	err := h.spawner.Stop(ctx, name)
	if errors.Is(err, spawner.ErrNotRunning) {
		err = nil
	}
	if err == nil && remove {
		err = h.spawner.Delete(ctx, name)
	}
	if perr := h.recordStopped(context.WithoutCancel(ctx), name); err == nil {
		err = perr
	} else {
		h.noteFailure(name, perr)
	}
	if issued.id != 0 {
		h.revokeUnheld(context.WithoutCancel(ctx), name, issued)
	}

	h.mu.Lock()
	st.pending, st.ready, st.target, st.started = "", false, "", time.Time{}
	st.cancelling, st.issued = false, issuedToken{}
	close(done)
	h.mu.Unlock()
	state := spawner.StateStopped
	if remove {
		state = spawner.StateMissing
	}
	stopped := events.Event{Kind: events.ServerState, User: name, State: string(state)}
	switch {
	case err != nil:
		stopped.Failed, stopped.Reason, stopped.Message = true, events.ReasonFailed, err.Error()
	case spawnEnded != nil:
		stopped.Reason, stopped.Message = events.ReasonCancelled, "Start cancelled"
	}
	h.bus.Publish(stopped)
	// The spawner's and the store's errors say what they were doing
	// ("stop alice: ...").
	return err
}

// revokeUnheld deletes the token a cancelled start issued unless the
// user's container holds it (a plain server: the token derived from it): a
// kept container restarts with its token, while a token no container holds
// would only be a live credential for nothing.
func (h *Lifecycle) revokeUnheld(ctx context.Context, name string, tok issuedToken) {
	if cur, err := h.spawner.Status(ctx, name); err == nil && cur.State != spawner.StateMissing &&
		(cur.APIToken == tok.secret || cur.Mode == spawner.ModeServer && cur.JupyterToken == spawner.JupyterToken(tok.secret)) {
		return
	}
	if err := h.store.DeleteToken(ctx, name, tok.id); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.bus.Publish(events.Event{Kind: events.Notice, User: name, Failed: true,
			Message: "could not revoke the token of " + name + "'s cancelled start: " + err.Error()})
	}
}

// DeleteData removes the work volume of name's account: every file in
// /home/jovyan/work is lost. The container must be deleted first.
func (h *Lifecycle) DeleteData(ctx context.Context, name string) error {
	u, err := h.user(ctx, name)
	if err != nil {
		return err
	}
	return h.spawner.DeleteData(ctx, name, AccountOf(u))
}

// Progress returns name's spawn progress from index from on, a channel
// closed when more arrives, and whether the spawn is over (or none is
// pending).
func (h *Lifecycle) Progress(name string, from int) (evs []events.Event, more <-chan struct{}, finished bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(name)
	if from < len(st.progress) {
		evs = append(evs, st.progress[from:]...)
	}
	finished = st.pending != PendingSpawn
	return evs, st.changed, finished
}

// progressOf is the Progress of name's start whose done channel is done.
// Its events count while that start is pending and no stop has cancelled
// it: a cancelled start, still giving up in the spawner, reports to a
// start nobody follows, never to the next one.
func (h *Lifecycle) progressOf(name string, done chan struct{}) func(events.Event) {
	return func(e events.Event) {
		e.User = name // an image pull serves every start waiting for it
		h.mu.Lock()
		st := h.state(name)
		if st.done != done || st.pending != PendingSpawn || st.cancelling {
			h.mu.Unlock()
			return
		}
		if e.Kind == events.SpawnProgress || e.Kind == events.ImageProgress {
			h.appendProgress(st, e)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		h.bus.Publish(e)
	}
}

// appendProgress records a step of the current spawn and publishes it. It
// is called with h.mu held. Progress never goes backwards: a pull's
// percentages restart per layer, the bar must not.
func (h *Lifecycle) appendProgress(st *serverState, e events.Event) {
	if n := len(st.progress); n > 0 && e.Progress < st.progress[n-1].Progress {
		e.Progress = st.progress[n-1].Progress
	}
	e = h.bus.Publish(e)
	st.progress = append(st.progress, e)
	close(st.changed)
	st.changed = make(chan struct{})
}

// recordRunning records in the store the server a start made, with the
// token it holds: a restarted hub adopts it from there.
func (h *Lifecycle) recordRunning(ctx context.Context, name string, sv spawner.Server, started time.Time, tokenID int64) error {
	rec, err := h.store.GetServer(ctx, name, "")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("could not record %s's server: %w", name, err)
	}
	state, err := json.Marshal(map[string]string{"container": sv.Container, "volume": sv.Volume, "id": sv.ID})
	if err != nil {
		return fmt.Errorf("could not record %s's server: %w", name, err)
	}
	rec.User, rec.Started, rec.URL, rec.Ready, rec.State, rec.TokenID, rec.Pending = name, started, sv.Target, true, state, tokenID, ""
	if _, err := h.store.PutServer(ctx, rec); err != nil {
		return fmt.Errorf("could not record %s's server: %w", name, err)
	}
	return nil
}

// recordStopped marks name's server stopped in the store, keeping its last
// activity for the dashboard and the culler.
func (h *Lifecycle) recordStopped(ctx context.Context, name string) error {
	old, err := h.store.GetServer(ctx, name, "")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("could not record that %s's server stopped: %w", name, err)
	}
	if _, err := h.store.PutServer(ctx, store.Server{User: name, LastActivity: old.LastActivity}); err != nil {
		return fmt.Errorf("could not record that %s's server stopped: %w", name, err)
	}
	return nil
}

// recordPending notes an operation in flight in the store, so listings
// filtered by state see it.
func (h *Lifecycle) recordPending(ctx context.Context, name, pending string) error {
	rec, err := h.store.GetServer(ctx, name, "")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("could not record %s's pending %s: %w", name, pending, err)
	}
	rec.User, rec.Pending = name, pending
	if _, err := h.store.PutServer(ctx, rec); err != nil {
		return fmt.Errorf("could not record %s's pending %s: %w", name, pending, err)
	}
	return nil
}

// noteFailure publishes err, if any, as a failed Notice about name: for
// store writes that must not stop what the hub is doing, yet must not go
// unheard.
func (h *Lifecycle) noteFailure(name string, err error) {
	if err != nil {
		h.bus.Publish(events.Event{Kind: events.Notice, User: name, Failed: true, Reason: events.ReasonFailed, Message: err.Error()})
	}
}
