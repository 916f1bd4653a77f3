package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRotatesBeforeTheCapAndKeepsGenerations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.log")
	l, err := Open(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// 30 bytes a line: three lines fit in 100 bytes, a fourth does not.
	for i := range 10 {
		fmt.Fprintf(l, "line %02d %s\n", i, strings.Repeat("x", 21))
	}
	want := map[int]string{0: "09", 1: "06 07 08", 2: "03 04 05"}
	for g, lines := range want {
		b, err := os.ReadFile(Generation(path, g))
		if err != nil {
			t.Fatalf("generation %d: %v", g, err)
		}
		if len(b) > 100 {
			t.Errorf("generation %d holds %d bytes, past the cap of 100", g, len(b))
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			got = append(got, strings.Fields(line)[1])
		}
		if strings.Join(got, " ") != lines {
			t.Errorf("generation %d holds lines %v, want %s", g, got, lines)
		}
	}
	if _, err := os.Stat(Generation(path, 3)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a third generation was kept: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the log's mode is %v, %v; want 0600: it names users", fi.Mode(), err)
	}
}

func TestReopenedLogKeepsCountingItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.log")
	l, _ := Open(path, 50, 1)
	l.Write([]byte(strings.Repeat("a", 39) + "\n"))
	l.Close()
	l, err := Open(path, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte(strings.Repeat("b", 19) + "\n"))
	if b, _ := os.ReadFile(Generation(path, 1)); !strings.HasPrefix(string(b), "aaa") {
		t.Errorf("the reopened log did not rotate at its cap: .1 holds %q", b)
	}
}

func TestConcurrentWritesKeepWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.log")
	l, _ := Open(path, 1000, 3)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				fmt.Fprintf(l, "writer %d line %02d\n", w, i)
			}
		})
	}
	wg.Wait()
	l.Close()
	all, err := Read(path, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(all), "\n") {
		if !strings.HasPrefix(line, "writer ") || len(line) != len("writer 0 line 00") {
			t.Fatalf("a torn line %q", line)
		}
	}
	if _, err := l.Write([]byte("late\n")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("a write after Close: %v", err)
	}
}

func TestReadTailsAcrossGenerations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "classhub.log")
	if _, err := Read(path, 2, 10); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no log: %v, want ErrNotExist", err)
	}
	l, _ := Open(path, 20, 2)
	for i := range 7 {
		fmt.Fprintf(l, "line %d\n", i) // 7 bytes: two lines a file
	}
	l.Close()
	for _, tt := range []struct {
		n    int
		want string
	}{
		{1, "line 6\n"},
		{3, "line 4\nline 5\nline 6\n"},
		{0, "line 2\nline 3\nline 4\nline 5\nline 6\n"}, // lines 0 and 1 rotated away
		{100, "line 2\nline 3\nline 4\nline 5\nline 6\n"},
	} {
		if got, err := Read(path, 2, tt.n); err != nil || got != tt.want {
			t.Errorf("Read(%d) = %q, %v; want %q", tt.n, got, err, tt.want)
		}
	}
}

func TestAFailedRotationLosesNoLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "classhub.log")
	l, err := Open(path, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte("first line\n"))
	// Something in the way of the older generation: the log grows past
	// its cap rather than lose what comes next.
	if err := os.MkdirAll(filepath.Join(Generation(path, 1), "in the way"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("second line\n")); err != nil {
		t.Fatalf("a write when the rotation failed: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first line\nsecond line\n" {
		t.Errorf("the log holds %q", b)
	}

	// A rotation that could not open the new file leaves none open; the
	// next write opens it.
	l.mu.Lock()
	l.f.Close()
	l.f = nil
	l.mu.Unlock()
	if _, err := l.Write([]byte("third line\n")); err != nil {
		t.Fatalf("the write after a failed open: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), "third line\n") {
		t.Errorf("the log holds %q", b)
	}
}
