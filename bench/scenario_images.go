package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/hub/spawner"
)

// ImageResult is scenario 8 for one notebook image: what an instructor
// weighs in choosing one, and what the capacity of a laptop follows from.
type ImageResult struct {
	Image   string  `json:"image"`
	Profile string  `json:"profile,omitempty"`
	SizeMiB float64 `json:"size_mib"`
	// StartMS is a floor server's time from create to its Jupyter API
	// answering, the median over the trials.
	StartMS float64 `json:"start_ms"`
	// IdleMiB is its memory once it has answered and sat idle for
	// imageSettle, as `docker stats` counts it (page cache excluded).
	IdleMiB float64 `json:"idle_mib"`
	Trials  int     `json:"trials"`
}

// imageSettle is how long a server idles before its memory is read: its
// start-up garbage is collected and extensions are loaded by then.
const imageSettle = 5 * time.Second

// images measures every notebook image classhub built that is in the
// engine, and the run's own image, the floor's way: the same server, the
// same environment and limits, nothing of a hub around it.
func (l *lab) images(ctx context.Context) error {
	local, err := image.List(ctx, l.docker)
	if err != nil {
		return err
	}
	// Each image once, under the run's own name for it or else its first
	// tag.
	name := map[string]string{}
	for _, img := range local {
		if _, ok := name[img.ID]; !ok || img.Ref == l.opts.Image {
			name[img.ID] = img.Ref
		}
	}
	var todo []image.Local
	for _, img := range local {
		if name[img.ID] == img.Ref && (img.Profile != "" || img.Ref == l.opts.Image) {
			todo = append(todo, img)
		}
	}
	trials := 1
	if !l.rep.Quick {
		trials = 3
	}
	for i, img := range todo {
		res := ImageResult{Image: img.Ref, Profile: img.Profile, SizeMiB: mib(img.Size), Trials: trials}
		f := *l.floor
		f.Image = img.Ref
		var starts []time.Duration
		for n := range trials {
			start, idle, err := l.measureImage(ctx, &f, fmt.Sprintf("img%d%d%s", i, n, l.suffix))
			if err != nil {
				return fmt.Errorf("%s: %w", img.Ref, err)
			}
			starts = append(starts, start)
			res.IdleMiB = max(res.IdleMiB, mib(idle))
		}
		slices.Sort(starts)
		res.StartMS = float64(starts[len(starts)/2].Milliseconds())
		l.rep.Images = append(l.rep.Images, res)
		l.log("8 images: %s: %.0f MiB, starts in %.0f ms, idles at %.0f MiB", img.Ref, res.SizeMiB, res.StartMS, res.IdleMiB)
	}
	return nil
}

// measureImage starts one floor server of f's image and returns its time
// to answer and its idle memory; the server is removed afterwards.
func (l *lab) measureImage(ctx context.Context, f *Floor, user string) (time.Duration, int64, error) {
	began := time.Now()
	s, err := f.Start(ctx, user)
	defer f.Remove(context.WithoutCancel(ctx), s)
	if err != nil {
		return 0, 0, err
	}
	if err := f.WaitReady(ctx, s, 3*time.Minute); err != nil {
		return 0, 0, err
	}
	took := time.Since(began)
	select {
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-time.After(imageSettle):
	}
	resp, err := l.docker.ContainerStats(ctx, s.ID, false)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("read the stats of %s: %w", s.Name, err)
	}
	return took, int64(spawner.StatsFrom(st).MemoryBytes), nil
}
