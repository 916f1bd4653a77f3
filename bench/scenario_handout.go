package bench

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/classhub/classhub/hub/core"
)

// HandoutResult is scenario 9: a folder handed out to a class and
// collected back, through `classhub handout` and `classhub collect`
// (core's and the spawner's code, as every surface runs it), against a
// plain `docker cp` into and out of each student's volume.
type HandoutResult struct {
	Students  int     `json:"students"`
	FolderMiB float64 `json:"folder_mib"`
	Files     int     `json:"files"`
	// Concurrency is how many students both sides copy at once:
	// classhub's own bound (core.FolderLimit), which the floor gets too.
	Concurrency       int     `json:"concurrency"`
	FloorHandoutMS    float64 `json:"floor_handout_ms"`
	ClasshubHandoutMS float64 `json:"classhub_handout_ms"`
	FloorCollectMS    float64 `json:"floor_collect_ms"`
	ClasshubCollectMS float64 `json:"classhub_collect_ms"`
}

// handoutFolder is the name of the folder scenario 9 hands out.
const handoutFolder = "lesson"

// handoutFiles is how many files the folder splits its bytes into: a few
// notebooks and data files, as a day's lesson has.
const handoutFiles = 10

func (l *lab) handoutUser(i int) string { return fmt.Sprintf("hand%02d%s", i, l.suffix) }

// handouts is scenario 9. The floor and classhub each copy the same
// folder into fresh volumes, one per student, then read it back into a
// folder of their own; both are checked to have moved every byte.
func (l *lab) handouts(ctx context.Context) error {
	p := l.rep.Params
	src := filepath.Join(l.dir, "handout-src")
	size := int64(p.HandoutMiB) << 20
	if err := writeHandoutFolder(filepath.Join(src, handoutFolder), size, handoutFiles); err != nil {
		return err
	}
	res := &HandoutResult{Students: p.HandoutStudents, FolderMiB: float64(p.HandoutMiB), Files: handoutFiles, Concurrency: core.FolderLimit}
	want := size * int64(p.HandoutStudents)
	var names []string
	for i := 1; i <= p.HandoutStudents; i++ {
		names = append(names, l.handoutUser(i))
	}

	floor := make([]string, len(names))
	for i := range floor {
		floor[i] = l.floorUser("hand", i+1)
	}
	began := time.Now()
	if err := l.eachStudent(ctx, floor, func(ctx context.Context, user string) error { return l.floorCopyIn(ctx, src, user) }); err != nil {
		return fmt.Errorf("floor hand-out: %w", err)
	}
	res.FloorHandoutMS = msSince(began)
	l.log("9 handout: floor (docker cp) handed %d MiB out to %d volumes in %.0f ms", p.HandoutMiB, len(floor), res.FloorHandoutMS)

	began = time.Now()
	if _, err := l.ch.CLI(ctx, "handout", filepath.Join(src, handoutFolder), "--to", strings.Join(names, ",")); err != nil {
		return fmt.Errorf("classhub handout: %w", err)
	}
	res.ClasshubHandoutMS = msSince(began)
	l.log("9 handout: classhub handed it out to %d students in %.0f ms", len(names), res.ClasshubHandoutMS)

	out := filepath.Join(l.dir, "collect-classhub")
	began = time.Now()
	if _, err := l.ch.CLI(ctx, "collect", handoutFolder, "--out", out, "--to", strings.Join(names, ",")); err != nil {
		return fmt.Errorf("classhub collect: %w", err)
	}
	res.ClasshubCollectMS = msSince(began)
	if got, err := treeBytes(out, core.ManifestName); err != nil || got != want {
		return fmt.Errorf("classhub collected %d bytes of %d into %s (%v)", got, want, out, err)
	}
	l.log("9 collect: classhub collected from %d students in %.0f ms", len(names), res.ClasshubCollectMS)

	fout := filepath.Join(l.dir, "collect-floor")
	began = time.Now()
	if err := l.eachStudent(ctx, floor, func(ctx context.Context, user string) error { return l.floorCopyOut(ctx, user, fout) }); err != nil {
		return fmt.Errorf("floor collect: %w", err)
	}
	res.FloorCollectMS = msSince(began)
	if got, err := treeBytes(fout, ""); err != nil || got != want {
		return fmt.Errorf("the floor collected %d bytes of %d into %s (%v)", got, want, fout, err)
	}
	l.log("9 collect: floor (docker cp) collected from %d volumes in %.0f ms", len(floor), res.FloorCollectMS)
	l.rep.Handout = res
	// What both wrote can go now; the volumes go with the run.
	os.RemoveAll(out)
	os.RemoveAll(fout)
	return nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// eachStudent runs f for every user, core.FolderLimit at a time, and
// returns the first error.
func (l *lab) eachStudent(ctx context.Context, users []string, f func(context.Context, string) error) error {
	sem := make(chan struct{}, core.FolderLimit)
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(ctx, u)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// floorVolume is the floor's work volume of user, labelled as the bench's
// so the run removes it.
func floorVolume(user string) string { return "classhub-bench-" + user + "-work" }

// floorHelper creates (never starts) a container that mounts user's floor
// volume at the work folder, as `docker cp` needs one.
func (l *lab) floorHelper(ctx context.Context, user string, readOnly bool) (string, func(), error) {
	resp, err := l.docker.ContainerCreate(ctx, &container.Config{Image: l.opts.Image, Labels: floorLabels(user)},
		&container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: floorVolume(user), Target: "/home/jovyan/work", ReadOnly: readOnly}}},
		nil, nil, "classhub-bench-cp-"+user)
	if err != nil {
		return "", nil, fmt.Errorf("create %s's copy container: %w", user, err)
	}
	return resp.ID, func() {
		l.docker.ContainerRemove(context.WithoutCancel(ctx), resp.ID, container.RemoveOptions{Force: true})
	}, nil
}

// floorCopyIn is `docker volume create` and `docker cp SRC/lesson
// helper:/home/jovyan/work/` for one student.
func (l *lab) floorCopyIn(ctx context.Context, src, user string) error {
	if _, err := l.docker.VolumeCreate(ctx, volume.CreateOptions{Name: floorVolume(user), Labels: floorLabels(user)}); err != nil {
		return fmt.Errorf("floor volume for %s: %w", user, err)
	}
	id, remove, err := l.floorHelper(ctx, user, false)
	if err != nil {
		return err
	}
	defer remove()
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.AddFS(os.DirFS(src))
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	err = l.docker.CopyToContainer(ctx, id, "/home/jovyan/work", pr, container.CopyToContainerOptions{})
	pr.CloseWithError(errors.New("copied"))
	if err != nil {
		return fmt.Errorf("copy into %s's volume: %w", user, err)
	}
	return nil
}

// floorCopyOut is `docker cp helper:/home/jovyan/work/lesson OUT/USER` for
// one student.
func (l *lab) floorCopyOut(ctx context.Context, user, out string) error {
	id, remove, err := l.floorHelper(ctx, user, true)
	if err != nil {
		return err
	}
	defer remove()
	rc, _, err := l.docker.CopyFromContainer(ctx, id, "/home/jovyan/work/"+handoutFolder)
	if err != nil {
		return fmt.Errorf("copy out of %s's volume: %w", user, err)
	}
	defer rc.Close()
	return untar(tar.NewReader(rc), filepath.Join(out, user))
}

// untar writes the folders and plain files of tr under dir, the way
// `docker cp` does on the host side; what it reads is the bench's own.
func untar(tr *tar.Reader, dir string) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// writeHandoutFolder writes size bytes that do not compress into files
// files under dir, a third of them in a subfolder.
func writeHandoutFolder(dir string, size int64, files int) error {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	rnd := rand.NewChaCha8([32]byte{9})
	for i := range files {
		name := fmt.Sprintf("part%02d.ipynb", i)
		if i%3 == 2 {
			name = filepath.Join("data", fmt.Sprintf("set%02d.bin", i))
		}
		n := size / int64(files)
		if i == files-1 {
			n = size - n*int64(files-1)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		_, err = io.CopyN(f, rnd, n)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write the folder to hand out: %w", err)
		}
	}
	return nil
}

// treeBytes adds up the sizes of the plain files under dir, but for one
// named skip at its top.
func treeBytes(dir, skip string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || (skip != "" && p == filepath.Join(dir, skip)) {
			return err
		}
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return err
	})
	return n, err
}
