package core

import (
	"archive/tar"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Collected is what a collect found of one student's folder.
type Collected struct {
	User string
	// Dir is the folder collected, as named in the student's work/.
	Dir   string
	Files int
	Bytes int64
	// LastModified is the newest file's time, zero when none.
	LastModified time.Time
	// Missing is set when the student has no such folder.
	Missing bool
	// Skipped counts what was not a plain file or folder (links), or had
	// a name that would leave the student's folder; none is copied.
	Skipped int
	Err     error
}

// Summary says what c found, in a few words: the line the CLI and the
// app show for a student after their name, and the message of their
// collect progress event, which the hand-out page shows. A failure is its
// error alone; each says it failed in its own way (a word, a badge).
func (c Collected) Summary() string {
	switch {
	case c.Err != nil:
		return c.Err.Error()
	case c.Missing:
		return "has no folder " + c.Dir
	}
	s := plural(c.Files, "file") + ", " + Bytes(uint64(c.Bytes))
	if !c.LastModified.IsZero() {
		s += ", last changed " + c.LastModified.Local().Format("2006-01-02 15:04")
	}
	switch {
	case c.Skipped == 1:
		s += " (1 link or special file left out)"
	case c.Skipped > 1:
		s += fmt.Sprintf(" (%d links or special files left out)", c.Skipped)
	}
	return s
}

// CollectSummary says what a collect of dir into out came to, in one
// sentence after each student's line: how many students' folders were
// gathered, of how many, and where the manifest is.
func CollectSummary(dir, out string, rs []Collected) string {
	got := 0
	for _, r := range rs {
		if r.Err == nil && !r.Missing {
			got++
		}
	}
	return fmt.Sprintf("collected %s from %d of %s into %s (manifest: %s)", dir, got, plural(len(rs), "student"), out, filepath.Join(out, ManifestName))
}

// ManifestName is the file Collect writes in OUTDIR, one row a student.
const ManifestName = "manifest.csv"

// Collect copies work/DIR of each student of to (every student when
// empty) into out/STUDENT/, and writes out/manifest.csv. The students'
// files are read through read-only mounts and never changed; only plain
// files and folders are written, each inside out/STUDENT. out must be
// new or empty, so nothing is mixed with an earlier collect.
func Collect(ctx context.Context, st *store.Store, f Folders, dir, out string, to []string, progress Progress) ([]Collected, error) {
	return collect(ctx, st, f, dir, out, to, func(done, total int, _ Collected) { progress.told(done, total) })
}

func collect(ctx context.Context, st *store.Store, f Folders, dir, out string, to []string, tell perStudent[Collected]) ([]Collected, error) {
	if err := FolderName(dir); err != nil {
		return nil, err
	}
	users, err := students(ctx, st, to)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(users))
	byName := map[string]store.User{}
	accts := map[string]spawner.Account{}
	for i, u := range users {
		names[i], byName[u.Name], accts[u.Name] = u.Name, u, AccountOf(u)
	}
	if err := emptyDir(out, false); err != nil {
		return nil, err
	}
	if err := roomFor(ctx, f, dir, out, accts); err != nil {
		return nil, err
	}
	if err := emptyDir(out, true); err != nil {
		return nil, err
	}
	results := make([]Collected, len(users))
	var done atomic.Int64
	Each(ctx, names, FolderLimit, func(ctx context.Context, name string) error {
		i := indexOf(names, name)
		results[i] = collectOne(ctx, f, byName[name], dir, out)
		tell(int(done.Add(1)), len(names), results[i])
		return results[i].Err
	})
	if err := writeManifest(filepath.Join(out, ManifestName), results); err != nil {
		return results, err
	}
	return results, nil
}

// hostFree is the space free at a folder of this machine, ok false when
// it cannot be known; tests replace it.
var hostFree = spawner.DiskFree

// roomFor checks, before anything is written, that the disk out will be
// on has room for every student's folder dir.
func roomFor(ctx context.Context, f Folders, dir, out string, accts map[string]spawner.Account) error {
	at := filepath.Clean(out)
	for {
		if _, err := os.Stat(at); err == nil || filepath.Dir(at) == at {
			break
		}
		at = filepath.Dir(at)
	}
	free, ok := hostFree(at)
	if !ok {
		return nil
	}
	sizes, err := f.FolderBytes(ctx, dir, accts)
	if err != nil {
		return fmt.Errorf("collect %s: %w; nothing was written", dir, err)
	}
	var need int64
	for _, n := range sizes {
		need += n
	}
	if need > free {
		return fmt.Errorf("collecting %s from %d students needs %s, and the disk %s is on has %s free: free some space or collect into a folder on another disk; nothing was written",
			dir, len(sizes), Bytes(uint64(need)), at, Bytes(uint64(free)))
	}
	return nil
}

// emptyDir checks out is an empty folder, or is not there yet; with
// create, it makes it then.
func emptyDir(out string, create bool) error {
	if out == "" {
		return errors.New("say where to put the collected folders (--out OUTDIR)")
	}
	ents, err := os.ReadDir(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if !create {
			return nil
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", out, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", out, err)
	case len(ents) > 0:
		return fmt.Errorf("%s is not empty: collect into a new folder, so nothing mixes with what is there", out)
	}
	return nil
}

func collectOne(ctx context.Context, f Folders, u store.User, dir, out string) Collected {
	c := Collected{User: u.Name, Dir: dir}
	// Usernames are safe names already; never trust that for a path.
	if !filepath.IsLocal(u.Name) || strings.ContainsAny(u.Name, `/\`) {
		c.Err = fmt.Errorf("collect from %s: the name cannot be a folder name", u.Name)
		return c
	}
	rc, err := f.CollectFolder(ctx, u.Name, AccountOf(u), dir)
	if errors.Is(err, spawner.ErrNoFolder) {
		c.Missing = true
		return c
	}
	if err != nil {
		c.Err = fmt.Errorf("collect from %s: %w", u.Name, err)
		return c
	}
	defer rc.Close()
	if err := os.Mkdir(filepath.Join(out, u.Name), 0o755); err != nil {
		c.Err = fmt.Errorf("collect from %s: %w", u.Name, err)
		return c
	}
	root, err := os.OpenRoot(filepath.Join(out, u.Name))
	if err != nil {
		c.Err = fmt.Errorf("collect from %s: %w", u.Name, err)
		return c
	}
	defer root.Close()
	if err := untarInto(root, tar.NewReader(rc), dir, &c); err != nil {
		c.Err = fmt.Errorf("collect from %s: %w", u.Name, err)
	}
	return c
}

// untarInto writes the plain files and folders of tr, whose entries start
// with dir, into root. os.Root keeps every write inside it whatever the
// names say; names that would leave it are skipped before that.
func untarInto(root *os.Root, tr *tar.Reader, dir string, c *Collected) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		rel, ok := strings.CutPrefix(name, dir+"/")
		if name == dir {
			continue
		}
		if !ok || !filepath.IsLocal(filepath.FromSlash(rel)) {
			c.Skipped++
			continue
		}
		rel = filepath.FromSlash(rel)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if d := filepath.Dir(rel); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			w, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			n, err := io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			root.Chtimes(rel, h.ModTime, h.ModTime)
			c.Files++
			c.Bytes += n
			if h.ModTime.After(c.LastModified) {
				c.LastModified = h.ModTime
			}
		default:
			c.Skipped++
		}
	}
}

func writeManifest(p string, results []Collected) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"student", "files", "last modified", "bytes", "missing", "error"})
	for _, r := range results {
		last := ""
		if !r.LastModified.IsZero() {
			last = r.LastModified.UTC().Format(time.RFC3339)
		}
		why := ""
		if r.Err != nil {
			why = r.Err.Error()
		}
		w.Write([]string{r.User, strconv.Itoa(r.Files), last, strconv.FormatInt(r.Bytes, 10), strconv.FormatBool(r.Missing), inert(why)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// inert keeps a cell from being read as a formula by a spreadsheet: an
// error can quote a file name a student chose.
func inert(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
