package web

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
)

func zipOf(t *testing.T, files map[string]string, links ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	for _, name := range links {
		h := &zip.FileHeader{Name: name}
		h.SetMode(os.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		w.Write([]byte("/etc/passwd"))
	}
	zw.Close()
	return buf.Bytes()
}

func TestUnzipFolder(t *testing.T) {
	unzip := func(b []byte, name string) (string, error) {
		dst := filepath.Join(t.TempDir(), name)
		return dst, unzipFolder(bytes.NewReader(b), int64(len(b)), dst, name)
	}
	// A zip of the folder itself gives its contents.
	dst, err := unzip(zipOf(t, map[string]string{"week1/a.ipynb": "a", "week1/d/b.csv": "b", "__MACOSX/week1/._a.ipynb": "x"}), "week1")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "d", "b.csv")); err != nil || string(b) != "b" {
		t.Errorf("unzipped: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dst, "__MACOSX")); err == nil {
		t.Errorf("the Mac's extras were unzipped")
	}
	for _, c := range []struct {
		zip  []byte
		want string
	}{
		{zipOf(t, map[string]string{"../escaped": "x"}), "outside its folder"},
		{zipOf(t, map[string]string{"/etc/escaped": "x"}), "outside its folder"},
		{zipOf(t, map[string]string{`a\..\..\escaped`: "x"}), "outside its folder"},
		{zipOf(t, map[string]string{"a.txt": "x"}, "link"), "not a plain file"},
		{[]byte("not a zip"), "not a zip file"},
	} {
		base := t.TempDir()
		err := unzipFolder(bytes.NewReader(c.zip), int64(len(c.zip)), filepath.Join(base, "w"), "w")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("unzip: %v, want %q", err, c.want)
		}
		if ents, _ := os.ReadDir(filepath.Dir(base)); len(ents) == 0 {
			t.Errorf("temp dir vanished")
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(base), "escaped")); err == nil {
			t.Errorf("a zip entry escaped")
		}
	}
}

func (c *client) upload(target string, fields map[string]string, file string, body []byte) page {
	c.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		w, _ := mw.CreateFormFile("zip", file)
		w.Write(body)
	}
	mw.Close()
	return c.do("POST", target, &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// TestAdminHandoutPage: the page is for instructors who manage everyone,
// bad uploads and names are refused with a sentence, and a hub whose
// engine cannot reach files says so.
func TestAdminHandoutPage(t *testing.T) {
	e, root := adminEnv(t)
	wantBody(t, root.get("/hub/admin"), `href="/hub/admin/handout"`)
	p := root.get("/hub/admin/handout")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `action="/hub/admin/handout"`, `action="/hub/admin/collect"`)
	alice := e.loggedIn("alice")
	wantStatus(t, alice.get("/hub/admin/handout"), http.StatusForbidden)
	good := zipOf(t, map[string]string{"week1/a.ipynb": "a"})
	wantStatus(t, alice.upload("/hub/admin/handout", map[string]string{"_xsrf": alice.csrf()}, "week1.zip", good), http.StatusForbidden)
	wantStatus(t, root.upload("/hub/admin/handout", nil, "week1.zip", good), http.StatusForbidden)
	wantStatus(t, alice.post("/hub/admin/collect", url.Values{"_xsrf": {alice.csrf()}, "dir": {"week1"}}), http.StatusForbidden)

	tok := root.csrf()
	for _, c := range []struct {
		fields map[string]string
		file   string
		body   []byte
		status int
		want   string
	}{
		{map[string]string{"_xsrf": tok}, "", nil, http.StatusBadRequest, "Choose a zip file"},
		{map[string]string{"_xsrf": tok, "folder": "../etc"}, "week1.zip", good, http.StatusBadRequest, "is not a folder name"},
		{map[string]string{"_xsrf": tok}, "week1.zip", zipOf(t, map[string]string{"../x": "x"}), http.StatusBadRequest, "outside its folder"},
		{map[string]string{"_xsrf": tok}, "week1.zip", good, http.StatusServiceUnavailable, "cannot hand out"},
	} {
		p := root.upload("/hub/admin/handout", c.fields, c.file, c.body)
		wantStatus(t, p, c.status)
		wantBody(t, p, c.want)
	}
	p = root.post("/hub/admin/collect", url.Values{"_xsrf": {tok}, "dir": {"../x"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "is not a folder name")
}

// gatedFolders hands out and collects at once for every student but
// those with a gate, who wait until it is closed: the test decides who
// is done when.
type gatedFolders struct {
	*spawnertest.Spawner
	gates map[string]chan struct{}
}

func (f *gatedFolders) wait(user string) {
	if g := f.gates[user]; g != nil {
		<-g
	}
}

func (f *gatedFolders) StageFolder(_ context.Context, _ string, r io.Reader) (string, error) {
	_, err := io.Copy(io.Discard, r)
	return "staged", err
}
func (f *gatedFolders) Keep(context.Context, string) error    { return nil }
func (f *gatedFolders) Unstage(context.Context, string) error { return nil }
func (f *gatedFolders) FreeSpace(context.Context) (int64, bool) {
	return 0, false
}
func (f *gatedFolders) FolderBytes(context.Context, string, map[string]spawner.Account) (map[string]int64, error) {
	return map[string]int64{"alice": 2, "bob": 2}, nil
}
func (f *gatedFolders) Handout(_ context.Context, _, user string, _ spawner.Account, _, _ string) ([]spawner.FileResult, error) {
	f.wait(user)
	return []spawner.FileResult{{Path: "a.ipynb", Outcome: "copied"}}, nil
}
func (f *gatedFolders) CollectFolder(_ context.Context, user string, _ spawner.Account, dir string) (io.ReadCloser, error) {
	f.wait(user)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: dir + "/a.ipynb", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg, ModTime: time.Date(2026, 12, 7, 9, 30, 0, 0, time.Local)})
	tw.Write([]byte("hi"))
	tw.Close()
	return io.NopCloser(&buf), nil
}

// TestAdminHandoutLiveRows: while bob is still being handed out to and
// collected from, alice's row is already on the hand-out page's feed;
// the form's answer comes when both are done.
func TestAdminHandoutLiveRows(t *testing.T) {
	folders := &gatedFolders{gates: map[string]chan struct{}{}}
	e := newEnvWith(t, func(s *spawnertest.Spawner) spawner.Spawner { folders.Spawner = s; return folders })
	e.addUser("root", "root-password", true)
	e.addUser("alice", "alice-password", false)
	e.addUser("bob", "bobs-password", false)
	root := e.loggedIn("root")
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	tok := root.csrf()

	// The feed is an instructor's who may manage everyone, with the page's token.
	alice := e.loggedIn("alice")
	if f := alice.openFeedAt(ts, "/hub/admin/handout/events?_xsrf="+url.QueryEscape(alice.csrf())); f.resp.StatusCode != http.StatusForbidden {
		t.Errorf("a student opened the hand-out feed: %s", f.resp.Status)
	}
	if f := root.openFeedAt(ts, "/hub/admin/handout/events"); f.resp.StatusCode != http.StatusForbidden {
		t.Errorf("the hand-out feed opened without the page's token: %s", f.resp.Status)
	}

	for _, run := range []struct {
		kind events.Kind
		post func() page
		want string
	}{
		{events.HandoutProgress, func() page {
			return root.upload("/hub/admin/handout", map[string]string{"_xsrf": tok}, "week1.zip", zipOf(t, map[string]string{"week1/a.ipynb": "a"}))
		}, "1 copied"},
		// The hub's sentence for alice, as the CLI and the app say it.
		{events.CollectProgress, func() page {
			return root.post("/hub/admin/collect", url.Values{"_xsrf": {tok}, "dir": {"week1"}})
		}, "1 file, 2 B, last changed 2026-12-07 09:30"},
	} {
		f := root.openFeedAt(ts, "/hub/admin/handout/events?_xsrf="+url.QueryEscape(tok))
		if f.resp.StatusCode != http.StatusOK {
			t.Fatalf("the hand-out feed answered %s", f.resp.Status)
		}
		gate := make(chan struct{})
		folders.gates["bob"] = gate
		answered := make(chan page, 1)
		go func() { answered <- run.post() }()
		got := f.next()
		if got.Kind != run.kind || got.User != "alice" || got.Current != 1 || got.Total != 2 || got.Failed || got.Message != run.want {
			t.Fatalf("first %s row: %+v", run.kind, got)
		}
		select {
		case p := <-answered:
			t.Fatalf("the form answered %s before bob was done", p.Status)
		case <-time.After(50 * time.Millisecond):
		}
		close(gate)
		if got := f.next(); got.User != "bob" || got.Current != 2 || got.Total != 2 {
			t.Fatalf("second %s row: %+v", run.kind, got)
		}
		p := <-answered
		wantStatus(t, p, http.StatusOK)
		if run.kind == events.HandoutProgress {
			wantBody(t, p, `<tr data-user="alice">`, `<tr data-user="bob">`, "1 copied", `id="live"`, "handout.js")
		}
	}
}

// TestAdminHandoutRowsOfItsOwnRun: a page's feed, named for its run, gets
// that run's rows and not those of a colleague's run on another page.
func TestAdminHandoutRowsOfItsOwnRun(t *testing.T) {
	folders := &gatedFolders{gates: map[string]chan struct{}{}}
	e := newEnvWith(t, func(s *spawnertest.Spawner) spawner.Spawner { folders.Spawner = s; return folders })
	e.addUser("root", "root-password", true)
	e.addUser("colleague", "colleague-password", true)
	e.addUser("alice", "alice-password", false)
	root, colleague := e.loggedIn("root"), e.loggedIn("colleague")
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	zip := zipOf(t, map[string]string{"week1/a.ipynb": "a"})

	f := root.openFeedAt(ts, "/hub/admin/handout/events?job=mine-1&_xsrf="+url.QueryEscape(root.csrf()))
	if f.resp.StatusCode != http.StatusOK {
		t.Fatalf("the hand-out feed answered %s", f.resp.Status)
	}
	wantStatus(t, colleague.upload("/hub/admin/handout", map[string]string{"_xsrf": colleague.csrf(), "job": "theirs-2"}, "week1.zip", zip), http.StatusOK)
	wantStatus(t, colleague.post("/hub/admin/collect", url.Values{"_xsrf": {colleague.csrf()}, "dir": {"week1"}, "job": {"theirs-3"}}), http.StatusOK)
	wantStatus(t, root.upload("/hub/admin/handout", map[string]string{"_xsrf": root.csrf(), "job": "mine-1", "to": "alice"}, "week1.zip", zip), http.StatusOK)
	if got := f.next(); got.Job != "mine-1" || got.Kind != events.HandoutProgress || got.User != "alice" || got.Total != 1 {
		t.Errorf("the first row on the page's feed is %+v, want its own run's row for alice", got)
	}
}

func TestJobName(t *testing.T) {
	for in, want := range map[string]string{
		"0a1b-C9":               "0a1b-C9",
		"":                      "",
		"has space":             "",
		"a/b":                   "",
		"é":                     "",
		strings.Repeat("a", 65): "",
		strings.Repeat("a", 64): strings.Repeat("a", 64),
	} {
		if got := jobName(in); got != want {
			t.Errorf("jobName(%q) = %q, want %q", in, got, want)
		}
	}
}
