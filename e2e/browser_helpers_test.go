package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/internal/testenv"
)

// artifactsDir is where the browser test saves its screenshots: the folder
// CLASSHUB_ARTIFACTS names, else artifacts/browser at the top of the repo,
// which CI uploads.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CLASSHUB_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "browser")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("make the artifacts folder: %v", err)
	}
	// A failure screenshot of an earlier run would look like this run's.
	old, _ := filepath.Glob(filepath.Join(dir, "failed-*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	return dir
}

// browser is one headless Chromium for the whole test; each person in the
// walk gets a tab in a browser context of their own, so their cookies do
// not mix.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
	output    *lockedBuffer
}

// lockedBuffer keeps Chromium's output for failure messages, less its
// complaints about the D-Bus that a test machine has no session of.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if !bytes.Contains(line, []byte("dbus/")) {
			b.buf.Write(line)
		}
	}
	return len(p), nil
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// newBrowser starts Debian's chromium, headless and shut off from every
// address but loopback: host names do not resolve, and anything that is
// not loopback goes to a proxy that is not there (Chromium never proxies
// loopback), so a page or Chromium itself cannot reach the internet.
// Options such as classroom.browserTrust come last.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := testenv.Command(t, "chromium")
	b := &browser{t: t, artifacts: artifactsDir(t), output: &lockedBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests run as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.ProxyServer(fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "127.0.0.1"))),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.CombinedOutput(b.output),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// The first call starts the browser and ties it to ctx, which has no
	// deadline; steps get their own.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v\n%s", err, b.output.tail(4000))
	}
	b.ctx = ctx
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return b
}

// tab is one person's window.
type tab struct {
	b   *browser
	t   *testing.T // the (sub)test the tab works for now
	who string
	ctx context.Context

	mu      sync.Mutex
	console []string // the page's last console messages
	// pending are the tab's requests that have not finished, to tell a
	// hung request from a slow page in failure messages.
	pending map[network.RequestID]*request
	// networkChanged is set when Chromium dropped a page or a script
	// because the machine's addresses changed (see waitJS).
	networkChanged bool
}

type request struct {
	method, url string
	kind        network.ResourceType
	start       time.Time
	status      int64 // 0 until the response headers arrive
}

// tab opens a window in a fresh browser context (no cookies) for who.
func (b *browser) tab(t *testing.T, who string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{b: b, t: t, who: who, ctx: ctx}
	tb.attach("open a tab")
	tb.acceptDialogs()
	tb.keepConsole()
	tb.trackRequests()
	return tb
}

// child attaches to a window that this tab's page opened.
func (tb *tab) child(t *testing.T, ctx context.Context) *tab {
	c := &tab{b: tb.b, t: t, who: tb.who, ctx: ctx}
	c.attach("attach to the new window")
	c.acceptDialogs()
	c.keepConsole()
	c.trackRequests()
	return c
}

// attach makes the tab's first call. The first call ties the tab's life
// to its context, so it must be tb.ctx itself, not one with a deadline.
func (tb *tab) attach(what string) {
	tb.t.Helper()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tb.ctx) }()
	select {
	case err := <-done:
		if err != nil {
			tb.t.Fatalf("%s: %s: %v\nchromium said:\n%s", tb.who, what, err, tb.b.output.tail(4000))
		}
	case <-time.After(2 * time.Minute):
		tb.t.Fatalf("%s: %s: no answer from chromium in 2 minutes\nchromium said:\n%s", tb.who, what, tb.b.output.tail(4000))
	}
}

// keepConsole keeps the last console messages and uncaught errors of the
// tab's pages for failure messages.
func (tb *tab) keepConsole() {
	messages := chromedp.Console(tb.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, fmt.Sprintf("%s %s: %s", m.Type, m.URL, m))
			if len(tb.console) > 30 {
				tb.console = tb.console[len(tb.console)-30:]
			}
			tb.mu.Unlock()
		}
	}()
}

// trackRequests keeps the tab's unfinished requests.
func (tb *tab) trackRequests() {
	tb.pending = make(map[network.RequestID]*request)
	err := chromedp.Listen(tb.ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.pending[ev.RequestID] = &request{method: ev.Request.Method, url: ev.Request.URL, kind: ev.Type, start: time.Now()}
		case *network.EventResponseReceived:
			if r := tb.pending[ev.RequestID]; r != nil {
				r.status = ev.Response.Status
			}
		case *network.EventLoadingFinished:
			delete(tb.pending, ev.RequestID)
		case *network.EventLoadingFailed:
			delete(tb.pending, ev.RequestID)
			// Only a lost page or script breaks the page; event streams
			// and fetches retry by themselves.
			switch ev.Type {
			case network.ResourceTypeDocument, network.ResourceTypeScript, network.ResourceTypeStylesheet:
				tb.networkChanged = tb.networkChanged || ev.ErrorText == "net::ERR_NETWORK_CHANGED"
			}
		}
	})
	if err != nil {
		tb.t.Fatalf("%s: watch the tab's requests: %v", tb.who, err)
	}
}

// takeNetworkChanged reports whether Chromium dropped a request for a
// network change since the last call.
func (tb *tab) takeNetworkChanged() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	changed := tb.networkChanged
	tb.networkChanged = false
	return changed
}

func (tb *tab) pendingLines() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var lines []string
	for _, r := range tb.pending {
		if d := time.Since(r.start); d > 2*time.Second {
			lines = append(lines, fmt.Sprintf("%s %s (%s) for %v, status %d", r.method, r.url, r.kind, d.Round(time.Second), r.status))
		}
	}
	if len(lines) == 0 {
		return "(none)"
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (tb *tab) consoleLines() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.console) == 0 {
		return "(nothing)"
	}
	return strings.Join(tb.console, "\n")
}

// acceptDialogs answers "yes" to every confirm the page asks, as a person
// clicking OK would; the test logs each question.
func (tb *tab) acceptDialogs() {
	dialogs := chromedp.Events(tb.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.b.t.Logf("%s: the page asks %q; answering OK", tb.who, ev.Message)
			chromedp.Call(tb.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

// run runs actions with a deadline, and on failure ends the test with
// what the page showed.
func (tb *tab) run(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](tb *tab, expr string, opts ...chromedp.EvaluateOption) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		tb.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true, across page loads
// (an evaluation that fails because the page is changing counts as
// false).
func (tb *tab) waitJS(what string, timeout time.Duration, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	reloads := 0
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if reloads < 3 && tb.takeNetworkChanged() {
			// Chromium fails the requests in flight whenever an address of
			// the machine changes, which Docker networks and containers
			// (this test's and others') do at any time; the page lost its
			// scripts, and the hub did nothing wrong. Load it again, as a
			// person would.
			reloads++
			tb.t.Logf("%s: chromium dropped requests because the machine's network changed; reloading %s", tb.who, tb.location())
			rctx, rcancel := context.WithTimeout(tb.ctx, time.Minute)
			chromedp.Do(rctx, chromedp.Reload())
			rcancel()
			continue
		}
		if tb.ctx.Err() != nil || time.Now().After(deadline) {
			msg := fmt.Sprintf("%s: not so after %v", what, timeout)
			if last != nil {
				msg += fmt.Sprintf(" (last error: %v)", last)
			}
			tb.fatalf("%s", msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitPath waits until the page's path starts with prefix.
func (tb *tab) waitPath(what string, timeout time.Duration, prefix string) {
	tb.t.Helper()
	tb.waitJS(what, timeout, fmt.Sprintf("document.readyState !== 'loading' && location.pathname.startsWith(%q)", prefix))
}

// formLeadsTo waits until the form just sent has brought the page to a
// path starting with prefix, on whatever origin. Browsers check the page's
// form-action policy on each redirect after a form is sent, so a policy
// that leaves out users' origins stops the browser on the hub's page
// before it reaches a server: a failure says so when the console does.
func (tb *tab) formLeadsTo(what string, timeout time.Duration, prefix string) {
	tb.t.Helper()
	there := fmt.Sprintf(`document.readyState === "complete" && location.pathname.startsWith(%q)`, prefix)
	for deadline := time.Now().Add(timeout); ; time.Sleep(250 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](there))
		cancel()
		if err == nil && ok {
			return
		}
		if strings.Contains(tb.consoleLines(), "form-action") {
			tb.fatalf("%s: the hub's Content-Security-Policy form-action stopped the browser on its way to %s", what, prefix)
		}
		if time.Now().After(deadline) {
			tb.fatalf("%s: the browser is not at %s after %v", what, prefix, timeout)
		}
	}
}

// location is the page's URL.
func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return fmt.Sprintf("(unknown: %v)", err)
	}
	return u
}

// text is the page's visible text, for failure messages.
func (tb *tab) text() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(could not read the page: %v)", err)
	}
	s = strings.TrimSpace(s)
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

// shot saves a full-page PNG of the current page as name.png in the
// artifacts folder.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	file := filepath.Join(tb.b.artifacts, name+".png")
	if err := tb.screenshot(file); err != nil {
		tb.fatalf("screenshot %s: %v", name, err)
	}
	tb.t.Logf("%s: screenshot %s of %s", tb.who, file, tb.location())
}

// screenshot saves a full-page PNG. A page still laying itself out has
// no size yet, so a failed capture is tried again for a little while.
func (tb *tab) screenshot(file string) error {
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	var err error
	for range 20 {
		var png []byte
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			return os.WriteFile(file, png, 0o644)
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

// fatalf ends the test with where the browser is, what the page says and
// a screenshot of it.
func (tb *tab) fatalf(format string, args ...any) {
	tb.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if tb.ctx.Err() != nil {
		tb.t.Fatalf("%s: %s\n(the browser is gone: %v)\nchromium said:\n%s", tb.who, msg, tb.ctx.Err(), tb.b.output.tail(4000))
	}
	file := filepath.Join(tb.b.artifacts, fmt.Sprintf("failed-%s.png", tb.who))
	if err := tb.screenshot(file); err != nil {
		file = fmt.Sprintf("(none: %v)", err)
	}
	tb.t.Fatalf("%s: %s\nthe browser is at %s\nscreenshot: %s\nthe page says:\n%s\nthe console said:\n%s\nrequests unfinished after 2s:\n%s",
		tb.who, msg, tb.location(), file, indent(tb.text()), indent(tb.consoleLines()), indent(tb.pendingLines()))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// click clicks the first element matching a CSS selector once it is
// visible.
func (tb *tab) click(what, css string) {
	tb.t.Helper()
	tb.run("click "+what, time.Minute, chromedp.Click(chromedp.CSS(css)))
}

// typeInto focuses a field and types text into it.
func (tb *tab) typeInto(css, text string) {
	tb.t.Helper()
	tb.run("type into "+css, time.Minute, chromedp.SendKeys(chromedp.CSS(css), text))
}

// press sends one key with modifiers as a key down and up with no char
// event, the way editors that act on keydown (CodeMirror, the notebook's
// shortcuts) expect Enter and Shift+Enter.
func press(key string, code int64, modifiers ...chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var mods int64
		for _, m := range modifiers {
			mods |= int64(m)
		}
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: key, Modifiers: mods,
				WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// onEveryPage adds a script that runs in every page this tab loads from
// now on, before the page's own scripts.
func (tb *tab) onEveryPage(source string) {
	tb.t.Helper()
	tb.run("add a script to every page", time.Minute, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source})
		return err
	}))
}

// hubLogOnFailure shows the end of the hub's output when t fails: the hub
// is stopped first, so its output is complete and no longer written to.
func hubLogOnFailure(t *testing.T, c *classroom) {
	t.Cleanup(func() {
		if !t.Failed() || c.proc == nil {
			return
		}
		out, _ := c.proc.Stdout.(*bytes.Buffer)
		c.stop(syscall.SIGTERM)
		if out == nil {
			return
		}
		s := out.String()
		if len(s) > 8000 {
			s = "…" + s[len(s)-8000:]
		}
		t.Logf("the hub's output:\n%s", s)
	})
}

// browserTrust makes Chromium trust the classroom's HTTPS as a student
// who installed the hub's authority does: certificate errors are ignored
// only for chains that hold the authority's key (the hub sends it with
// its certificate), so every other certificate is checked as usual.
func (c *classroom) browserTrust() []chromedp.ExecAllocatorOption {
	if c.ca == nil {
		return nil
	}
	sum := sha256.Sum256(c.ca.RawSubjectPublicKeyInfo)
	return []chromedp.ExecAllocatorOption{chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(sum[:]))}
}

// appendConfig adds settings to the classroom's classhub.toml before
// serve reads it.
func appendConfig(t *testing.T, c *classroom, toml string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dataDir, "classhub.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(toml); err != nil {
		t.Fatal(err)
	}
}
