package core

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/spawner"
)

// fakeFolders records what handing out and collecting asked of the
// engine, and answers each student's collect with a tar it was given.
type fakeFolders struct {
	mu       sync.Mutex
	staged   map[string][]byte // staged tar streams by name
	unstaged []string
	kept     []string
	handed   map[string]string // user to dir
	fail     map[string]error
	tars     map[string][]byte // collect answers by user
	free     int64             // 0: not known
}

func newFakeFolders() *fakeFolders {
	return &fakeFolders{staged: map[string][]byte{}, handed: map[string]string{}, fail: map[string]error{}, tars: map[string][]byte{}}
}

func (f *fakeFolders) StageFolder(_ context.Context, _ string, r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := fmt.Sprintf("staged-%d", len(f.staged))
	f.staged[name] = b
	return name, nil
}

func (f *fakeFolders) FreeSpace(context.Context) (int64, bool) { return f.free, f.free > 0 }

func (f *fakeFolders) Keep(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kept = append(f.kept, name)
	return nil
}

func (f *fakeFolders) Unstage(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unstaged = append(f.unstaged, name)
	return nil
}

func (f *fakeFolders) Handout(_ context.Context, staged, user string, acct spawner.Account, dir, stamp string) ([]spawner.FileResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[user]; err != nil {
		return nil, err
	}
	if acct.Key == "" || !strings.HasPrefix(stamp, "handout ") {
		return nil, fmt.Errorf("account %+v, stamp %q", acct, stamp)
	}
	f.handed[user] = dir
	return []spawner.FileResult{{Path: "a.ipynb", Outcome: "copied"}}, nil
}

func (f *fakeFolders) CollectFolder(_ context.Context, user string, _ spawner.Account, dir string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[user]; err != nil {
		return nil, err
	}
	b, ok := f.tars[user]
	if !ok {
		return nil, fmt.Errorf("%s: %w", user, spawner.ErrNoFolder)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// FolderBytes answers the size of each collect answer's tar, more than
// its files hold, which the space check takes as it comes.
func (f *fakeFolders) FolderBytes(_ context.Context, dir string, accts map[string]spawner.Account) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sizes := map[string]int64{}
	for user := range accts {
		if b, ok := f.tars[user]; ok {
			sizes[user] = int64(len(b))
		}
	}
	return sizes, nil
}

func folder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "week1")
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHandoutReportsEachStudent(t *testing.T) {
	f := newFixture(t, "ann", "bob", "cat")
	ff := newFakeFolders()
	ff.fail["bob"] = errors.New("disk full")
	src := folder(t, map[string]string{"a.ipynb": "x", "data/b.csv": "1,2", ".ipynb_checkpoints/a-checkpoint.ipynb": "old"})
	var calls []int
	var mu sync.Mutex
	rs, err := Handout(context.Background(), f.store, ff, src, nil, func(done, total int) {
		mu.Lock()
		calls = append(calls, done)
		mu.Unlock()
		if total != 3 {
			t.Errorf("progress total %d", total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].User != "ann" || rs[0].Err != nil || rs[0].Count("copied") != 1 || rs[1].Err == nil || !strings.Contains(rs[1].Err.Error(), "bob") || rs[2].Err != nil {
		t.Errorf("results %+v", rs)
	}
	if len(calls) != 3 {
		t.Errorf("progress calls %v", calls)
	}
	if ff.handed["ann"] != "week1" || ff.handed["cat"] != "week1" {
		t.Errorf("handed %v", ff.handed)
	}
	// Handed out to everyone, it is kept for students added later.
	if len(ff.staged) != 1 || len(ff.unstaged) != 0 || len(ff.kept) != 1 {
		t.Errorf("staged %d, unstaged %v, kept %v", len(ff.staged), ff.unstaged, ff.kept)
	}
	tr := tar.NewReader(bytes.NewReader(ff.staged["staged-0"]))
	var names []string
	var manifest string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		if h.Name == "manifest" {
			b, _ := io.ReadAll(tr)
			manifest = string(b)
		}
	}
	if strings.Contains(strings.Join(names, " "), "checkpoint") || !strings.Contains(manifest, "\ta.ipynb\n") || !strings.Contains(manifest, "\tdata/b.csv\n") {
		t.Errorf("staged %v, manifest %q", names, manifest)
	}
}

func TestHandoutBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, "ann", "bob")
	src := folder(t, map[string]string{"a.ipynb": strings.Repeat("x", 1000)})
	link := folder(t, map[string]string{"a.ipynb": "x"})
	os.Symlink("/etc/passwd", filepath.Join(link, "pw"))
	for _, c := range []struct {
		name string
		src  string
		to   []string
		free int64
		want string
	}{
		{"missing folder", filepath.Join(t.TempDir(), "nope"), nil, 0, "no folder"},
		{"a file", filepath.Join(src, "a.ipynb"), nil, 0, "not a folder"},
		{"unknown name", src, []string{"ann", "zed"}, 0, "no user zed"},
		{"too large", src, nil, 2000, "needs up to"},
		{"a link inside", link, nil, 0, "not a plain file"},
		{"hidden name", filepath.Join(t.TempDir(), ".x"), nil, 0, "not a folder name"},
	} {
		ff := newFakeFolders()
		ff.free = c.free
		_, err := Handout(context.Background(), f.store, ff, c.src, c.to, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if len(ff.staged) != 0 || len(ff.handed) != 0 {
			t.Errorf("%s: something was done: %v %v", c.name, ff.staged, ff.handed)
		}
	}
	// Room enough: it goes ahead, to the students named only.
	ff := newFakeFolders()
	ff.free = 2000
	if _, err := Handout(context.Background(), f.store, ff, src, []string{"bob"}, nil); err != nil || len(ff.handed) != 1 || ff.handed["bob"] == "" {
		t.Errorf("with room: %v, %v", err, ff.handed)
	}
	// To some students only, it is not kept for the others to come.
	if len(ff.kept) != 0 || len(ff.unstaged) != 1 {
		t.Errorf("handed to bob: kept %v, unstaged %v", ff.kept, ff.unstaged)
	}
}

// hostile is a collected folder as a hostile student can shape it.
func hostile(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	add := func(h tar.Header, body string) {
		h.Size, h.ModTime = int64(len(body)), mod
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	add(tar.Header{Typeflag: tar.TypeDir, Name: "week1/"}, "")
	add(tar.Header{Name: "week1/a.ipynb"}, "work")
	add(tar.Header{Typeflag: tar.TypeSymlink, Name: "week1/up", Linkname: "../../.."}, "")
	// The link is left out, so this lands in a real folder "up", inside.
	add(tar.Header{Name: "week1/up/escaped"}, "in")
	add(tar.Header{Name: "week1/../../escaped"}, "bad")
	add(tar.Header{Name: "/etc/escaped"}, "bad")
	add(tar.Header{Name: "week1/sub/=cmd.csv"}, "1")
	add(tar.Header{Typeflag: tar.TypeChar, Name: "week1/dev"}, "")
	tw.Close()
	return buf.Bytes()
}

func TestCollectWritesOnlyInside(t *testing.T) {
	f := newFixture(t, "ann", "bob", "cat")
	ff := newFakeFolders()
	ff.tars["ann"] = hostile(t)
	ff.fail["cat"] = errors.New("engine gone")
	base := t.TempDir()
	out := filepath.Join(base, "out")
	rs, err := Collect(context.Background(), f.store, ff, "week1", out, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ann := rs[0]
	if ann.Files != 3 || ann.Bytes != 7 || ann.Skipped != 4 || ann.Err != nil || !ann.LastModified.Equal(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("ann: %+v", ann)
	}
	if !rs[1].Missing || rs[1].Err != nil || rs[2].Err == nil {
		t.Errorf("bob, cat: %+v %+v", rs[1], rs[2])
	}
	var found []string
	filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(base, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if strings.Join(found, " ") != "out/ann/a.ipynb out/ann/sub/=cmd.csv out/ann/up/escaped out/manifest.csv" {
		t.Errorf("files written: %v", found)
	}
	mf, _ := os.Open(filepath.Join(out, ManifestName))
	rows, err := csv.NewReader(mf).ReadAll()
	mf.Close()
	if err != nil || len(rows) != 4 || strings.Join(rows[1][:5], ",") != "ann,3,2026-12-06T10:00:00Z,7,false" || rows[2][4] != "true" || !strings.Contains(rows[3][5], "engine gone") {
		t.Errorf("manifest %v, %v", rows, err)
	}
	// Not into a folder that holds something, nor from an unknown name.
	if _, err := Collect(context.Background(), f.store, ff, "week1", out, nil, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("into a full folder: %v", err)
	}
	if _, err := Collect(context.Background(), f.store, ff, "week1", filepath.Join(base, "o2"), []string{"zed"}, nil); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "o2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unknown name made the folder: %v", err)
	}
	if _, err := Collect(context.Background(), f.store, ff, "../x", filepath.Join(base, "o3"), nil, nil); err == nil {
		t.Errorf("collect ../x: no error")
	}
}

// TestCollectNeedsRoom: a collect into a disk without room for every
// student's folder says how much it needs, how much is free and where,
// and writes nothing, not even OUTDIR; with room it runs.
func TestCollectNeedsRoom(t *testing.T) {
	f := newFixture(t, "ann", "bob")
	ff := newFakeFolders()
	ff.tars["ann"] = hostile(t)
	ff.tars["bob"] = hostile(t)
	need := int64(2 * len(ff.tars["ann"]))
	var asked string
	free := need - 1
	hostFree = func(p string) (int64, bool) { asked = p; return free, true }
	t.Cleanup(func() { hostFree = spawner.DiskFree })
	base := t.TempDir()
	out := filepath.Join(base, "new", "out")
	_, err := Collect(context.Background(), f.store, ff, "week1", out, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "needs "+Bytes(uint64(need))) || !strings.Contains(err.Error(), Bytes(uint64(free))+" free") ||
		!strings.Contains(err.Error(), base) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("collect without room: %v", err)
	}
	if asked != base {
		t.Errorf("free space asked at %q, want the nearest folder that exists, %q", asked, base)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 0 {
		t.Errorf("a refused collect wrote %v", ents)
	}
	free = need
	if rs, err := Collect(context.Background(), f.store, ff, "week1", out, nil, nil); err != nil || len(rs) != 2 || rs[0].Files == 0 {
		t.Fatalf("collect with just the room: %+v %v", rs, err)
	}
}

func TestHandoutSummary(t *testing.T) {
	files := func(outcomes ...string) []spawner.FileResult {
		var fs []spawner.FileResult
		for i, o := range outcomes {
			fs = append(fs, spawner.FileResult{Path: fmt.Sprintf("f%d.ipynb", i), Outcome: o})
		}
		return fs
	}
	for _, c := range []struct {
		files []spawner.FileResult
		want  string
	}{
		{nil, "nothing to do"},
		{files("copied", "copied"), "2 copied"},
		// In a fixed order, whatever the files' order; none for what is none.
		{files("failed", "same", "kept", "updated", "copied", "same"), "1 copied, 1 updated, 2 already there, 1 kept as they changed them, 1 failed"},
		{files("same"), "1 already there"},
	} {
		if got := (HandoutResult{User: "ann", Files: c.files}).Summary(); got != c.want {
			t.Errorf("%v: %q, want %q", c.files, got, c.want)
		}
	}
}

func TestCollectedSummary(t *testing.T) {
	changed := time.Date(2026, 12, 7, 9, 30, 0, 0, time.Local)
	for _, c := range []struct {
		c    Collected
		want string
	}{
		{Collected{User: "ann", Dir: "week1", Files: 1, Bytes: 2}, "1 file, 2 B"},
		{Collected{User: "ann", Dir: "week1", Files: 3, Bytes: 3 << 19, LastModified: changed}, "3 files, 1 MiB, last changed 2026-12-07 09:30"},
		{Collected{User: "ann", Dir: "week1", Files: 2, Bytes: 2048, Skipped: 1}, "2 files, 2 KiB (1 link or special file left out)"},
		{Collected{User: "ann", Dir: "week1", Files: 2, Bytes: 2048, Skipped: 3}, "2 files, 2 KiB (3 links or special files left out)"},
		{Collected{User: "ann", Dir: "week1", Missing: true}, "has no folder week1"},
		// A failure is its error; the CLI and the app say "failed", the
		// page a badge.
		{Collected{User: "ann", Dir: "week1", Err: errors.New("collect from ann: disk full")}, "collect from ann: disk full"},
	} {
		if got := c.c.Summary(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.c, got, c.want)
		}
	}

	rs := []Collected{{User: "ann", Files: 1}, {User: "bob", Missing: true}, {User: "cy", Err: errors.New("no")}}
	out := filepath.Join("tmp", "out")
	want := "collected week1 from 1 of 3 students into " + out + " (manifest: " + filepath.Join(out, "manifest.csv") + ")"
	if got := CollectSummary("week1", out, rs); got != want {
		t.Errorf("CollectSummary: %q, want %q", got, want)
	}
	if got := CollectSummary("week1", out, rs[:1]); !strings.Contains(got, "from 1 of 1 student into") {
		t.Errorf("CollectSummary of one: %q", got)
	}
}
