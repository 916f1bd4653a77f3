package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// fakeHub is a hub in memory. It records every call on calls and
// publishes what the real hub would on its bus; tests finish starts with
// ready or fail.
type fakeHub struct {
	bus   *events.Bus
	owner string
	calls chan string

	mu     sync.Mutex
	users  map[string]*fakeUser
	closed bool
	logs   map[string]string
	stats  map[string]spawner.Stats
	links  int
	addErr error
	// question is what StartAllQuestion asks; capacity what Capacity says.
	question string
	capacity core.Capacity
}

type fakeUser struct {
	admin    bool
	activity time.Time
	status   core.ServerStatus
}

func newFakeHub(owner string, others ...string) *fakeHub {
	f := &fakeHub{bus: events.NewBus(64), owner: owner, calls: make(chan string, 100),
		users: map[string]*fakeUser{owner: {admin: true}}, logs: map[string]string{}, stats: map[string]spawner.Stats{}}
	for _, n := range others {
		f.users[n] = &fakeUser{}
	}
	return f
}

func (f *fakeHub) record(format string, args ...any) { f.calls <- fmt.Sprintf(format, args...) }

func (f *fakeHub) Serve(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeHub) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}
func (f *fakeHub) Bus() *events.Bus         { return f.bus }
func (f *fakeHub) Owner() string            { return f.owner }
func (f *fakeHub) ClassURL() string         { return "http://192.0.2.10:8000/" }
func (f *fakeHub) TLSFingerprint() string   { return "" }
func (f *fakeHub) Network() spawner.Network { return testNetwork }
func (f *fakeHub) PublicAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4zero, Port: 8000}
}
func (f *fakeHub) InternalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(172, 18, 0, 1), Port: 8081}
}

func (f *fakeHub) Users(ctx context.Context, opt store.ListOptions) ([]core.UserStatus, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.UserStatus
	for n, u := range f.users {
		st := u.status
		st.User = n
		out = append(out, core.UserStatus{User: store.User{Name: n, Admin: u.admin, LastActivity: u.activity}, Server: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, len(out), nil
}

func (f *fakeHub) Status(ctx context.Context, user string) (core.ServerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[user]
	if !ok {
		return core.ServerStatus{}, core.ErrNoSuchUser
	}
	return u.status, nil
}

// Start marks the server pending and publishes "starting"; ready or fail
// finish it.
func (f *fakeHub) Start(ctx context.Context, user string) (core.ServerStatus, error) {
	f.mu.Lock()
	u := f.users[user]
	var err error
	switch {
	case u == nil:
		err = core.ErrNoSuchUser
	case u.status.Ready:
		err = core.ErrAlreadyRunning
	default:
		u.status.Pending, u.status.Failed = core.PendingSpawn, ""
	}
	f.mu.Unlock()
	f.record("start %s", user)
	if err == nil {
		f.bus.Publish(events.Event{Kind: events.ServerState, User: user, State: string(spawner.StateStarting)})
	}
	return core.ServerStatus{User: user, Pending: core.PendingSpawn}, err
}

// WaitReady is core's policy in small: start unless ready, then wait for
// the server to be ready, to fail, or to be stopped, which cancels the
// start. Core's tests pin the policy itself down.
func (f *fakeHub) WaitReady(ctx context.Context, user string) (core.ServerStatus, error) {
	sub := f.bus.Subscribe(64, false, events.ForUser(user))
	defer sub.Close()
	if st, err := f.Status(ctx, user); err != nil || st.Ready {
		return st, err
	}
	if st, err := f.Start(ctx, user); err != nil && !errors.Is(err, core.ErrAlreadyRunning) {
		return st, err
	}
	for {
		select {
		case <-ctx.Done():
			return core.ServerStatus{User: user}, ctx.Err()
		case e := <-sub.C:
			switch spawner.State(e.State) {
			case spawner.StateRunning:
				return f.Status(ctx, user)
			case spawner.StateFailed:
				return core.ServerStatus{User: user, Failed: e.Message}, errors.New(e.Message)
			case spawner.StateStopping, spawner.StateStopped:
				return core.ServerStatus{User: user}, fmt.Errorf("start %s: %w", user, core.ErrCancelled)
			}
		}
	}
}

func (f *fakeHub) ready(user string) {
	f.mu.Lock()
	f.users[user].status = core.ServerStatus{User: user, Ready: true}
	f.mu.Unlock()
	f.bus.Publish(events.Event{Kind: events.ServerState, User: user, State: string(spawner.StateRunning), Message: "Server ready"})
}

func (f *fakeHub) fail(user, why string) {
	f.mu.Lock()
	f.users[user].status = core.ServerStatus{User: user, Failed: why}
	f.mu.Unlock()
	f.bus.Publish(events.Event{Kind: events.ServerState, User: user, State: string(spawner.StateFailed), Failed: true, Message: why})
}

func (f *fakeHub) Stop(ctx context.Context, user string, remove bool) error {
	f.record("stop %s remove=%t", user, remove)
	f.mu.Lock()
	starting := f.users[user].status.Pending == core.PendingSpawn
	f.users[user].status = core.ServerStatus{User: user}
	f.mu.Unlock()
	if starting {
		// The hub cancels a pending start, as it says.
		f.bus.Publish(events.Event{Kind: events.ServerState, User: user, State: string(spawner.StateStopping), Reason: events.ReasonCancelling, Message: "Cancelling the start"})
		f.bus.Publish(events.Event{Kind: events.SpawnProgress, User: user, Progress: 100, Failed: true, Reason: events.ReasonCancelled, Message: "Start cancelled"})
	}
	state := spawner.StateStopped
	if remove {
		state = spawner.StateMissing
	}
	f.bus.Publish(events.Event{Kind: events.ServerState, User: user, State: string(state)})
	return nil
}

func (f *fakeHub) StartAll(ctx context.Context) (int, error) { f.record("start all"); return 2, nil }

// ResetServer checks the confirmation as core does.
func (f *fakeHub) ResetServer(ctx context.Context, user string, wipe bool, confirm string) error {
	if wipe {
		if err := core.ConfirmWipe(user, confirm); err != nil {
			return err
		}
	}
	f.record("reset server %s wipe=%t", user, wipe)
	return nil
}

func (f *fakeHub) StopAll(ctx context.Context) (int, error) { f.record("stop all"); return 1, nil }

func (f *fakeHub) StartAllQuestion(ctx context.Context, n int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.question == "" {
		return ""
	}
	return fmt.Sprintf(f.question, n)
}

func (f *fakeHub) Capacity(ctx context.Context) (core.Capacity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.capacity, nil
}

// AddUsers does what core's does, with "pw-<name>" for an admin's
// generated password and "code-<name>" for a student's setup code.
func (f *fakeHub) AddUsers(ctx context.Context, names []string, admin bool) ([]core.Account, error) {
	f.record("add %s admin=%t", strings.Join(names, ","), admin)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addErr != nil {
		return nil, f.addErr
	}
	var created []core.Account
	for _, n := range names {
		if _, ok := f.users[n]; !ok {
			f.users[n] = &fakeUser{admin: admin}
			created = append(created, fakeAccount(n, admin))
		}
	}
	return created, nil
}

func fakeAccount(name string, admin bool) core.Account {
	a := core.Account{User: store.User{Name: name, Admin: admin}}
	if admin {
		a.Password, a.Generated = "pw-"+name, true
	} else {
		a.SetupCode, a.MustSetPassword = "code-"+name, true
	}
	return a
}

func (f *fakeHub) ResetUser(ctx context.Context, user string) (core.Account, error) {
	f.record("reset %s", user)
	f.mu.Lock()
	defer f.mu.Unlock()
	fu, ok := f.users[user]
	if !ok {
		return core.Account{}, core.ErrNoSuchUser
	}
	return fakeAccount(user, fu.admin), nil
}

// RenewSetupCodes gives every student of names a new code, "new-<name>".
func (f *fakeHub) RenewSetupCodes(ctx context.Context, names []string) ([]core.Account, error) {
	f.record("renew %s", strings.Join(names, ","))
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.Account
	for _, n := range names {
		if fu, ok := f.users[n]; ok && !fu.admin {
			a := fakeAccount(n, false)
			a.SetupCode = "new-" + n
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeHub) SetPassword(ctx context.Context, user, password string) error {
	f.record("passwd %s", user)
	if len(password) < 8 {
		return errors.New("the password is too short: use at least 8 characters")
	}
	return nil
}

// SetImage changes the image as the real hub does, telling the views;
// "bad image" is refused as a malformed name.
func (f *fakeHub) SetImage(ctx context.Context, ref string) (core.ImageChange, error) {
	f.record("image %s", ref)
	if ref == "bad image" {
		return core.ImageChange{}, errors.New(`"bad image" is not an image name: write it as Docker does`)
	}
	c := core.ImageChange{Image: ref, Previous: config.DefaultImage, Saved: true, Stale: 1}
	f.bus.Publish(events.Event{Kind: events.ImageChanged, Image: ref, Message: c.Sentence()})
	return c, nil
}

// ImportRoster does what roster.Import does, with "gen-<name>" for a
// generated password.
func (f *fakeHub) ImportRoster(ctx context.Context, entries []roster.Entry, generate bool) ([]roster.Imported, error) {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	f.record("import %s generate=%t", strings.Join(names, ","), generate)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []roster.Imported
	for _, e := range entries {
		im := roster.Imported{Entry: e}
		if _, ok := f.users[e.Name]; ok {
			im.Password = ""
			out = append(out, im)
			continue
		}
		if im.Password == "" && generate {
			im.Password, im.Generated = "gen-"+e.Name, true
		}
		im.Created, im.MustSetPassword = true, im.Password == ""
		if im.MustSetPassword {
			im.SetupCode = "code-" + e.Name
		}
		f.users[e.Name] = &fakeUser{}
		out = append(out, im)
	}
	return out, nil
}

func (f *fakeHub) LoginLink(ctx context.Context, user, next string) (string, error) {
	f.mu.Lock()
	f.links++
	n := f.links
	f.mu.Unlock()
	f.record("login link %s next=%q", user, next)
	return fmt.Sprintf("http://127.0.0.1:8000/hub/login-link/secret%d?next=%%2Fhub%%2Fspawn%%2F%s", n, user), nil
}

func (f *fakeHub) Logs(ctx context.Context, user string, tail int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.logs[user]; ok {
		return l, nil
	}
	return "", fmt.Errorf("logs %s: %s has no server container", user, user)
}

func (f *fakeHub) Stats(ctx context.Context, user string) (spawner.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.stats[user]; ok {
		return s, nil
	}
	return spawner.Stats{}, spawner.ErrNotRunning
}

// uiQueue stands in for fyne.Do: work for the UI goroutine waits here
// until the test runs it, so widgets are only touched by the test's
// goroutine and every step is deterministic.
type uiQueue struct{ c chan func() }

func newQueue() *uiQueue { return &uiQueue{c: make(chan func(), 4096)} }

func (q *uiQueue) do(fn func()) { q.c <- fn }

// until runs queued UI work until cond holds. cond may also turn true off
// the UI queue (a background goroutine closing the hub), so it is checked
// again on a tick too. The deadline only stops a broken test from hanging.
func (q *uiQueue) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case fn := <-q.c:
			fn()
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

// drain runs the UI work queued so far.
func (q *uiQueue) drain() {
	for {
		select {
		case fn := <-q.c:
			fn()
		default:
			return
		}
	}
}

// wantCall waits for the fake hub's next call, running UI work meanwhile,
// and checks it.
func (f *fakeHub) wantCall(t *testing.T, q *uiQueue, want string) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case got := <-f.calls:
			if got != want {
				t.Fatalf("hub call %q, want %q", got, want)
			}
			return
		case fn := <-q.c:
			fn()
		case <-deadline.C:
			t.Fatalf("the hub was never called: want %q", want)
		}
	}
}

// noCalls checks nothing called the hub.
func (f *fakeHub) noCalls(t *testing.T) {
	t.Helper()
	select {
	case got := <-f.calls:
		t.Fatalf("unexpected hub call %q", got)
	default:
	}
}

// testNow is the dashboard's clock in tests.
var testNow = time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)

var okReport = doctor.Report{Checks: []doctor.Check{
	{Name: "docker", OK: true, Detail: "installed (/usr/bin/docker)"},
	{Name: "engine", OK: true, Detail: "running, and this user may use it"},
	{Name: "engine version", OK: true, Detail: "Docker 20.10.24 (API 1.41, Debian GNU/Linux 12, cgroup 2)"},
	{Name: "image", OK: true, Detail: "classhub/notebook:latest (32dbe35f6169, 344 MB)"},
}}

var testNetwork = spawner.Network{Name: "classhub", Gateway: "172.18.0.1", Subnet: "172.18.0.0/16", HubHost: "172.18.0.1", BindAddr: "172.18.0.1"}

type harness struct {
	u      *ui
	f      *fakeHub
	q      *uiQueue
	opened chan string
	quits  chan struct{}
	opens  chan struct{}
	// openErr, if set, makes the next opens fail.
	openErr []error
	report  doctor.Report
	mu      sync.Mutex
}

// fakeHubLog is the hub's log as the harness's hubLog reads it: its last
// tail lines, or the whole log for 0.
func fakeHubLog(tail int) string {
	if tail == 0 {
		return "the hub's whole log\n"
	}
	return fmt.Sprintf("the hub's last %d lines\n", tail)
}

// mapKeyring is a keyring in memory.
type mapKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *mapKeyring) Get(s, u string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[s+"\x00"+u]
	if !ok {
		return "", fmt.Errorf("not found")
	}
	return v, nil
}

func (k *mapKeyring) Set(s, u, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[s+"\x00"+u] = p
	return nil
}

func (k *mapKeyring) Delete(s, u string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, s+"\x00"+u)
	return nil
}

// newHarness starts the UI over a fake hub and waits until it runs, or
// until the first opens failed with openErrs.
func newHarness(t *testing.T, f *fakeHub, openErrs ...error) *harness {
	t.Helper()
	return startHarness(t, f, okReport, openErrs...)
}

// startHarness is newHarness with the doctor answering report.
func startHarness(t *testing.T, f *fakeHub, report doctor.Report, openErrs ...error) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{f: f, q: newQueue(), opened: make(chan string, 10), quits: make(chan struct{}, 10),
		opens: make(chan struct{}, 10), openErr: openErrs, report: report}
	h.u = newUI(a, deps{
		open: func(ctx context.Context, cfg config.Config) (Conn, error) {
			h.opens <- struct{}{}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.openErr) > 0 {
				err := h.openErr[0]
				h.openErr = h.openErr[1:]
				return nil, err
			}
			return f, nil
		},
		configPath: filepath.Join(t.TempDir(), config.FileName),
		doctor: func(ctx context.Context, cfg config.Config) doctor.Report {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.report
		},
		openURL:   func(u string) error { h.opened <- u; return nil },
		do:        h.q.do,
		now:       func() time.Time { return testNow },
		spawnWait: time.Minute,
		quit:      func() { h.quits <- struct{}{} },
		hubLog:    func(tail int) (string, error) { return fakeHubLog(tail), nil },
		classes:   &classclient.Store{Dir: t.TempDir(), Keyring: &mapKeyring{}},
		classPoll: classPollTest,
	})
	t.Cleanup(func() {
		h.u.shutdown()
		h.q.drain()
	})
	h.u.start()
	if len(openErrs) == 0 {
		h.q.until(t, "the hub to run and the doctor to report", func() bool {
			return h.u.st.Hub == HubRunning && h.u.st.Doctor != nil
		})
	}
	return h
}

// waitOpen waits, running UI work, until the hub is opened once more.
func (h *harness) waitOpen(t *testing.T) {
	t.Helper()
	h.q.until(t, "the hub to be opened", func() bool { return len(h.opens) > 0 })
	<-h.opens
}

// item finds a tray menu item by label, in submenus too.
func item(t *testing.T, m *fyne.Menu, label string) *fyne.MenuItem {
	t.Helper()
	var found *fyne.MenuItem
	var walk func(m *fyne.Menu)
	walk = func(m *fyne.Menu) {
		for _, it := range m.Items {
			if it.Label == label {
				found = it
			}
			if it.ChildMenu != nil {
				walk(it.ChildMenu)
			}
		}
	}
	walk(m)
	if found == nil {
		t.Fatalf("tray menu has no %q item:\n%s", label, strings.Join(describeMenu(m), "\n"))
	}
	return found
}

// tapItem taps an enabled tray item, as the tray would.
func tapItem(t *testing.T, m *fyne.Menu, label string) {
	t.Helper()
	it := item(t, m, label)
	if it.Disabled || it.Action == nil {
		t.Fatalf("tray item %q is disabled", label)
	}
	it.Action()
}

// describeMenu lists a menu's items as "label", "label (off)" or "---",
// submenu items indented.
func describeMenu(m *fyne.Menu) []string {
	var out []string
	var walk func(m *fyne.Menu, indent string)
	walk = func(m *fyne.Menu, indent string) {
		for _, it := range m.Items {
			switch {
			case it.IsSeparator:
				out = append(out, indent+"---")
			case it.Disabled:
				out = append(out, indent+it.Label+" (off)")
			case it.Checked:
				out = append(out, indent+it.Label+" (on)")
			default:
				out = append(out, indent+it.Label)
			}
			if it.ChildMenu != nil {
				walk(it.ChildMenu, indent+"  ")
			}
		}
	}
	walk(m, "")
	return out
}

// visible lists o and the objects under it that are shown, laid out.
func visible(o fyne.CanvasObject) []fyne.CanvasObject {
	test.LaidOutObjects(o)
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// texts lists the text of every label, hyperlink and button shown under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range visible(o) {
		switch w := obj.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Hyperlink:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		}
	}
	return out
}

func containsText(o fyne.CanvasObject, sub string) bool {
	return slices.ContainsFunc(texts(o), func(s string) bool { return strings.Contains(s, sub) })
}

// button finds a visible button by its text under o.
func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, obj := range visible(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button among %q", text, texts(o))
	return nil
}

// topDialog is the dialog shown over w, or fails.
func topDialog(t *testing.T, w fyne.Window) fyne.CanvasObject {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is shown")
	}
	return top
}

// Handout hands out to every student but "failing", who fails.
func (f *fakeHub) Handout(ctx context.Context, src string, to []string, progress hub.Progress) ([]hub.HandoutResult, error) {
	f.record("handout %s", filepath.Base(src))
	var rs []hub.HandoutResult
	for i, name := range f.students() {
		r := hub.HandoutResult{User: name, Files: []spawner.FileResult{{Path: "a.ipynb", Outcome: "copied"}, {Path: "b.ipynb", Outcome: "kept", Beside: "b (handout 2026-12-06).ipynb"}}}
		if name == "failing" {
			r = hub.HandoutResult{User: name, Err: errors.New("hand out to failing: disk full")}
		}
		rs = append(rs, r)
		progress(i+1, len(f.students()))
	}
	return rs, nil
}

// Collect finds the folder with every student but "failing".
func (f *fakeHub) Collect(ctx context.Context, dir, out string, to []string, progress hub.Progress) ([]hub.Collected, error) {
	f.record("collect %s", dir)
	var rs []hub.Collected
	for i, name := range f.students() {
		rs = append(rs, hub.Collected{User: name, Dir: dir, Files: 2, Bytes: 2048, Missing: name == "failing"})
		progress(i+1, len(f.students()))
	}
	return rs, nil
}

func (f *fakeHub) students() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n, u := range f.users {
		if !u.admin {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
