package core

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Handing out copies a folder on the instructor's machine into every
// student's work folder, running or not; collecting gathers each
// student's copy back. Both read and write only through Folders, whose
// engine work keeps each student's volume apart (see spawner.Handout).

// Folders is what handing out and collecting need of the engine.
type Folders interface {
	// StageFolder puts the folder dir into the engine once; Keep keeps it
	// for students whose files are made later, and Unstage drops it.
	StageFolder(ctx context.Context, dir string, files io.Reader) (string, error)
	Keep(ctx context.Context, staged string) error
	Unstage(ctx context.Context, staged string) error
	Handout(ctx context.Context, staged, user string, acct spawner.Account, dir, stamp string) ([]spawner.FileResult, error)
	CollectFolder(ctx context.Context, user string, acct spawner.Account, dir string) (io.ReadCloser, error)
	// FolderBytes is, per user of accts who has folder dir, the bytes of
	// its files: what collecting it writes.
	FolderBytes(ctx context.Context, dir string, accts map[string]spawner.Account) (map[string]int64, error)
	// FreeSpace is the space free where the engine keeps volumes; ok is
	// false when that cannot be known (an engine on another machine).
	FreeSpace(ctx context.Context) (free int64, ok bool)
}

// FolderLimit bounds the students handed out to or collected from at
// once: each is a container and a copy, and the disk is shared.
const FolderLimit = 6

// HandoutResult is what a handout did for one student.
type HandoutResult struct {
	User  string
	Files []spawner.FileResult
	Err   error
}

// Count tells how many of r's files had outcome.
func (r HandoutResult) Count(outcome string) int {
	n := 0
	for _, f := range r.Files {
		if f.Outcome == outcome {
			n++
		}
	}
	return n
}

// Summary counts r's files by outcome, in a few words: the line the CLI,
// the hand-out page and the app show for a student, and the message of
// their hand-out progress event.
func (r HandoutResult) Summary() string {
	var parts []string
	for _, o := range []struct{ outcome, say string }{
		{"copied", "copied"}, {"updated", "updated"}, {"same", "already there"},
		{"kept", "kept as they changed them"}, {"failed", "failed"},
	} {
		if n := r.Count(o.outcome); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o.say))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// Progress is told after each student how many of total are done.
type Progress func(done, total int)

// perStudent is told after each student what was done for them, and how
// many of total are done; the running hub publishes it as an event.
type perStudent[R any] func(done, total int, r R)

// jobKey is the context key of WithJob.
type jobKey struct{}

// WithJob names the hand-outs and collects run with ctx in their events
// (events.Event.Job), so that a page that started one follows its own
// students' rows and not a colleague's run at the same time.
func WithJob(ctx context.Context, job string) context.Context {
	return context.WithValue(ctx, jobKey{}, job)
}

// jobOf is the run WithJob named in ctx, "" for none.
func jobOf(ctx context.Context) string {
	job, _ := ctx.Value(jobKey{}).(string)
	return job
}

func (p Progress) told(done, total int) {
	if p != nil {
		p(done, total)
	}
}

// FolderName checks the name a folder gets in the work folder: one plain
// name, as a student sees it in Jupyter's file browser.
func FolderName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\n\t\x00") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q is not a folder name classhub hands out or collects: name one folder, without a leading '.' or slashes", name)
	}
	return nil
}

// students resolves to, or every student (not the admins) when empty,
// failing on any name that does not exist before anything is done.
func students(ctx context.Context, st *store.Store, to []string) ([]store.User, error) {
	if len(to) == 0 {
		users, _, err := st.ListUsers(ctx, store.ListOptions{})
		if err != nil {
			return nil, err
		}
		var out []store.User
		for _, u := range users {
			if !u.Admin {
				out = append(out, u)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("there are no students yet: add some with `classhub users add`")
		}
		return out, nil
	}
	var out []store.User
	var missing []string
	seen := map[string]bool{}
	for _, name := range to {
		if seen[name] {
			continue
		}
		seen[name] = true
		u, err := getUser(ctx, st, name)
		if errors.Is(err, ErrNoSuchUser) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no user %s (`classhub users list` shows who exists); nothing was done: %w", strings.Join(missing, ", "), ErrNoSuchUser)
	}
	return out, nil
}

// handoutFile is one file of a folder to hand out.
type handoutFile struct {
	rel  string // slash-separated, inside the folder
	hash string
	size int64
}

// scanFolder lists the plain files under src with their hashes, leaving
// out Jupyter's checkpoints; a link or a file whose name has a newline is
// refused, so what is handed out is what the instructor sees.
func scanFolder(src string) ([]handoutFile, int64, error) {
	info, err := os.Stat(src)
	if err != nil {
		return nil, 0, fmt.Errorf("there is no folder %s to hand out: %w", src, err)
	}
	if !info.IsDir() {
		return nil, 0, fmt.Errorf("%s is a file, not a folder: put it in a folder and hand out the folder", src)
	}
	var files []handoutFile
	var total int64
	err = filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == ".ipynb_checkpoints" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a plain file (a link?): hand out a folder of plain files", p)
		}
		if strings.ContainsAny(rel, "\n\t\x00") {
			return fmt.Errorf("the name of %q has a tab or a line break, which classhub cannot hand out: rename it", p)
		}
		h, n, err := hashFile(p)
		if err != nil {
			return err
		}
		files = append(files, handoutFile{rel: rel, hash: h, size: n})
		total += n
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("the folder %s has no files to hand out", src)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, total, nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// packFolder writes files as a tar stream in the layout StageFolder
// takes: the files under "files/" and their manifest.
func packFolder(w io.Writer, src string, files []handoutFile) error {
	tw := tar.NewWriter(w)
	var man strings.Builder
	for _, f := range files {
		fmt.Fprintf(&man, "%s\t%s\n", f.hash, f.rel)
	}
	now := time.Now()
	if err := tw.WriteHeader(&tar.Header{Name: "manifest", Mode: 0o644, Size: int64(man.Len()), ModTime: now}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, man.String()); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.rel); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	names := []string{""}
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path.Join("files", d) + "/", Mode: 0o755, ModTime: now}); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := copyInto(tw, filepath.Join(src, filepath.FromSlash(f.rel)), f); err != nil {
			return err
		}
	}
	return tw.Close()
}

func copyInto(tw *tar.Writer, p string, f handoutFile) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if info.Size() != f.size {
		return fmt.Errorf("%s changed while it was handed out: try again", p)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "files/" + f.rel, Mode: 0o644, Size: f.size, ModTime: info.ModTime()}); err != nil {
		return err
	}
	_, err = io.CopyN(tw, in, f.size)
	return err
}

// Handout copies the folder src into work/NAME of each student of to
// (every student when empty), NAME being src's last element: new files
// are copied, files a student has not changed since the last handout are
// updated, and a file a student changed is kept, the new version landing
// beside it. It checks everything it can before it changes anything:
// the folder, the names, and the space free for a copy per student.
func Handout(ctx context.Context, st *store.Store, f Folders, src string, to []string, progress Progress) ([]HandoutResult, error) {
	return handout(ctx, st, f, src, to, func(done, total int, _ HandoutResult) { progress.told(done, total) })
}

func handout(ctx context.Context, st *store.Store, f Folders, src string, to []string, tell perStudent[HandoutResult]) ([]HandoutResult, error) {
	src = filepath.Clean(src)
	dir := filepath.Base(src)
	if err := FolderName(dir); err != nil {
		return nil, err
	}
	users, err := students(ctx, st, to)
	if err != nil {
		return nil, err
	}
	files, size, err := scanFolder(src)
	if err != nil {
		return nil, err
	}
	// A copy staged, and one per student at most.
	need := size * int64(len(users)+1)
	if avail, ok := f.FreeSpace(ctx); ok && need > avail {
		return nil, fmt.Errorf("handing out %s (%s) to %d students needs up to %s, and the disk Docker keeps volumes on has %s free: free some space or hand out less; nothing was done",
			src, Bytes(uint64(size)), len(users), Bytes(uint64(need)), Bytes(uint64(avail)))
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(packFolder(pw, src, files)) }()
	staged, err := f.StageFolder(ctx, dir, pr)
	pr.CloseWithError(errors.New("staged"))
	if err != nil {
		return nil, fmt.Errorf("hand out %s: %w; nothing was done", src, err)
	}
	defer func() {
		// Handed out to everyone, it is also everyone's to come: a
		// student added later gets it at their first start.
		if len(to) == 0 {
			if err := f.Keep(context.WithoutCancel(ctx), staged); err == nil {
				return
			}
		}
		f.Unstage(context.WithoutCancel(ctx), staged)
	}()
	stamp := "handout " + time.Now().Format("2006-01-02")
	byName := map[string]store.User{}
	names := make([]string, len(users))
	for i, u := range users {
		byName[u.Name], names[i] = u, u.Name
	}
	results := make([]HandoutResult, len(users))
	var done atomic.Int64
	Each(ctx, names, FolderLimit, func(ctx context.Context, name string) error {
		i := indexOf(names, name)
		rs, err := f.Handout(ctx, staged, name, AccountOf(byName[name]), dir, stamp)
		if err != nil {
			err = fmt.Errorf("hand out to %s: %w", name, err)
		}
		results[i] = HandoutResult{User: name, Files: rs, Err: err}
		tell(int(done.Add(1)), len(names), results[i])
		return err
	})
	return results, nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// ErrNoFolders is matched when the hub's spawner cannot reach students'
// files without their servers (a test's fake).
var ErrNoFolders = errors.New("this hub's spawner cannot hand out or collect folders")

func (h *Lifecycle) folders() (Folders, error) {
	f, ok := h.spawner.(Folders)
	if !ok {
		return nil, ErrNoFolders
	}
	return f, nil
}

// Handout is Handout on the running hub's store and engine.
func (h *Lifecycle) Handout(ctx context.Context, src string, to []string, progress Progress) ([]HandoutResult, error) {
	f, err := h.folders()
	if err != nil {
		return nil, err
	}
	return handout(ctx, h.store, f, src, to, func(done, total int, r HandoutResult) {
		e := events.Event{Kind: events.HandoutProgress, User: r.User, Current: int64(done), Total: int64(total), Message: r.Summary(), Job: jobOf(ctx)}
		if r.Err != nil {
			e.Failed, e.Reason, e.Message = true, events.ReasonFailed, r.Err.Error()
		}
		h.bus.Publish(e)
		progress.told(done, total)
	})
}

// Collect is Collect on the running hub's store and engine.
func (h *Lifecycle) Collect(ctx context.Context, dir, out string, to []string, progress Progress) ([]Collected, error) {
	f, err := h.folders()
	if err != nil {
		return nil, err
	}
	return collect(ctx, h.store, f, dir, out, to, func(done, total int, c Collected) {
		e := events.Event{Kind: events.CollectProgress, User: c.User, Current: int64(done), Total: int64(total), Message: c.Summary(), Job: jobOf(ctx)}
		if c.Err != nil {
			e.Failed, e.Reason = true, events.ReasonFailed
		}
		h.bus.Publish(e)
		progress.told(done, total)
	})
}
