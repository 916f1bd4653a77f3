package e2e

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestHandoutAndCollectCLI hands a folder out with the real binary to
// students whose servers never started, keeps a file a student changed
// on the second handout, and collects the folder back with its manifest;
// bad input is refused with nothing done.
func TestHandoutAndCollectCLI(t *testing.T) {
	c := newClassroom(t)
	t.Cleanup(func() { removeKeptHandouts(t, "classhub-e2e-"+c.suffix) })
	amy, bob, teacher := c.user("amy"), c.user("bob"), c.user("teacher")
	c.addUsers(amy, bob)
	c.classhub("users", "add", teacher, "--admin")

	src := filepath.Join(t.TempDir(), "week1")
	os.MkdirAll(filepath.Join(src, "data"), 0o755)
	os.WriteFile(filepath.Join(src, "intro.ipynb"), []byte(`{"cells": []}`), 0o644)
	os.WriteFile(filepath.Join(src, "data", "t.csv"), []byte("a,b\n1,2\n"), 0o644)

	out := c.classhubFails("", "handout", src, "--to", amy+",nobody"+c.suffix)
	if !strings.Contains(out, "no user nobody"+c.suffix) || !strings.Contains(out, "nothing was done") {
		t.Errorf("handout to an unknown name:\n%s", out)
	}
	out = c.classhubFails("", "handout", filepath.Join(t.TempDir(), "gone"))
	if !strings.Contains(out, "no folder") {
		t.Errorf("handout of a missing folder:\n%s", out)
	}

	out = c.classhub("handout", src)
	for _, want := range []string{"2/2 handed out to", amy + ": 2 copied", bob + ": 2 copied"} {
		if !strings.Contains(out, want) {
			t.Errorf("handout: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, teacher) {
		t.Errorf("handed out to the admin:\n%s", out)
	}

	// The instructor changes a notebook; amy had not touched hers, so it
	// is updated. Collect shows what each has.
	os.WriteFile(filepath.Join(src, "intro.ipynb"), []byte(`{"cells": [1]}`), 0o644)
	out = c.classhub("handout", src, "--to", amy)
	if !strings.Contains(out, amy+": 1 updated, 1 already there") {
		t.Errorf("second handout:\n%s", out)
	}

	dest := filepath.Join(t.TempDir(), "collected")
	out = c.classhub("collect", "week1", "--out", dest)
	if !strings.Contains(out, "collected week1 from 2 of 2 students") {
		t.Errorf("collect:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dest, amy, "intro.ipynb")); err != nil || string(b) != `{"cells": [1]}` {
		t.Errorf("amy's collected notebook: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, bob, "data", "t.csv")); err != nil || string(b) != "a,b\n1,2\n" {
		t.Errorf("bob's collected data: %q, %v", b, err)
	}
	f, err := os.Open(filepath.Join(dest, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || rows[1][0] != amy || rows[1][1] != "2" || rows[1][4] != "false" {
		t.Errorf("manifest: %v %v", rows, err)
	}

	out = c.classhub("collect", "week2", "--out", filepath.Join(t.TempDir(), "c2"))
	if !strings.Contains(out, amy+": has no folder week2") || !strings.Contains(out, "from 0 of 2") {
		t.Errorf("collect of a folder nobody has:\n%s", out)
	}
	out = c.classhubFails("", "collect", "week1", "--out", dest)
	if !strings.Contains(out, "not empty") {
		t.Errorf("collect into a full folder:\n%s", out)
	}
}

// removeKeptHandouts removes the folders a handout to everyone kept for
// the students of the hub on network.
func removeKeptHandouts(t *testing.T, network string) {
	docker := testenv.Docker(t)
	ctx := context.Background()
	vs, err := docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", spawner.LabelHandoutNetwork+"="+network))})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, v := range vs.Volumes {
		if err := docker.VolumeRemove(ctx, v.Name, true); err != nil {
			t.Errorf("cleanup %s: %v", v.Name, err)
		}
	}
}
