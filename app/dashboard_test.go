package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/doctor"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/spawner"
)

func TestAgo(t *testing.T) {
	old := testNow.Add(-72 * time.Hour)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{testNow.Add(-10 * time.Second), "just now"},
		{testNow.Add(-5 * time.Minute), "5 min ago"},
		{testNow.Add(-3 * time.Hour), "3 h ago"},
		{old, old.Local().Format("2 Jan 15:04")},
	} {
		if got := Ago(testNow, tt.t); got != tt.want {
			t.Errorf("Ago(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestCellText(t *testing.T) {
	ready := UserRow{Name: "alice", Phase: ServerReady, LastActivity: testNow.Add(-2 * time.Minute),
		Stats: spawner.Stats{CPUPercent: 4.6, MemoryBytes: 120 << 20, MemoryLimit: 2 << 30}, HasStats: true}
	for _, tt := range []struct {
		name string
		row  UserRow
		col  int
		want string
	}{
		{"owner", UserRow{Name: "teacher", Admin: true}, colName, "teacher (you)"},
		{"admin", UserRow{Name: "ta", Admin: true}, colName, "ta (admin)"},
		{"student", ready, colName, "alice"},
		{"ready", ready, colState, "ready"},
		{"starting", UserRow{Phase: ServerStarting, Progress: 60, Detail: "Waiting for the server"}, colState, "starting… 60% · Waiting for the server"},
		{"starting without progress", UserRow{Phase: ServerStarting}, colState, "starting…"},
		{"failed", UserRow{Phase: ServerFailed, Detail: "image missing\ntraceback"}, colState, "failed: image missing"},
		{"activity", ready, colActivity, "2 min ago"},
		{"cpu", ready, colCPU, "5%"},
		{"memory", ready, colMemory, "120 MiB / 2.0 GiB"},
		{"no stats", UserRow{Phase: ServerStopped}, colMemory, "–"},
	} {
		if got := cellText(tt.row, tt.col, "teacher", testNow); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

const testFingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

func TestHTTPSLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    State
		want string
		warn bool
	}{
		{"https", State{Hub: HubRunning, Fingerprint: testFingerprint, Exposed: true},
			"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:\nAB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", false},
		{"plain on the network", State{Hub: HubRunning, Exposed: true}, "Passwords cross the network unencrypted: turn on HTTPS in Settings", true},
		{"plain on loopback", State{Hub: HubRunning}, "only this laptop", false},
		{"stopped", State{Hub: HubStopped, Exposed: true}, "–", false},
	} {
		got, warn := httpsLine(&tt.s)
		if !strings.Contains(got, tt.want) || warn != tt.warn {
			t.Errorf("%s: %q warn=%v, want %q warn=%v", tt.name, got, warn, tt.want, tt.warn)
		}
	}
}

// classState is a class in the middle of a lesson.
func classState() *State {
	s := &State{Hub: HubRunning, Owner: "teacher", ClassURL: "https://192.0.2.10:8000/",
		Fingerprint: testFingerprint, Exposed: true, PublicAddr: "0.0.0.0:8000", InternalAddr: "172.18.0.1:8081", Network: testNetwork,
		Image:    ImageStatus{Ref: "classhub/notebook:latest"},
		Notice:   "bob's server ran out of memory and stopped: raise memory_limit, or ask them to use less.",
		Capacity: "This laptop holds about 26 students (2 running now).",
		CapacityDetail: "Each server with a running kernel is taken to use about 228 MiB: an idle server of classhub/notebook:latest used 100 MiB " +
			"on this laptop, and a kernel adds about 128 MiB.",
		Users: []UserRow{
			{Name: "alice", Phase: ServerReady, LastActivity: testNow.Add(-2 * time.Minute),
				Stats: spawner.Stats{CPUPercent: 12, MemoryBytes: 310 << 20, MemoryLimit: 2 << 30}, HasStats: true},
			{Name: "bob", Phase: ServerFailed, Detail: "the server did not answer within 60s", LastActivity: testNow.Add(-3 * time.Hour)},
			{Name: "carol", Phase: ServerStarting, Progress: 45, Detail: "Waiting for the server"},
			{Name: "dave"},
			{Name: "teacher", Admin: true, Phase: ServerReady, LastActivity: testNow,
				Stats: spawner.Stats{CPUPercent: 3, MemoryBytes: 150 << 20, MemoryLimit: 2 << 30}, HasStats: true},
		},
		Selected: "alice",
		Logs:     "[I 10:28:01 ServerApp] Jupyter Server 1.23.6 is running at:\n[I 10:28:01 ServerApp] http://172.18.0.5:8888/user/alice/\n",
	}
	s.SetDoctor(okReport)
	return s
}

func renderDashboard(t *testing.T, s *State) (*Dashboard, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	d := NewDashboard(DashboardActions{}, func() time.Time { return testNow })
	w := test.NewTempWindow(t, d.Content())
	w.Resize(fyne.NewSize(1080, 760))
	d.Update(s)
	return d, w
}

func TestDashboardMarkup(t *testing.T) {
	_, w := renderDashboard(t, classState())
	test.AssertRendersToMarkup(t, "dashboard_class.xml", w.Canvas())
}

// TestDashboardListsTheSwarmsNodes: a swarm's machines, a line each,
// under the capacity's figures; one machine adds no line.
func TestDashboardListsTheSwarmsNodes(t *testing.T) {
	s := classState()
	d, _ := renderDashboard(t, s)
	if got := d.capacityDetail.Text; got != s.CapacityDetail {
		t.Errorf("one machine: detail %q, want %q alone", got, s.CapacityDetail)
	}
	s.Capacity = "The swarm's 2 machines hold about 83 students (2 running now)."
	s.Nodes = []string{"lab1 (manager, leader, the hub's): ready, active; 2 servers (alice, teacher); about 7.5 GiB of 8.0 GiB free; holds about 27 students.",
		"lab2 (worker): down, active; no server; about 16.0 GiB of 16.0 GiB free; new servers do not land here."}
	d.Update(s)
	if want := s.CapacityDetail + "\n" + s.Nodes[0] + "\n" + s.Nodes[1]; d.capacityDetail.Text != want || d.capacity.Text != s.Capacity {
		t.Errorf("swarm: capacity %q, detail %q, want %q", d.capacity.Text, d.capacityDetail.Text, want)
	}
	s.Hub = HubStopped
	d.Update(s)
	if d.capacityDetail.Text != "" {
		t.Errorf("a stopped hub still lists nodes: %q", d.capacityDetail.Text)
	}
}

// TestDashboardSaysWhatToDoWithARemoteEngine: the hub refused the engine
// DOCKER_HOST names on another machine; the banner says what to do
// instead, from the same doctor check `classhub doctor` prints.
func TestDashboardSaysWhatToDoWithARemoteEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://192.0.2.1:2376")
	refusal := engine.Locate("tcp://192.0.2.1:2376").Refusal()
	s := &State{Hub: HubError, Problem: refusal.Error(), Image: ImageStatus{Ref: "classhub/notebook:latest"}}
	s.SetDoctor(doctor.Run(t.Context(), config.Default()))
	d, _ := renderDashboard(t, s)
	if !d.banner.Visible() || d.bannerTitle.Text != "classhub could not start" ||
		!strings.Contains(d.bannerDetail.Text, "To fix it: "+refusal.Error()) {
		t.Errorf("banner %q: %q, want the refusal's advice", d.bannerTitle.Text, d.bannerDetail.Text)
	}
}

func TestDashboardMarkupDockerStopped(t *testing.T) {
	s := &State{Hub: HubError, Problem: engine.AdviceNotRunning, Image: ImageStatus{Ref: "classhub/notebook:latest"}}
	s.SetDoctor(doctor.Report{Checks: []doctor.Check{
		{Name: "docker", OK: true, Detail: "installed (/usr/bin/docker)"},
		{Name: "engine", Detail: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", Advice: engine.AdviceNotRunning},
	}})
	_, w := renderDashboard(t, s)
	test.AssertRendersToMarkup(t, "dashboard_docker_stopped.xml", w.Canvas())
}

func TestDashboardImageProgress(t *testing.T) {
	s := classState()
	s.Image = ImageStatus{Ref: "classhub/notebook:latest", Busy: true, Progress: 0.4, Detail: "Pulling classhub/notebook:latest"}
	d, _ := renderDashboard(t, s)
	if !d.imageBar.Visible() || d.imageBar.Value != 0.4 {
		t.Errorf("progress bar visible=%t value=%v, want 0.4 shown", d.imageBar.Visible(), d.imageBar.Value)
	}
	if d.image.Text != "classhub/notebook:latest: Pulling classhub/notebook:latest" {
		t.Errorf("image line %q", d.image.Text)
	}
	s.Image = ImageStatus{Ref: "classhub/notebook:latest", Checked: true, Present: false}
	d.Update(s)
	if d.imageBar.Visible() || d.image.Text != "classhub/notebook:latest is missing: run `classhub image build`" {
		t.Errorf("missing image: bar %t, line %q", d.imageBar.Visible(), d.image.Text)
	}
	// The command builds the image named, not the default one.
	s.Image.Ref = "classhub/notebook:classic"
	d.Update(s)
	if want := "classhub/notebook:classic is missing: run `classhub image build --profile classic --tag classhub/notebook:classic`"; d.image.Text != want {
		t.Errorf("missing classic image: line %q, want %q", d.image.Text, want)
	}
}

func TestDashboardBannerForFailedCheck(t *testing.T) {
	s := classState()
	s.SetDoctor(doctor.Report{Checks: []doctor.Check{
		{Name: "engine", OK: true},
		{Name: "probe", Detail: "no answer from 172.18.0.1", Advice: "a firewall may block containers from reaching 172.18.0.1"},
	}})
	d, _ := renderDashboard(t, s)
	if !d.banner.Visible() || d.retry.Visible() {
		t.Fatalf("banner %t retry %t, want the banner without Retry while the hub runs", d.banner.Visible(), d.retry.Visible())
	}
	if d.bannerTitle.Text != "Check probe: no answer from 172.18.0.1" || d.bannerDetail.Text != "To fix it: a firewall may block containers from reaching 172.18.0.1" {
		t.Errorf("banner %q / %q", d.bannerTitle.Text, d.bannerDetail.Text)
	}
	s.SetDoctor(okReport)
	d.Update(s)
	if d.banner.Visible() {
		t.Error("the banner stays when every check passes")
	}
}

func TestDashboardBannerSaysWhyTheHubDidNotStart(t *testing.T) {
	// The port is taken; the doctor also finds no LAN, which did not
	// stop the hub and must not hide the reason.
	s := &State{Hub: HubError, Problem: "listen on 0.0.0.0:8000: address already in use (is another classhub running? pass --listen with a free port)"}
	s.SetDoctor(doctor.Report{Checks: []doctor.Check{
		{Name: "engine", OK: true},
		{Name: "class link", Detail: "no LAN address found", Advice: "connect the laptop to the class network"},
	}})
	d, _ := renderDashboard(t, s)
	if d.bannerTitle.Text != "classhub could not start" || d.bannerDetail.Text != s.Problem || !d.retry.Visible() {
		t.Errorf("banner %q / %q, retry %t", d.bannerTitle.Text, d.bannerDetail.Text, d.retry.Visible())
	}
}

func TestDashboardLogsShowTheNewestLines(t *testing.T) {
	s := classState()
	d, _ := renderDashboard(t, s)
	var lines []string
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	s.Logs = strings.Join(lines, "\n")
	d.Update(s)
	if d.logScroll.Offset.Y == 0 || d.logScroll.Offset.Y+d.logScroll.Size().Height < d.logs.MinSize().Height-1 {
		t.Errorf("logs scrolled to %v of %v in a %v pane, want the bottom", d.logScroll.Offset.Y, d.logs.MinSize().Height, d.logScroll.Size().Height)
	}
}

func TestDashboardWarnsOfPlainHTTPInClassMode(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	d := h.u.dash
	if !strings.Contains(d.https.Text, "Passwords cross the network unencrypted: turn on HTTPS in Settings") || d.https.Importance != widget.DangerImportance {
		t.Errorf("a class hub on plain HTTP shows HTTPS %q (importance %v), want the warning", d.https.Text, d.https.Importance)
	}
}

// TestDashboardListsWeaknesses: a check that passed but is weak (here an
// engine too old for encrypted overlays) shows, with what to do, under
// "To improve"; with none, the row is not there.
func TestDashboardListsWeaknesses(t *testing.T) {
	s := classState()
	d, _ := renderDashboard(t, s)
	if d.protection.Visible() || d.protectionKey.Visible() {
		t.Errorf("no weak check, yet the dashboard shows %q", d.protection.Text)
	}
	weak := doctor.Check{Name: "overlay", OK: true, Weak: true, Detail: "Docker 20.10.5 takes unencrypted packets", Advice: "upgrade Docker on every node"}
	s.SetDoctor(doctor.Report{Checks: append(slices.Clone(okReport.Checks), weak)})
	d.Update(s)
	if want := "overlay: Docker 20.10.5 takes unencrypted packets; upgrade Docker on every node."; !d.protection.Visible() || d.protection.Text != want {
		t.Errorf("with a weak check the dashboard shows %q (visible %v), want %q", d.protection.Text, d.protection.Visible(), want)
	}
	s.SetDoctor(okReport)
	d.Update(s)
	if d.protection.Visible() {
		t.Error("the weakness stays shown after it went")
	}
}
