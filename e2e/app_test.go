package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/godbus/dbus/v5"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/internal/dbustest"
	"github.com/classhub/classhub/internal/qrtest"
	"github.com/classhub/classhub/internal/testenv"
)

// TestTrayOpensMyNotebook runs the desktop app as a person would, on a
// private X server and session bus, with a stand-in for the desktop's
// tray host (a StatusNotifierWatcher, as Tailscale's systray test does).
// It reads the tray menu over D-Bus, clicks "Open my notebook", and
// follows the link the app gave the browser (a fake xdg-open records it)
// to the person's notebook. With CLASSHUB_SCREENSHOT set it also saves a
// picture of the dashboard there (`make screenshot`).
func TestTrayOpensMyNotebook(t *testing.T) {
	bin := binary(t)
	xvfb := testenv.Command(t, "Xvfb")
	xdotool := testenv.Command(t, "xdotool")
	importCmd := testenv.Command(t, "import")
	docker := testenv.Docker(t)

	c := newClassroom(t)
	owner, alice, bob := c.user("owner"), c.user("alice"), c.user("bob")
	appendToConfig(t, c.dataDir, fmt.Sprintf("owner = %q\n", owner))
	c.classhub("users", "add", alice, bob)

	display := startXvfb(t, xvfb)
	busAddr := dbustest.SessionBus(t)
	watcher := newFakeWatcher(t, busAddr)
	record := fakeXdgOpen(t)
	app := startApp(t, bin, c.dataDir, display, busAddr, record.dir)

	item := watcher.await(t, app)
	menu := item.menu(t)

	// The hub opens behind the tray; the menu says so when it runs.
	layout := menu.awaitLabel(t, app, "My server: stopped", 3*time.Minute)
	wants := []string{"Open my notebook", "Start my server", "Stop my server (off)", "Delete my container…",
		"Class", "  " + c.base + "/ (off)", "  Copy class link", "  Show class page", "  Start all", "  Stop all", "Dashboard…", "Settings…", "Quit"}
	// The app rebuilds the menu item by item; a host reading it halfway
	// sees part of it, so read until the whole menu is there (or time out
	// and say what is missing).
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && !layout.hasAll(wants); time.Sleep(250 * time.Millisecond) {
		layout = menu.layout(t)
	}
	for _, want := range wants {
		if !layout.has(want) {
			t.Errorf("tray menu lacks %q:\n%s", want, layout)
		}
	}
	if n := strings.Count(layout.String(), "\nQuit\n"); n != 1 {
		t.Errorf("tray menu has %d Quit items, want 1 (ours):\n%s", n, layout)
	}

	menu.click(t, layout, "Open my notebook")
	link := record.await(t, app, 5*time.Minute)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(c.base) + `/hub/login-link/[A-Za-z0-9_-]{16,}\?next=`)
	if !re.MatchString(link) {
		t.Fatalf("the browser was given %q, want a login link to %s", link, c.base)
	}
	if n := len(record.urls()); n != 1 {
		t.Errorf("the browser was opened %d times, want once", n)
	}
	f := filters.NewArgs(filters.Arg("label", engine.LabelUser+"="+owner), filters.Arg("label", engine.ManagedFilter()))
	cs, err := docker.ContainerList(context.Background(), container.ListOptions{Filters: f})
	if err != nil || len(cs) != 1 || cs[0].State != "running" {
		t.Fatalf("the owner's container after Open my notebook: %+v, %v; want one running", cs, err)
	}
	menu.awaitLabel(t, app, "My server: ready", time.Minute)

	t.Run("dashboard", func(t *testing.T) {
		shot := captureWindow(t, xdotool, importCmd, display, app)
		if got := qrtest.Decode(t, shot); got != c.base+"/" {
			t.Errorf("the dashboard's QR code reads %q, want the class link %s/", got, c.base)
		}
		if out := os.Getenv("CLASSHUB_SCREENSHOT"); out != "" {
			// Show the owner's log (theirs is the third row; a miss only
			// leaves the log pane empty) and let a round of CPU and memory
			// samples arrive.
			click := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^classhub$",
				"mousemove", "--window", "%1", "60", "417", "click", "1")
			click.Env = append(os.Environ(), "DISPLAY="+display)
			click.Run()
			time.Sleep(7 * time.Second)
			shot = captureWindow(t, xdotool, importCmd, display, app)
			var buf bytes.Buffer
			png.Encode(&buf, shot)
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", out)
		}
	})

	t.Run("the link leads to the notebook, once", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 60 * time.Second}
		resp, err := browser.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/user/"+owner+"/") {
			t.Fatalf("the login link ended at %s with %s:\n%.300s", resp.Request.URL, resp.Status, body)
		}
		t.Logf("the login link led to %s", resp.Request.URL)
		if !bytes.Contains(body, []byte("notebook")) && !bytes.Contains(body, []byte("jupyter")) {
			t.Errorf("the page does not look like the notebook UI:\n%.300s", body)
		}
		jar2, _ := cookiejar.New(nil)
		again := &http.Client{Jar: jar2, Timeout: 60 * time.Second}
		resp, err = again.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.HasPrefix(resp.Request.URL.Path, "/user/"+owner+"/") {
			t.Errorf("the login link worked a second time")
		}
	})

	t.Run("Show class page opens the class page logged in", func(t *testing.T) {
		menu.click(t, menu.layout(t), "Show class page")
		var link string
		for end := time.Now().Add(time.Minute); link == "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if u := record.urls(); len(u) > 1 {
				link = u[1]
			}
			app.checkAlive(t)
		}
		if !strings.HasSuffix(link, "?next=%2Fhub%2Fclass") {
			t.Fatalf("the browser was given %q, want a login link to the class page", link)
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 60 * time.Second}
		resp, err := browser.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/hub/class" || !bytes.Contains(body, []byte(`id="class-link">`+c.base+`/<`)) {
			t.Errorf("the link ended at %s with %s:\n%.600s", resp.Request.URL, resp.Status, body)
		}
	})

	// Quitting from the desktop session (SIGTERM) leaves servers running:
	// the next start adopts them.
	app.stop(t)
	cs, _ = docker.ContainerList(context.Background(), container.ListOptions{Filters: f})
	if len(cs) != 1 || cs[0].State != "running" {
		t.Errorf("after the app quit the owner's container is %+v, want it still running", cs)
	}
}

func appendToConfig(t *testing.T, dataDir, lines string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dataDir, "classhub.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}

// startXvfb starts a private X server and returns its display, ":N".
// Xvfb picks a free display itself and writes its number to fd 3.
func startXvfb(t *testing.T, xvfb string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := readLineWithin(r, 30*time.Second)
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb gave no display: %v\n%s", err, logs.String())
	}
	return ":" + line
}

func readLineWithin(r io.Reader, timeout time.Duration) (string, error) {
	type result struct {
		s   string
		err error
	}
	c := make(chan result, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		c <- result{strings.TrimSpace(s), err}
	}()
	select {
	case res := <-c:
		if res.s != "" {
			return res.s, nil
		}
		return "", res.err
	case <-time.After(timeout):
		return "", fmt.Errorf("nothing after %s", timeout)
	}
}

// xdgOpen is a fake xdg-open that records the URLs it is given.
type xdgOpen struct{ dir, file string }

func fakeXdgOpen(t *testing.T) *xdgOpen {
	t.Helper()
	x := &xdgOpen{dir: t.TempDir()}
	x.file = filepath.Join(x.dir, "opened.txt")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$1\" >> %q\n", x.file)
	if err := os.WriteFile(filepath.Join(x.dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return x
}

func (x *xdgOpen) urls() []string {
	b, _ := os.ReadFile(x.file)
	return strings.Fields(string(b))
}

func (x *xdgOpen) await(t *testing.T, app *appProc, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if u := x.urls(); len(u) > 0 {
			return u[0]
		}
		app.checkAlive(t)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the browser was never opened; the app's output:\n%s", app.output())
	return ""
}

// appProc is the desktop app under test.
type appProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (a *appProc) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logs.Write(p)
}

func (a *appProc) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logs.String()
}

func (a *appProc) checkAlive(t *testing.T) {
	t.Helper()
	select {
	case <-a.done:
		t.Fatalf("the app exited (%v); its output:\n%s", a.cmd.ProcessState, a.output())
	default:
	}
}

func startApp(t *testing.T, bin, dataDir, display, busAddr, pathDir string) *appProc {
	t.Helper()
	a := &appProc{done: make(chan struct{})}
	a.cmd = exec.Command(bin, "--data-dir", dataDir)
	a.cmd.Env = append(os.Environ(),
		"DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+busAddr, "LANG=en_US.UTF-8",
		"PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"XDG_CONFIG_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir(), "WAYLAND_DISPLAY=")
	a.cmd.Stdout, a.cmd.Stderr = a, a
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-a.done
	})
	return a
}

// stop sends SIGTERM, as a desktop session ending does, and waits.
func (a *appProc) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
		if !a.cmd.ProcessState.Success() {
			t.Errorf("the app exited with %v after SIGTERM; its output:\n%s", a.cmd.ProcessState, a.output())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("the app did not quit after SIGTERM; its output:\n%s", a.output())
	}
}

// fakeWatcher owns org.kde.StatusNotifierWatcher on the private bus, the
// name a desktop's tray host owns, and hands over the items that register.
type fakeWatcher struct {
	conn  *dbus.Conn
	items chan trayItem
}

type trayItem struct {
	conn         *dbus.Conn
	sender, path string
}

// RegisterStatusNotifierItem is the method tray items call.
func (w *fakeWatcher) RegisterStatusNotifierItem(sender dbus.Sender, path string) *dbus.Error {
	select {
	case w.items <- trayItem{conn: w.conn, sender: string(sender), path: path}:
	default:
	}
	return nil
}

func newFakeWatcher(t *testing.T, addr string) *fakeWatcher {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &fakeWatcher{conn: conn, items: make(chan trayItem, 4)}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the watcher name: %v (reply %d)", err, reply)
	}
	return w
}

func (w *fakeWatcher) await(t *testing.T, app *appProc) trayItem {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case it := <-w.items:
			return it
		case <-app.done:
			t.Fatalf("the app exited before showing a tray icon; its output:\n%s", app.output())
		case <-deadline:
			t.Fatalf("no tray icon registered; the app's output:\n%s", app.output())
		}
	}
}

// trayMenu is the item's com.canonical.dbusmenu object.
type trayMenu struct{ obj dbus.BusObject }

func (it trayItem) menu(t *testing.T) trayMenu {
	t.Helper()
	// The menu's path is the item's Menu property, as a tray host reads it.
	v, err := it.conn.Object(it.sender, dbus.ObjectPath(it.path)).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("read the tray item's Menu property: %v", err)
	}
	p, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		t.Fatalf("the Menu property is %T, want an object path", v.Value())
	}
	return trayMenu{obj: it.conn.Object(it.sender, p)}
}

// menuEntry is one item of a dbusmenu layout.
type menuEntry struct {
	id       int32
	label    string
	enabled  bool
	sep      bool
	children []menuEntry
}

type menuLayout []menuEntry

func (m trayMenu) layout(t *testing.T) menuLayout {
	t.Helper()
	call := m.obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		t.Fatalf("GetLayout: %v", call.Err)
	}
	if len(call.Body) != 2 {
		t.Fatalf("GetLayout answered %d values", len(call.Body))
	}
	return parseEntry(call.Body[1]).children
}

// parseEntry reads a layout node, (ia{sv}av), as godbus decodes it.
func parseEntry(v any) menuEntry {
	if vv, ok := v.(dbus.Variant); ok {
		v = vv.Value()
	}
	parts, ok := v.([]any)
	if !ok || len(parts) != 3 {
		return menuEntry{}
	}
	e := menuEntry{enabled: true}
	e.id, _ = parts[0].(int32)
	props, _ := parts[1].(map[string]dbus.Variant)
	if l, ok := props["label"]; ok {
		e.label, _ = l.Value().(string)
	}
	if en, ok := props["enabled"]; ok {
		e.enabled, _ = en.Value().(bool)
	}
	if ty, ok := props["type"]; ok && ty.Value() == "separator" {
		e.sep = true
	}
	children, _ := parts[2].([]dbus.Variant)
	for _, c := range children {
		e.children = append(e.children, parseEntry(c))
	}
	return e
}

// String lists the menu as the app's tests describe it: "label",
// "label (off)", "---", submenu items indented.
func (l menuLayout) String() string {
	var b strings.Builder
	var walk func(es []menuEntry, indent string)
	walk = func(es []menuEntry, indent string) {
		for _, e := range es {
			switch {
			case e.sep:
				b.WriteString(indent + "---\n")
			case !e.enabled:
				b.WriteString(indent + e.label + " (off)\n")
			default:
				b.WriteString(indent + e.label + "\n")
			}
			walk(e.children, indent+"  ")
		}
	}
	b.WriteString("\n")
	walk(l, "")
	return b.String()
}

func (l menuLayout) has(line string) bool { return strings.Contains(l.String(), "\n"+line+"\n") }

// hasAll reports whether every line is in the menu.
func (l menuLayout) hasAll(lines []string) bool {
	for _, line := range lines {
		if !l.has(line) {
			return false
		}
	}
	return true
}

func (l menuLayout) find(label string) (menuEntry, bool) {
	var found menuEntry
	ok := false
	var walk func(es []menuEntry)
	walk = func(es []menuEntry) {
		for _, e := range es {
			if e.label == label && !ok {
				found, ok = e, true
			}
			walk(e.children)
		}
	}
	walk(l)
	return found, ok
}

// awaitLabel polls the layout, as a tray host redraws it, until an item
// labelled label appears.
func (m trayMenu) awaitLabel(t *testing.T, app *appProc, label string, timeout time.Duration) menuLayout {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var l menuLayout
	for time.Now().Before(deadline) {
		l = m.layout(t)
		if _, ok := l.find(label); ok {
			return l
		}
		app.checkAlive(t)
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the tray menu never showed %q; last menu:\n%s\nthe app's output:\n%s", label, l, app.output())
	return nil
}

// click sends the "clicked" event a tray host sends.
func (m trayMenu) click(t *testing.T, l menuLayout, label string) {
	t.Helper()
	e, ok := l.find(label)
	if !ok || !e.enabled {
		t.Fatalf("no enabled %q item to click:\n%s", label, l)
	}
	call := m.obj.Call("com.canonical.dbusmenu.Event", 0, e.id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	if call.Err != nil {
		t.Fatalf("click %q: %v", label, call.Err)
	}
}

// captureWindow captures the dashboard window from the X server.
func captureWindow(t *testing.T, xdotool, importCmd, display string, app *appProc) image.Image {
	t.Helper()
	env := append(os.Environ(), "DISPLAY="+display)
	search := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^classhub$")
	search.Env = env
	out, err := search.Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		t.Fatalf("no visible classhub window: %v; the app's output:\n%s", err, app.output())
	}
	file := filepath.Join(t.TempDir(), "dashboard.png")
	imp := exec.Command(importCmd, "-window", ids[0], file)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	return img
}
