package web

import (
	"context"
	"encoding/json"
	"html"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/internal/qrtest"
)

// classEnv is adminEnv with the hub's class link.
func classEnv(t *testing.T) (*env, *client) {
	e, root := adminEnv(t)
	e.web.classURLOf = func() string { return "https://192.0.2.1:8000/" }
	return e, root
}

func TestClassPageShowsWhatARoomNeeds(t *testing.T) {
	e, root := classEnv(t)
	e.setJoinCode("K7MQ-X3PH-W9RT")
	e.web.fingerprint = testFingerprint
	// Students with setup codes waiting: none of it may reach the wall.
	accounts, err := e.hub.AddUsers(context.Background(), []string{"carol", "dave"}, false)
	if err != nil {
		t.Fatal(err)
	}
	e.loggedIn("alice")
	// An instructor starting bob's server does not make him joined.
	e.start("bob")

	p := root.get("/hub/class")
	wantStatus(t, p, http.StatusOK)
	halves := fingerprintHalves(testFingerprint)
	wantBody(t, p, `<p class="class-link" id="class-link">https://192.0.2.1:8000/</p>`,
		`<p class="class-code">K7MQ-X3PH-W9RT</p>`, "at https://192.0.2.1:8000/hub/signup",
		halves[0], halves[1],
		`<span class="class-number" id="class-joined">1</span> of <span id="class-students">4</span> students joined`,
		`<span class="class-number" id="class-running">1</span> servers running`,
		`<body class="bare">`)
	// No menu (the instructor's name, their tokens) and nobody's name
	// or code on the projector.
	wantNoBody(t, p, "Log out", "/hub/token", "root", "alice", "bob", "carol", "dave")
	for _, a := range accounts {
		if a.SetupCode == "" {
			t.Fatalf("%s got no setup code", a.Name)
		}
		wantNoBody(t, p, a.SetupCode)
	}
	if got := decodePageQR(t, p.Body); got != "https://192.0.2.1:8000/" {
		t.Errorf("the QR code reads %q, want the class link", got)
	}
	// It is never framed, nor kept in a cache with the join code on it.
	if p.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the class page may be framed: %q, %q", p.Header.Get("X-Frame-Options"), p.Header.Get("Content-Security-Policy"))
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", p.Header.Get("Cache-Control"))
	}
}

func TestClassPageWithoutSignUpOrHTTPS(t *testing.T) {
	e, root := adminEnv(t) // no class link from the hub: the page's own address
	p := root.get("/hub/class")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="class-link">http://hub.test/</p>`)
	wantNoBody(t, p, `id="class-join"`, `id="class-fingerprint"`, "signup")
	if got := decodePageQR(t, p.Body); got != "http://hub.test/" {
		t.Errorf("the QR code reads %q", got)
	}
	// A hub with external logins only has no join code to show, even
	// with one in its settings.
	off := New(Options{Hub: e.hub, Auth: e.web.auth, JoinCode: "K7MQ-X3PH-W9RT", PasswordsOff: true})
	req := httptest.NewRequest("GET", "http://hub.test/hub/class", nil)
	for _, ck := range root.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	off.Handler().ServeHTTP(rec, req)
	p = page{Response: rec.Result(), Body: rec.Body.String()}
	wantStatus(t, p, http.StatusOK)
	wantNoBody(t, p, `id="class-join"`, "K7MQ-X3PH-W9RT")
}

func TestClassPageIsForInstructors(t *testing.T) {
	e, _ := classEnv(t)
	e.setJoinCode("K7MQ-X3PH-W9RT")
	wantRedirect(t, e.client().get("/hub/class"), http.StatusFound, "/hub/login?next=%2Fhub%2Fclass")
	alice := e.loggedIn("alice")
	p := alice.get("/hub/class")
	wantStatus(t, p, http.StatusForbidden)
	wantNoBody(t, p, "K7MQ-X3PH-W9RT")

	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them
	root := e.loggedIn("root")
	for _, tt := range []struct {
		who    string
		c      *client
		target string
	}{
		{"a student", alice, "/hub/class/events?_xsrf=" + url.QueryEscape(alice.csrf())},
		{"nobody", e.client(), "/hub/class/events"},
		{"an instructor's browser without the page's token", root, "/hub/class/events"},
		{"an instructor's browser with a forged token", root, "/hub/class/events?_xsrf=" + strings.Repeat("0", 64)},
	} {
		f := tt.c.openFeedAt(ts, tt.target)
		if f.resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s opened the class feed: %s", tt.who, f.resp.Status)
		}
	}
}

// classFeed opens the class page's stream as class.js does.
func (c *client) classFeed(ts *httptest.Server) *feed {
	c.e.t.Helper()
	return c.openFeedAt(ts, "/hub/class/events?_xsrf="+url.QueryEscape(c.csrf()))
}

// nextCounts returns the feed's next counts.
func (f *feed) nextCounts() classCounts {
	f.t.Helper()
	for {
		line, err := f.br.ReadString('\n')
		if err != nil {
			f.t.Fatalf("the feed ended before the next counts: %v", err)
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var c classCounts
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			f.t.Fatalf("feed line %q: %v", line, err)
		}
		return c
	}
}

func TestClassEventsCountAsTheClassComesIn(t *testing.T) {
	e, root := classEnv(t)
	// Logins publish nothing: the stream finds them by counting again.
	e.web.classPoll = time.Millisecond
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them

	f := root.classFeed(ts)
	if f.resp.StatusCode != http.StatusOK || f.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed answered %s, %q", f.resp.Status, f.resp.Header.Get("Content-Type"))
	}
	if got := f.nextCounts(); got != (classCounts{Students: 2}) {
		t.Fatalf("first counts %+v, want 2 students, nobody in", got)
	}
	e.loggedIn("alice")
	if got := f.nextCounts(); got != (classCounts{Students: 2, Joined: 1}) {
		t.Fatalf("after alice logged in: %+v", got)
	}
	// Counts are sent only when they change, so the next is bob's
	// server, then his first use of it.
	e.start("bob")
	if got := f.nextCounts(); got != (classCounts{Students: 2, Joined: 1, Running: 1}) {
		t.Fatalf("after bob's start: %+v", got)
	}
	if err := e.store.RecordActivity(context.Background(), "bob", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := f.nextCounts(); got != (classCounts{Students: 2, Joined: 2, Running: 1}) {
		t.Fatalf("after bob used his server: %+v", got)
	}
}

func TestClassEventsEndWithTheLogin(t *testing.T) {
	e, root := classEnv(t)
	e.web.keepAlive = time.Millisecond
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close) // after the feeds' cleanups have closed them
	f := root.classFeed(ts)
	f.nextCounts()
	if _, err := e.store.DeleteSessionsForUser(context.Background(), "root"); err != nil {
		t.Fatal(err)
	}
	f.ends()
}

var qrSVGRE = regexp.MustCompile(`<svg class="class-qr" id="class-qr" viewBox="0 0 (\d+) (\d+)"[^>]*>.*?<path fill="#000" d="([^"]*)"/></svg>`)
var qrRunRE = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// decodePageQR draws the page's QR code as a browser would and reads it
// with a decoder independent of the encoder, as a phone would.
func decodePageQR(t *testing.T, body string) string {
	t.Helper()
	m := qrSVGRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no QR code on the page:\n%s", body)
	}
	size, _ := strconv.Atoi(m[1])
	path := html.UnescapeString(m[3])
	const scale = 8
	img := image.NewGray(image.Rect(0, 0, size*scale, size*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	runs := qrRunRE.FindAllStringSubmatch(path, -1)
	if len(runs) == 0 || len(qrRunRE.ReplaceAllString(path, "")) != 0 {
		t.Fatalf("the QR code's path is not runs of modules: %q", path)
	}
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		n, _ := strconv.Atoi(r[3])
		for px := x * scale; px < (x+n)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return qrtest.Decode(t, img)
}
