package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
)

func TestTrayItemsCallTheHub(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice"))
	u, f, q := h.u, h.f, h.q

	tapItem(t, u.trayMenu(), LabelStartMine)
	f.wantCall(t, q, "start teacher")
	q.until(t, "the tray to say the server starts", func() bool { return u.st.Own().Phase == ServerStarting })
	if it := item(t, u.trayMenu(), "Starting my server…"); !it.Disabled {
		t.Error("Starting my server… is enabled")
	}

	f.ready("teacher")
	q.until(t, "the tray to say the server is ready", func() bool { return u.st.Own().Phase == ServerReady })
	tapItem(t, u.trayMenu(), LabelStopMine)
	f.wantCall(t, q, "stop teacher remove=false")

	tapItem(t, u.trayMenu(), LabelStartAll)
	f.wantCall(t, q, "start all")
	tapItem(t, u.trayMenu(), LabelStopAll)
	f.wantCall(t, q, "stop all")
	q.until(t, "the notice of stopped servers", func() bool { return strings.Contains(u.st.Notice, "Stopped 1 servers") })
}

func TestOpenMyNotebookStartsWaitsAndOpensALoginLink(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q

	tapItem(t, u.trayMenu(), LabelOpenNotebook)
	f.wantCall(t, q, "start teacher")
	q.until(t, "the tray to relabel", func() bool { return u.st.Opening })
	if it := item(t, u.trayMenu(), "Opening my notebook…"); !it.Disabled {
		t.Error("Opening my notebook… is enabled")
	}
	select {
	case url := <-h.opened:
		t.Fatalf("opened %s before the server was ready", url)
	default:
	}
	f.publishProgress("teacher", 50)
	f.ready("teacher")
	f.wantCall(t, q, `login link teacher next=""`)
	url := <-h.opened
	if !strings.Contains(url, "/hub/login-link/secret1") {
		t.Errorf("opened %s, want the login link", url)
	}
	q.until(t, "the tray to relabel back", func() bool { return !u.st.Opening })
	item(t, u.trayMenu(), LabelOpenNotebook)
}

func (f *fakeHub) publishProgress(user string, pct int) {
	f.bus.Publish(events.Event{Kind: events.SpawnProgress, User: user, Progress: pct, Message: "Starting"})
}

func TestOpenMyNotebookWhenReadyOpensAtOnce(t *testing.T) {
	f := newFakeHub("teacher")
	f.users["teacher"].status.Ready = true
	h := newHarness(t, f)
	tapItem(t, h.u.trayMenu(), LabelOpenNotebook)
	f.wantCall(t, h.q, `login link teacher next=""`)
	if url := <-h.opened; !strings.Contains(url, "login-link") {
		t.Errorf("opened %s", url)
	}
	f.noCalls(t)
}

func TestOpenMyNotebookSaysWhyItFailed(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	tapItem(t, u.trayMenu(), LabelOpenNotebook)
	f.wantCall(t, q, "start teacher")
	f.fail("teacher", "the notebook image classhub/notebook:latest is not in the Docker engine")
	q.until(t, "the error", func() bool { return !u.st.Opening && u.st.NoticeFailed })
	if !strings.Contains(u.st.Notice, "Could not open your notebook: the notebook image") {
		t.Errorf("notice %q", u.st.Notice)
	}
	d := topDialog(t, u.win)
	if !containsText(d, "is not in the Docker engine") {
		t.Errorf("the error dialog says %q", texts(d))
	}
	select {
	case url := <-h.opened:
		t.Errorf("opened %s for a server that failed", url)
	default:
	}
}

func TestDeleteAsksFirstAndKeepsTheWorkFolder(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q

	tapItem(t, u.trayMenu(), LabelDeleteMine)
	d := topDialog(t, u.win)
	if !containsText(d, "Delete your container?") || !containsText(d, "work folder ("+spawner.WorkDir+") is kept") {
		t.Errorf("the question says %q", texts(d))
	}
	test.Tap(button(t, d, "Cancel"))
	q.drain()
	f.noCalls(t)

	tapItem(t, u.trayMenu(), LabelDeleteMine)
	test.Tap(button(t, topDialog(t, u.win), "Delete container"))
	f.wantCall(t, q, "stop teacher remove=true")
}

// TestDeleteCanWipeTheFilesWithTheNameTypedAgain: the container dialog
// deletes the work folder too only when asked and with the name typed
// again; a wrong name is refused with a sentence and nothing is deleted.
func TestDeleteCanWipeTheFilesWithTheNameTypedAgain(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	wipeDialog := func(name string) {
		t.Helper()
		tapItem(t, u.trayMenu(), LabelDeleteMine)
		d := topDialog(t, u.win)
		var check *widget.Check
		var entry *widget.Entry
		for _, o := range visible(d) {
			switch w := o.(type) {
			case *widget.Check:
				check = w
			case *widget.Entry:
				entry = w
			}
		}
		if check == nil || entry == nil {
			t.Fatalf("the dialog has no way to delete the files: %q", texts(d))
		}
		if !entry.Disabled() {
			t.Error("the name can be typed before deleting the files is asked for")
		}
		test.Tap(check)
		test.Type(entry, name)
		test.Tap(button(t, d, "Delete container"))
	}
	wipeDialog("someone")
	q.until(t, "the refusal", func() bool {
		return u.st.NoticeFailed && strings.Contains(u.st.Notice, "type their name, teacher, again")
	})
	f.noCalls(t)
	wipeDialog("teacher")
	f.wantCall(t, q, "reset server teacher wipe=true")
}

func TestQuitAsksAboutRunningServers(t *testing.T) {
	t.Run("none running", func(t *testing.T) {
		h := newHarness(t, newFakeHub("teacher"))
		tapItem(t, h.u.trayMenu(), LabelQuit)
		<-h.quits
		if top := h.u.win.Canvas().Overlays().Top(); top != nil {
			t.Error("asked although no server runs")
		}
	})
	for _, tt := range []struct {
		choice   string
		stopsAll bool
	}{{"Leave them running", false}, {"Stop them and quit", true}} {
		t.Run(tt.choice, func(t *testing.T) {
			f := newFakeHub("teacher", "alice")
			f.users["alice"].status.Ready = true
			h := newHarness(t, f)
			tapItem(t, h.u.trayMenu(), LabelQuit)
			d := topDialog(t, h.u.win)
			if !containsText(d, "1 notebook server is running") {
				t.Errorf("the question says %q", texts(d))
			}
			select {
			case <-h.quits:
				t.Fatal("quit before the answer")
			default:
			}
			test.Tap(button(t, d, tt.choice))
			if tt.stopsAll {
				f.wantCall(t, h.q, "stop all")
			}
			h.q.until(t, "quit", func() bool { return len(h.quits) > 0 })
			f.noCalls(t)
		})
	}
}

func TestStartupFailureShowsDoctorAdviceAndRetry(t *testing.T) {
	f := newFakeHub("teacher")
	openErr := &engine.Error{Advice: engine.AdviceNotRunning, Err: errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")}
	h := startHarness(t, f, doctor.Report{Checks: []doctor.Check{
		{Name: "docker", OK: true, Detail: "installed"},
		{Name: "engine", Detail: "Cannot connect to the Docker daemon", Advice: engine.AdviceNotRunning},
	}}, openErr)
	u, q := h.u, h.q
	q.until(t, "the hub to fail", func() bool { return u.st.Hub == HubError && u.st.Doctor != nil })

	content := u.win.Content()
	if !containsText(content, "classhub could not start") || !containsText(content, engine.AdviceNotRunning) {
		t.Errorf("the dashboard does not give the doctor's advice: %q", texts(content))
	}
	if !containsText(content, "not usable: Cannot connect") {
		t.Errorf("the Docker line does not say the engine is unusable: %q", texts(content))
	}
	item(t, u.trayMenu(), "classhub could not start: see the dashboard")
	if it := item(t, u.trayMenu(), LabelOpenNotebook); !it.Disabled {
		t.Error("Open my notebook is enabled without a hub")
	}

	h.mu.Lock()
	h.report = okReport
	h.mu.Unlock()
	<-h.opens
	test.Tap(button(t, content, LabelRetry))
	h.waitOpen(t)
	q.until(t, "the hub to run after Retry", func() bool { return u.st.Hub == HubRunning && u.st.Doctor != nil })
	if containsText(u.win.Content(), "classhub could not start") {
		t.Error("the banner stayed after the hub started")
	}
	tapItem(t, u.trayMenu(), LabelOpenNotebook)
	f.wantCall(t, q, "start teacher")
}

func TestDashboardFollowsEvents(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice", "bob"))
	u, f, q := h.u, h.f, h.q
	for _, name := range []string{"alice", "bob", "teacher (you)"} {
		if !containsText(u.win.Content(), name) {
			t.Errorf("the users table lacks %s: %q", name, texts(u.win.Content()))
		}
	}
	cell := func(row, col int) string {
		return cellText(u.dash.rows[row], col, u.dash.owner, testNow)
	}
	if cell(0, colName) != "alice" || cell(0, colState) != "stopped" {
		t.Fatalf("row 0: %q %q", cell(0, colName), cell(0, colState))
	}

	f.Start(context.Background(), "alice")
	f.wantCall(t, q, "start alice")
	f.publishProgress("alice", 30)
	q.until(t, "alice's progress", func() bool { return strings.HasPrefix(cell(0, colState), "starting… 30%") })
	f.ready("alice")
	q.until(t, "alice ready", func() bool { return cell(0, colState) == "ready" })
	f.bus.Publish(events.Event{Kind: events.Activity, User: "alice", Time: testNow.Add(-5 * 60e9)})
	q.until(t, "alice's activity", func() bool { return cell(0, colActivity) == "5 min ago" })

	test.AssertNotificationSent(t, fyne.NewNotification("bob's server could not start", "no space left on device"), func() {
		f.Start(context.Background(), "bob")
		f.wantCall(t, q, "start bob")
		f.fail("bob", "no space left on device")
		q.until(t, "bob failed", func() bool { return strings.HasPrefix(cell(1, colState), "failed: no space") })
	})
	test.AssertNotificationSent(t, fyne.NewNotification("Your notebook is ready", "Choose Open my notebook in the classhub menu."), func() {
		f.Start(context.Background(), "teacher")
		f.wantCall(t, q, "start teacher")
		f.ready("teacher")
		q.until(t, "teacher ready", func() bool { return u.st.Own().Phase == ServerReady })
	})

	// A user the table does not know yet makes it reload.
	f.AddUsers(context.Background(), []string{"carol"}, false)
	f.wantCall(t, q, "add carol admin=false")
	f.bus.Publish(events.Event{Kind: events.Notice, User: "carol", Message: "carol's server was started outside classhub."})
	q.until(t, "carol's row", func() bool { return u.st.Row("carol") != nil })
	if !containsText(u.win.Content(), "carol's server was started outside classhub.") {
		t.Error("the notice is not shown")
	}
}

func TestRowButtonsCallTheHub(t *testing.T) {
	f := newFakeHub("teacher", "alice")
	f.users["alice"].status.Ready = true
	h := newHarness(t, f)
	d := h.u.dash
	cell := d.table.CreateCell()
	d.updateCell(widget.TableCellID{Row: 0, Col: colActions}, cell)
	btns := cell.(*fyne.Container).Objects[1].(*fyne.Container).Objects
	start, stop, del := btns[0].(*widget.Button), btns[1].(*widget.Button), btns[2].(*widget.Button)
	if !start.Disabled() || stop.Disabled() || del.Disabled() {
		t.Errorf("alice is ready: start disabled=%t stop=%t delete=%t, want start off only", start.Disabled(), stop.Disabled(), del.Disabled())
	}
	test.Tap(stop)
	h.f.wantCall(t, h.q, "stop alice remove=false")
	h.q.until(t, "alice stopped", func() bool { return h.u.st.Row("alice").Phase == ServerStopped })
	d.updateCell(widget.TableCellID{Row: 0, Col: colActions}, cell)
	test.Tap(start)
	h.f.wantCall(t, h.q, "start alice")
	test.Tap(del)
	dlg := topDialog(t, h.u.win)
	if !containsText(dlg, "Delete alice's container?") {
		t.Errorf("the question says %q", texts(dlg))
	}
	test.Tap(button(t, dlg, "Delete container"))
	h.f.wantCall(t, h.q, "stop alice remove=true")

	// The toolbar.
	test.Tap(button(t, h.u.win.Content(), LabelStartAll))
	h.f.wantCall(t, h.q, "start all")
	test.Tap(button(t, h.u.win.Content(), LabelStopAll))
	h.f.wantCall(t, h.q, "stop all")
}

func TestCancelStartFromTheRowAndTheTray(t *testing.T) {
	f := newFakeHub("teacher", "alice")
	f.users["alice"].status.Pending = core.PendingSpawn
	f.users["teacher"].status.Pending = core.PendingSpawn
	h := newHarness(t, f)
	d := h.u.dash
	cell := d.table.CreateCell()
	d.updateCell(widget.TableCellID{Row: 0, Col: colActions}, cell)
	stop := cell.(*fyne.Container).Objects[1].(*fyne.Container).Objects[1].(*widget.Button)
	if stop.Text != LabelCancelStart || stop.Disabled() {
		t.Fatalf("alice is starting: her stop button says %q, disabled=%t; want %q enabled", stop.Text, stop.Disabled(), LabelCancelStart)
	}
	test.Tap(stop)
	h.f.wantCall(t, h.q, "stop alice remove=false")
	h.q.until(t, "alice stopped", func() bool { return h.u.st.Row("alice").Phase == ServerStopped })
	d.updateCell(widget.TableCellID{Row: 0, Col: colActions}, cell)
	if stop.Text != LabelStop || !stop.Disabled() {
		t.Errorf("alice is stopped: her stop button says %q, disabled=%t; want %q disabled", stop.Text, stop.Disabled(), LabelStop)
	}

	tapItem(t, h.u.trayMenu(), LabelCancelStartMine)
	h.f.wantCall(t, h.q, "stop teacher remove=false")
	h.q.until(t, "teacher stopped", func() bool { return h.u.st.Own().Phase == ServerStopped })
	item(t, h.u.trayMenu(), LabelStopMine)
}

func TestOpenMyNotebookCancelledDoesNotStartAgain(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	tapItem(t, u.trayMenu(), LabelOpenNotebook)
	f.wantCall(t, q, "start teacher")
	q.until(t, "the tray to offer cancelling", func() bool { return u.st.Own().Phase == ServerStarting })
	tapItem(t, u.trayMenu(), LabelCancelStartMine)
	f.wantCall(t, q, "stop teacher remove=false")
	q.until(t, "the notice", func() bool { return !u.st.Opening && u.st.Notice != "" })
	if u.st.Notice != "The start of your notebook was cancelled." || u.st.NoticeFailed {
		t.Errorf("notice %q (failed %t)", u.st.Notice, u.st.NoticeFailed)
	}
	f.noCalls(t)
	select {
	case url := <-h.opened:
		t.Errorf("opened %s for a cancelled start", url)
	default:
	}
}

func TestStatsAndLogs(t *testing.T) {
	f := newFakeHub("teacher", "alice")
	f.users["alice"].status.Ready = true
	f.stats["alice"] = spawner.Stats{CPUPercent: 37.4, MemoryBytes: 300 << 20, MemoryLimit: 2 << 30}
	f.logs["alice"] = "[I 10:00:00 ServerApp] Jupyter Server 1.23 is running\n"
	h := newHarness(t, f)
	u, q := h.u, h.q

	u.sampleStats()
	q.until(t, "alice's stats", func() bool { return u.st.Row("alice").HasStats })
	row := u.dash.rows[0]
	if got := cellText(row, colCPU, "", testNow); got != "37%" {
		t.Errorf("CPU %q", got)
	}
	if got := cellText(row, colMemory, "", testNow); got != "300 MiB / 2.0 GiB" {
		t.Errorf("memory %q", got)
	}
	if u.st.Row("teacher").HasStats {
		t.Error("a stopped server has stats")
	}

	u.dash.table.Select(widget.TableCellID{Row: 0, Col: colName})
	q.until(t, "alice's logs", func() bool { return strings.Contains(u.dash.logs.Text, "Jupyter Server 1.23 is running") })
	if !containsText(u.win.Content(), "Logs of alice's server") {
		t.Error("the logs title does not name alice")
	}
	// Her server stopping fetches the logs again.
	f.logs["alice"] = "[C 10:05:00 ServerApp] received signal 15, stopping\n"
	f.Stop(context.Background(), "alice", false)
	f.wantCall(t, q, "stop alice remove=false")
	q.until(t, "fresh logs", func() bool { return strings.Contains(u.dash.logs.Text, "received signal 15") })
	// A server without a container says so.
	u.selectUser("teacher")
	q.until(t, "teacher's logs", func() bool { return strings.Contains(u.dash.logs.Text, "has no server container") })
}

func TestAddUsersAndImportRoster(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	u.addUsers(hub.SplitNames("alice, bob\ncarol"), false)
	f.wantCall(t, q, "add alice,bob,carol admin=false")
	q.until(t, "the new rows", func() bool { return len(u.st.Users) == 4 })
	if u.st.Notice != "Added 3 users (0 already existed)." {
		t.Errorf("notice %q", u.st.Notice)
	}

	f.addErr = errors.New(`invalid username: "Bad Name" may only hold lowercase letters`)
	u.st.Notice, u.st.NoticeFailed = "", false
	u.addUsers([]string{"Bad Name"}, false)
	f.wantCall(t, q, "add Bad Name admin=false")
	q.until(t, "the error", func() bool { return u.st.NoticeFailed })
	if !strings.Contains(u.st.Notice, "may only hold lowercase letters") {
		t.Errorf("notice %q", u.st.Notice)
	}
}

// shown reports whether the top dialog of w shows sub.
func shown(w fyne.Window, sub string) bool {
	top := w.Canvas().Overlays().Top()
	return top != nil && containsText(top, sub)
}

func TestImportRosterReadsItAsTheAdminPageDoes(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice"))
	u, f, q := h.u, h.f, h.q

	// Every student has a password: no question, nothing generated.
	u.importRoster(strings.NewReader("Username;Password\n Dave ;correct-horse\nalice;battery-staple\n"))
	f.wantCall(t, q, "import dave,alice generate=false")
	q.until(t, "dave's row", func() bool { return u.st.Row("dave") != nil })
	if u.st.Notice != "Imported the roster: added 1 users (1 already existed)." {
		t.Errorf("notice %q", u.st.Notice)
	}
	if shown(u.win, LabelHandouts) {
		t.Error("passwords shown though none were generated")
	}

	// A roster with problems adds nobody and says where they are.
	u.importRoster(strings.NewReader("username,password\nerin,short\nBad Name\n"))
	q.drain()
	f.noCalls(t)
	for _, want := range []string{"line 2: erin's password is shorter than 8 characters", "line 3: invalid username", "Nobody was added"} {
		if !strings.Contains(u.st.Notice, want) {
			t.Errorf("notice %q does not say %q", u.st.Notice, want)
		}
	}
	u.importRoster(strings.NewReader("\n\n"))
	q.drain()
	f.noCalls(t)
	if !strings.Contains(u.st.Notice, "the roster holds no usernames") {
		t.Errorf("notice %q", u.st.Notice)
	}
}

func TestImportRosterGeneratesPasswordsAndSavesThem(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	u.importRoster(strings.NewReader("erin\nfrank,own-password\ngina\n"))
	d := topDialog(t, u.win)
	if !containsText(d, "2 students have no password in the roster") {
		t.Errorf("the question says %q", texts(d))
	}
	test.Tap(button(t, d, LabelGeneratePasswords))
	f.wantCall(t, q, "import erin,frank,gina generate=true")
	q.until(t, "the passwords", func() bool { return shown(u.win, LabelHandouts) })
	d = topDialog(t, u.win)
	if !containsText(d, "erin\tpassword gen-erin\ngina\tpassword gen-gina") || containsText(d, "own-password") {
		t.Errorf("the passwords dialog says %q", texts(d))
	}
	if !strings.Contains(u.st.Notice, "added 3 users, 2 with generated passwords") {
		t.Errorf("notice %q", u.st.Notice)
	}

	path := filepath.Join(t.TempDir(), "passwords.csv")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	u.saveHandouts(w, nil, roster.Handouts([]roster.Imported{
		{Entry: roster.Entry{Name: "erin", Password: "gen-erin"}, Created: true, Generated: true},
		{Entry: roster.Entry{Name: "frank", Password: "own-password"}, Created: true},
		{Entry: roster.Entry{Name: "gina"}, Created: true, MustSetPassword: true, SetupCode: "code-gina"},
	}))
	want := "username,password,setup_code,link\nerin,gen-erin,," + u.conn.ClassURL() + "\ngina,,code-gina," + u.conn.ClassURL() + "\n"
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Errorf("saved %q, %v; want %q", b, err, want)
	}
	if !strings.Contains(u.st.Notice, "Saved the passwords and setup codes to "+path) {
		t.Errorf("notice %q", u.st.Notice)
	}
	test.Tap(button(t, d, LabelSavePasswords))
	if top := topDialog(t, u.win); top == d {
		t.Error("Save as CSV… opened no file chooser")
	}
}

func TestImportRosterLettingThemChoose(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	u.importRoster(strings.NewReader("username\nerin\n"))
	d := topDialog(t, u.win)
	if !containsText(d, "1 student has no password") {
		t.Errorf("the question says %q", texts(d))
	}
	test.Tap(button(t, d, LabelLetThemChoose))
	f.wantCall(t, q, "import erin generate=false")
	q.until(t, "erin's setup code", func() bool { return shown(u.win, "erin\tsetup code code-erin") })
	q.until(t, "erin's row", func() bool { return u.st.Row("erin") != nil })
}

func TestCopyClassLink(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	tapItem(t, h.u.trayMenu(), LabelCopyLink)
	if got := h.u.app.Clipboard().Content(); got != "http://192.0.2.10:8000/" {
		t.Errorf("clipboard %q", got)
	}
}

func TestShowClassPageOpensItLoggedIn(t *testing.T) {
	for _, where := range []string{"tray", "dashboard"} {
		h := newHarness(t, newFakeHub("teacher"))
		if where == "tray" {
			tapItem(t, h.u.trayMenu(), LabelClassPage)
		} else {
			h.u.showDashboard()
			test.Tap(button(t, h.u.win.Content(), LabelClassPage))
		}
		h.f.wantCall(t, h.q, `login link teacher next="/hub/class"`)
		if url := <-h.opened; !strings.Contains(url, "/hub/login-link/") {
			t.Errorf("%s: opened %s, want a login link", where, url)
		}
	}
}

// The kept files of deleted students are a browser page away from the
// dashboard, logged in as the class page is.
func TestKeptFilesOpensTheVolumesPageLoggedIn(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	h.u.showDashboard()
	test.Tap(button(t, h.u.win.Content(), LabelKeptFiles))
	h.f.wantCall(t, h.q, `login link teacher next="/hub/admin/volumes"`)
	if url := <-h.opened; !strings.Contains(url, "/hub/login-link/") {
		t.Errorf("opened %s, want a login link", url)
	}
}

func TestClosingTheDashboardStopsTheStatsTicker(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u := h.u
	u.d.statsEvery = 1e9
	u.hideDashboard()
	if u.statsStop != nil || u.visible {
		t.Error("the ticker runs with the dashboard hidden")
	}
	tapItem(t, u.trayMenu(), LabelDashboard)
	if u.statsStop == nil || !u.visible {
		t.Error("showing the dashboard did not start the ticker")
	}
	u.hideDashboard()
}

func TestSettingsRestartReopensTheHub(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	<-h.opens
	tapItem(t, u.trayMenu(), LabelSettings)
	s := u.settings
	s.memory.SetText("4G")
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "memory limit need each server's container to be recreated") {
		t.Errorf("result %q", s.result.Text)
	}
	test.Tap(s.restart)
	h.waitOpen(t)
	q.until(t, "the hub to run again", func() bool { return u.st.Hub == HubRunning && u.st.Doctor != nil })
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if !closed {
		t.Error("the old hub was not closed before the new one opened")
	}
	if u.cfg.MemoryLimit != "4G" {
		t.Errorf("the hub reopened with memory limit %q, want the saved 4G", u.cfg.MemoryLimit)
	}
}

// TestSettingsChangeTheImageWithNoRestart: the running hub takes a new
// image from Settings at once, the dashboard shows it, and Settings
// compares against it afterwards.
func TestSettingsChangeTheImageWithNoRestart(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	<-h.opens
	q.until(t, "the hub to run", func() bool { return u.st.Hub == HubRunning })
	tapItem(t, u.trayMenu(), LabelSettings)
	s := u.settings
	s.image.SetText("classhub/notebook:classic")
	test.Tap(s.save)
	f.wantCall(t, q, "image classhub/notebook:classic")
	q.until(t, "the dashboard to show the new image", func() bool { return u.st.Image.Ref == "classhub/notebook:classic" })
	if u.cfg.Image != "classhub/notebook:classic" || !strings.Contains(u.st.Notice, "each at its next start") {
		t.Errorf("in force %q, notice %q", u.cfg.Image, u.st.Notice)
	}
	if s.restart.Visible() {
		t.Error("a new image asks for a restart")
	}
	// Opened again, Settings knows the hub runs the new image.
	tapItem(t, u.trayMenu(), LabelSettings)
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "already runs with these settings") {
		t.Errorf("result %q", s.result.Text)
	}
	f.noCalls(t)

	// Another image chosen on the admin page while Settings is open: the
	// form follows, and saving another setting keeps the new image.
	if _, err := f.SetImage(context.Background(), "course:2"); err != nil {
		t.Fatal(err)
	}
	f.wantCall(t, q, "image course:2")
	q.until(t, "Settings to show the admin page's image", func() bool { return s.image.Text == "course:2" })
	s.idle.SetText("2h")
	test.Tap(s.save)
	if got, _ := config.Load(u.d.configPath); got.Image != "course:2" {
		t.Errorf("saving Settings put back image %q", got.Image)
	}
	f.noCalls(t)
}

func TestClosingTheWindowWithoutATrayQuits(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	h.u.d.trayHost = func() bool { return true }
	h.u.closeDashboard()
	if h.u.visible || len(h.quits) != 0 {
		t.Errorf("with a tray: visible %t, quits %d; want hidden, running", h.u.visible, len(h.quits))
	}
	h.u.showDashboard()
	h.u.d.trayHost = func() bool { return false }
	h.u.closeDashboard()
	if len(h.quits) != 1 {
		t.Errorf("without a tray the window closed without quitting")
	}
}

// brokenServe is a hub whose listener fails after it opened.
type brokenServe struct{ *fakeHub }

func (b brokenServe) Serve(ctx context.Context) error {
	return errors.New("accept tcp: too many open files")
}

func TestServeFailureShowsAndRetries(t *testing.T) {
	f := newFakeHub("teacher")
	h := newHarness(t, f, errors.New("not yet"))
	q, u := h.q, h.u
	h.waitOpen(t)
	q.until(t, "the first open to fail", func() bool { return u.st.Hub == HubError })
	// The next open gives a hub whose Serve fails.
	u.d.open = func(ctx context.Context, cfg config.Config) (Conn, error) {
		h.opens <- struct{}{}
		return brokenServe{f}, nil
	}
	u.retry()
	q.until(t, "serving to fail", func() bool {
		return u.st.Hub == HubError && strings.Contains(u.st.Problem, "too many open files")
	})
	q.until(t, "the broken hub to be closed", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.closed
	})
	if !containsText(u.win.Content(), "the hub stopped serving: accept tcp: too many open files") {
		t.Errorf("the dashboard does not say why: %q", texts(u.win.Content()))
	}
	item(t, u.trayMenu(), LabelRetry)
}

func TestAddUsersDialog(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	test.Tap(button(t, h.u.win.Content(), "Add users…"))
	d := topDialog(t, h.u.win)
	var names *widget.Entry
	var admin *widget.Check
	for _, o := range visible(d) {
		switch w := o.(type) {
		case *widget.Entry:
			names = w
		case *widget.Check:
			admin = w
		}
	}
	if names == nil || admin == nil {
		t.Fatalf("the dialog has no names box or admin check: %q", texts(d))
	}
	test.Type(names, "alice, bob")
	test.Tap(admin)
	test.Tap(button(t, d, "Add"))
	h.f.wantCall(t, h.q, "add alice,bob admin=true")
	h.q.until(t, "the new rows", func() bool { return h.u.st.Row("bob") != nil })
}

func TestImportRosterDialogOpensAFileChooser(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	test.Tap(button(t, h.u.win.Content(), "Import roster…"))
	topDialog(t, h.u.win)
}

func TestDashboardShowsAndSavesTheHubLog(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	u, f, q := h.u, h.f, h.q
	q.until(t, "the hub's log", func() bool { return u.st.Logs == fakeHubLog(logTail) })
	u.showDashboard()
	d := u.win.Content()
	if !containsText(d, LabelHubLogTitle) || !containsText(d, fakeHubLog(logTail)) {
		t.Errorf("the dashboard shows %q, want the hub's log", texts(d))
	}
	// A user's server log takes its place; Hub log brings it back.
	f.logs["teacher"] = "[I 10:00:00 ServerApp] Jupyter Server 1.23 is running\n"
	u.selectUser("teacher")
	q.until(t, "teacher's server log", func() bool { return u.st.Logs == f.logs["teacher"] })
	test.Tap(button(t, d, LabelHubLog))
	q.until(t, "the hub's log again", func() bool { return u.st.Selected == "" && u.st.Logs == fakeHubLog(logTail) })

	// Saving writes the whole log, every generation, not the pane's tail.
	path := filepath.Join(t.TempDir(), "classhub.log")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	u.saveLogs(w, nil, "")
	q.until(t, "the notice", func() bool { return strings.Contains(u.st.Notice, "Saved the log to "+path) })
	if b, err := os.ReadFile(path); err != nil || string(b) != fakeHubLog(0) {
		t.Errorf("saved %q, %v; want the whole log", b, err)
	}
	path = filepath.Join(t.TempDir(), "classhub-teacher.log")
	w, _ = storage.Writer(storage.NewFileURI(path))
	u.saveLogs(w, nil, "teacher")
	q.until(t, "the notice", func() bool { return strings.Contains(u.st.Notice, "Saved the log to "+path) })
	if b, err := os.ReadFile(path); err != nil || string(b) != f.logs["teacher"] {
		t.Errorf("saved %q, %v; want teacher's server log", b, err)
	}
	test.Tap(button(t, d, LabelSaveLogs))
	if top := topDialog(t, u.win); top == nil {
		t.Error("Save a copy… opened no file chooser")
	}
}

func TestHubLogSaysWhyTheHubDidNotOpen(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"), errors.New("cannot reach Docker"))
	h.q.until(t, "the hub's log beside the error", func() bool {
		return h.u.st.Hub == HubError && h.u.st.Logs == fakeHubLog(logTail)
	})
	h.u.showDashboard()
	if b := button(t, h.u.win.Content(), "Refresh logs"); b.Disabled() {
		t.Error("the hub's log cannot be refreshed while the hub is down")
	}
}

func TestDashboardSaysTheCapacityAndStartAllAsksPastIt(t *testing.T) {
	f := newFakeHub("teacher", "alice", "bob")
	f.capacity = core.PlanCapacity("classhub/notebook:scipy", core.Machine{Memory: 4 << 30, CPUs: 2},
		core.EstimateCost(nil, nil, "scipy"), 0, 1)
	f.question = "Start %d servers? This laptop holds about 9 students."
	h := newHarness(t, f)
	u, q := h.u, h.q

	u.sampleStats()
	q.until(t, "the capacity", func() bool { return u.st.Capacity != "" })
	if !containsText(u.win.Content(), "This laptop holds about 9 students (1 running now).") {
		t.Errorf("the dashboard does not say the capacity: %q", texts(u.win.Content()))
	}
	if !containsText(u.win.Content(), u.st.CapacityDetail) || !strings.Contains(u.st.CapacityDetail, "cautious default for the scipy profile") {
		t.Errorf("the dashboard does not say where the figure comes from: %q", u.st.CapacityDetail)
	}

	// Past the capacity, Start all asks with the numbers, and Cancel
	// starts nothing.
	test.Tap(button(t, u.win.Content(), LabelStartAll))
	q.until(t, "the question", func() bool { return u.win.Canvas().Overlays().Top() != nil })
	dlg := topDialog(t, u.win)
	if !containsText(dlg, "Start 3 servers? This laptop holds about 9 students.") {
		t.Fatalf("the question says %q", texts(dlg))
	}
	test.Tap(button(t, dlg, "Cancel"))
	select {
	case c := <-f.calls:
		t.Fatalf("Cancel still called %q", c)
	default:
	}
	q.until(t, "the question gone", func() bool { return u.win.Canvas().Overlays().Top() == nil })
	test.Tap(button(t, u.win.Content(), LabelStartAll))
	q.until(t, "the question again", func() bool { return u.win.Canvas().Overlays().Top() != nil })
	test.Tap(button(t, topDialog(t, u.win), "Start them all"))
	f.wantCall(t, q, "start all")
}
