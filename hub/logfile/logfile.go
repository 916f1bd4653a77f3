// Package logfile keeps the hub's log on disk where desktop users can reach
// it: one file that, before it would grow past a size, is renamed NAME.1
// (NAME.1 to NAME.2, and so on) and started afresh, so a hub that runs
// for a term keeps a few generations and never fills the disk. It is the
// few lines classhub needs, not a logging library: no compression, no
// rotation by age, one writer per file.
package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// File is a size-capped log file with generations. Its Write is safe
// for concurrent use.
type File struct {
	path string
	max  int64
	keep int

	mu sync.Mutex
	// f is nil after Close, and after a rotation that could not open
	// the new file, which the next write tries again.
	f      *os.File
	size   int64
	closed bool
}

// Open opens the log at path for appending, readable by its owner
// only: it names users and what they did. Before a write would take it
// past maxBytes, the file becomes path.1 and the oldest of keep
// generations goes.
func Open(path string, maxBytes int64, keep int) (*File, error) {
	l := &File{path: path, max: maxBytes, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open the log: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// cap. p is written whole, so a record never straddles two files.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, fs.ErrClosed
	}
	if l.f == nil {
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		// A rotation that fails leaves the log growing, which beats
		// losing what comes next.
		_ = l.rotate()
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts the generations up by one, dropping the oldest, and
// starts an empty file.
func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	for i := l.keep; i > 1; i-- {
		if err := os.Rename(Generation(l.path, i-1), Generation(l.path, i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return errors.Join(err, l.open())
		}
	}
	var err error
	if l.keep > 0 {
		err = os.Rename(l.path, Generation(l.path, 1))
	} else {
		err = os.Truncate(l.path, 0)
	}
	return errors.Join(err, l.open())
}

// Close closes the file; later writes fail.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Generation is the name of path's n-th older generation; 0 is path
// itself.
func Generation(path string, n int) string {
	if n == 0 {
		return path
	}
	return path + "." + strconv.Itoa(n)
}

// Read returns the last n lines (every line when n <= 0) of the log at
// path and its keep older generations, oldest first. It reads the newest
// files first and stops once it has n lines. A log that does not exist
// is fs.ErrNotExist.
func Read(path string, keep, n int) (string, error) {
	var parts [][]byte
	lines := 0
	found := false
	for g := 0; g <= keep && (n <= 0 || lines < n); g++ {
		b, err := os.ReadFile(Generation(path, g))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read the log: %w", err)
		}
		found = true
		parts = append(parts, b)
		lines += bytes.Count(b, []byte("\n"))
	}
	if !found {
		return "", fmt.Errorf("read the log: %w", fs.ErrNotExist)
	}
	var all []byte
	for i := len(parts) - 1; i >= 0; i-- {
		all = append(all, parts[i]...)
	}
	if n > 0 {
		all = lastLines(all, n)
	}
	return string(all), nil
}

// lastLines is the last n lines of b, each ending in a newline (but
// perhaps the last).
func lastLines(b []byte, n int) []byte {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}
