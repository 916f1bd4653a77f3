// Package spawnertest provides a Spawner and a Router that run nothing, for
// testing the hub's own logic (core, the API, the pages) without Docker.
// The Docker spawner has its own tests on the real engine.
package spawnertest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
)

// Spawner starts servers at once, unless a user's start is held or set to
// fail. Its zero value is not usable; call New.
type Spawner struct {
	// Target is the address every started server gets.
	Target string
	// Adoptees is what Adopt returns.
	Adoptees []spawner.Server
	// KeepTokens makes Status report the API token a container was
	// started with, as the Docker spawner reads it from a kept
	// container, so the hub may start it again with the same token.
	KeepTokens bool
	// Mode is how the servers run; ModeServer servers get the Jupyter
	// token the Docker spawner derives from their start's secret.
	Mode spawner.Mode
	// Local is the engine's notebook images, as LocalImages lists them;
	// HasImage finds their refs. Set it before the hub uses the Spawner.
	Local []image.Local

	mu       sync.Mutex
	activity map[string]time.Time
	image    string            // what SetImage set
	images   map[string]string // each user's server's image, as started
	gates    map[string]chan struct{}
	stops    map[string]chan struct{}
	fails    map[string]error
	running  map[string]bool
	tokens   map[string]string
	starts   map[string]int
	requests []spawner.StartRequest
	volumes  map[string]spawner.Volume // by name
	mounted  map[string]string         // the volume of each user's container
	// report is what Watch was given; watching is closed once it is.
	report   func(events.Event)
	watching chan struct{}
	// logs and stats are what Logs and Stats answer.
	logs  map[string]string
	stats map[string]spawner.Stats
}

// New returns a Spawner whose servers are at http://127.0.0.1:9.
func New() *Spawner {
	return &Spawner{Target: "http://127.0.0.1:9", gates: map[string]chan struct{}{}, stops: map[string]chan struct{}{},
		fails: map[string]error{}, running: map[string]bool{}, tokens: map[string]string{}, starts: map[string]int{},
		volumes: map[string]spawner.Volume{}, mounted: map[string]string{},
		images: map[string]string{}, watching: make(chan struct{})}
}

var _ spawner.Spawner = (*Spawner)(nil)

// Hold makes user's next starts wait until release is called.
func (f *Spawner) Hold(user string) (release func()) { return f.gate(f.gates, user) }

// HoldStop makes user's next stops wait until release is called.
func (f *Spawner) HoldStop(user string) (release func()) { return f.gate(f.stops, user) }

func (f *Spawner) gate(m map[string]chan struct{}, user string) func() {
	ch := make(chan struct{})
	f.mu.Lock()
	m[user] = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			delete(m, user)
			f.mu.Unlock()
			close(ch)
		})
	}
}

// FailWith makes user's starts fail with err; nil makes them succeed.
func (f *Spawner) FailWith(user string, err error) {
	f.mu.Lock()
	f.fails[user] = err
	f.mu.Unlock()
}

// Starts counts user's starts.
func (f *Spawner) Starts(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[user]
}

// Requests returns every start request so far.
func (f *Spawner) Requests() []spawner.StartRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]spawner.StartRequest(nil), f.requests...)
}

// Progress reports e through the Progress of user's latest start, as the
// Docker spawner reports a start's steps and the image pulls it waits
// for. It waits up to 10 s for such a start to reach the spawner.
func (f *Spawner) Progress(user string, e events.Event) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		var progress func(events.Event)
		for _, r := range f.requests {
			if r.User == user {
				progress = r.Progress
			}
		}
		f.mu.Unlock()
		if progress != nil {
			progress(e)
			return
		}
	}
	panic("spawnertest: no start of " + user + " to report progress to")
}

// Outside reports e through Watch, as the Docker spawner reports a
// container that changed behind the hub's back. It waits for the hub to
// call Watch (its Boot does).
func (f *Spawner) Outside(e events.Event) {
	<-f.watching
	f.mu.Lock()
	report := f.report
	f.mu.Unlock()
	report(e)
}

// Start implements spawner.Spawner.
func (f *Spawner) Start(ctx context.Context, req spawner.StartRequest) (spawner.Server, error) {
	f.mu.Lock()
	f.starts[req.User]++
	f.requests = append(f.requests, req)
	gate, err := f.gates[req.User], f.fails[req.User]
	f.mu.Unlock()
	if req.Progress != nil {
		req.Progress(events.Event{Kind: events.SpawnProgress, User: req.User, Progress: 10, Phase: events.PhaseStarting,
			Message: "Starting container"})
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return spawner.Server{}, ctx.Err()
		}
	}
	if err != nil {
		return spawner.Server{}, err
	}
	f.mu.Lock()
	f.running[req.User] = true
	f.tokens[req.User] = req.APIToken
	f.images[req.User] = f.image
	name, ok := f.accountVolume(req.User, req.Account)
	if !ok {
		name = spawner.VolumeName(req.User)
		if req.Account.Key != "" {
			name = spawner.AccountVolumeName(req.User, req.Account.Key)
		}
		f.volumes[name] = spawner.Volume{Name: name, User: req.User, Account: req.Account.Key, Created: time.Now()}
	}
	f.mounted[req.User] = name
	f.mu.Unlock()
	s := f.server(req.User, spawner.StateRunning, f.Target, req.APIToken)
	s.Image = f.image
	return s, nil
}

// server is user's server as the Docker spawner would describe it.
func (f *Spawner) server(user string, st spawner.State, target, token string) spawner.Server {
	s := spawner.Server{User: user, State: st, Target: target, APIToken: token, Mode: f.Mode}
	if f.Mode == spawner.ModeServer {
		s.APIToken = ""
		if token != "" {
			s.JupyterToken = spawner.JupyterToken(token)
		}
	}
	return s
}

// SetRunning makes user's server run, as a container the hub adopts.
func (f *Spawner) SetRunning(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running[user] = true
}

// SetActivity makes user's server report t as its own last activity.
func (f *Spawner) SetActivity(user string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.activity == nil {
		f.activity = map[string]time.Time{}
	}
	f.activity[user] = t
}

// ServerActivity implements spawner.Spawner: what SetActivity set for a
// running ModeServer server.
func (f *Spawner) ServerActivity(ctx context.Context, user string) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running[user] {
		return time.Time{}, spawner.ErrNotRunning
	}
	if f.Mode != spawner.ModeServer {
		return time.Time{}, nil
	}
	return f.activity[user], nil
}

// Stop implements spawner.Spawner; it is also how a test plays someone
// running `docker stop` behind the hub's back.
func (f *Spawner) Stop(ctx context.Context, user string) error {
	f.mu.Lock()
	gate := f.stops[user]
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running[user] {
		return spawner.ErrNotRunning
	}
	f.running[user] = false
	return nil
}

// Delete implements spawner.Spawner.
func (f *Spawner) Delete(ctx context.Context, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, user)
	delete(f.tokens, user)
	delete(f.images, user)
	return nil
}

// DeleteData implements spawner.Spawner: it removes the volume of acct,
// refusing while user's container exists.
func (f *Spawner) DeleteData(ctx context.Context, user string, acct spawner.Account) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name, ok := f.accountVolume(user, acct)
	if !ok {
		return nil
	}
	if _, exists := f.running[user]; exists {
		return fmt.Errorf("delete %s's files: their server container still exists: delete the server first: %w", user, spawner.ErrInUse)
	}
	delete(f.volumes, name)
	return nil
}

// accountVolume is the name of acct's volume; f.mu is held.
func (f *Spawner) accountVolume(user string, acct spawner.Account) (string, bool) {
	for name, v := range f.volumes {
		if acct.Key != "" && v.Account == acct.Key || acct.Key == "" && v.Account == "" && v.User == user {
			return name, true
		}
	}
	return "", false
}

// AddVolume plays a volume in the engine, such as one an older classhub
// made (an empty Account).
func (f *Spawner) AddVolume(v spawner.Volume) {
	f.mu.Lock()
	f.volumes[v.Name] = v
	f.mu.Unlock()
}

// Volumes implements spawner.Spawner.
func (f *Spawner) Volumes(ctx context.Context) ([]spawner.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]spawner.Volume, 0, len(f.volumes))
	for _, v := range f.volumes {
		if _, exists := f.running[v.User]; exists && v.Name == f.mounted[v.User] {
			v.Containers = []string{spawner.ContainerName(v.User)}
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteVolume implements spawner.Spawner.
func (f *Spawner) DeleteVolume(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return fmt.Errorf("delete volume %s: there is no volume %s", name, name)
	}
	if _, exists := f.running[v.User]; exists && f.mounted[v.User] == name {
		return fmt.Errorf("delete volume %s: it is in use by a container: %w", name, spawner.ErrInUse)
	}
	delete(f.volumes, name)
	return nil
}

// RestoreVolume implements spawner.Spawner.
func (f *Spawner) RestoreVolume(ctx context.Context, name, user string, acct spawner.Account) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return fmt.Errorf("restore volume %s: there is no volume %s", name, name)
	}
	if _, exists := f.running[user]; exists {
		return fmt.Errorf("restore volume %s to %s: %s has a server container: %w", name, user, user, spawner.ErrInUse)
	}
	if have, ok := f.accountVolume(user, acct); ok {
		return fmt.Errorf("restore volume %s to %s: %s has files already (volume %s): %w", name, user, user, have, spawner.ErrHasFiles)
	}
	delete(f.volumes, name)
	dst := spawner.AccountVolumeName(user, acct.Key)
	f.volumes[dst] = spawner.Volume{Name: dst, User: user, Account: acct.Key, Created: v.Created}
	return nil
}

// Status implements spawner.Spawner.
func (f *Spawner) Status(ctx context.Context, user string) (spawner.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	running, exists := f.running[user]
	var token string
	if f.KeepTokens {
		token = f.tokens[user]
	}
	switch {
	case running:
		return f.server(user, spawner.StateRunning, f.Target, token), nil
	case exists:
		return f.server(user, spawner.StateStopped, "", token), nil
	}
	return spawner.Server{User: user, State: spawner.StateMissing}, nil
}

// SetLogs makes Logs answer text for user's server.
func (f *Spawner) SetLogs(user, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.logs == nil {
		f.logs = map[string]string{}
	}
	f.logs[user] = text
}

// Logs implements spawner.Spawner: what SetLogs set.
func (f *Spawner) Logs(ctx context.Context, user string, tail int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs[user], nil
}

// SetStats makes Stats answer s for user's server while it runs.
func (f *Spawner) SetStats(user string, s spawner.Stats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stats == nil {
		f.stats = map[string]spawner.Stats{}
	}
	f.stats[user] = s
}

// Stats implements spawner.Spawner: what SetStats set, for a running
// server.
func (f *Spawner) Stats(ctx context.Context, user string) (spawner.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running[user] {
		return spawner.Stats{}, spawner.ErrNotRunning
	}
	return f.stats[user], nil
}

// List implements spawner.Spawner: every server started, with the image
// it was started with.
func (f *Spawner) List(ctx context.Context) ([]spawner.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []spawner.Server
	for user, running := range f.running {
		st := spawner.StateStopped
		if running {
			st = spawner.StateRunning
		}
		out = append(out, spawner.Server{User: user, State: st, Image: f.images[user]})
	}
	slices.SortFunc(out, func(a, b spawner.Server) int { return strings.Compare(a.User, b.User) })
	return out, nil
}

// Adopt implements spawner.Spawner.
func (f *Spawner) Adopt(ctx context.Context) ([]spawner.Server, error) { return f.Adoptees, nil }

// Watch implements spawner.Spawner: it reports what Outside is given.
func (f *Spawner) Watch(ctx context.Context, report func(events.Event)) error {
	f.mu.Lock()
	first := f.report == nil
	f.report = report
	f.mu.Unlock()
	if first {
		close(f.watching)
	}
	<-ctx.Done()
	return ctx.Err()
}

// Prepull implements spawner.Spawner.
func (f *Spawner) Prepull(ctx context.Context) error { return nil }

// SetImage implements spawner.Spawner: the starts from now on record ref
// as their server's image.
func (f *Spawner) SetImage(ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.image = ref
}

// Image is what SetImage last set.
func (f *Spawner) Image() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.image
}

// HasImage implements spawner.Spawner: the refs of Local are in the
// engine.
func (f *Spawner) HasImage(ctx context.Context, ref string) (bool, error) {
	return slices.ContainsFunc(f.Local, func(l image.Local) bool { return l.Ref == ref }), nil
}

// LocalImages implements spawner.Spawner.
func (f *Spawner) LocalImages(ctx context.Context) ([]image.Local, error) { return f.Local, nil }

// Router is the proxy's route table, recorded.
type Router struct {
	mu     sync.Mutex
	routes map[string]string
	tokens map[string]string
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{routes: map[string]string{}, tokens: map[string]string{}} }

// SetRoute implements core.Router.
func (r *Router) SetRoute(user string, target *url.URL) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[user] = target.String()
	delete(r.tokens, user)
}

// SetGuardedRoute implements core.Router.
func (r *Router) SetGuardedRoute(user string, target *url.URL, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[user] = target.String()
	r.tokens[user] = token
}

// RemoveRoute implements core.Router.
func (r *Router) RemoveRoute(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.routes, user)
	delete(r.tokens, user)
}

// GuardToken returns the token user's guarded route adds, "" when the
// route is not guarded.
func (r *Router) GuardToken(user string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tokens[user]
}

// Route returns user's target, "" for none.
func (r *Router) Route(user string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.routes[user]
}
