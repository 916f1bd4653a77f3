package core

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// Sizer tells the hub what the laptop gives servers and what an image is,
// for Capacity. The Docker spawner is one.
type Sizer interface {
	// Machine is the memory (bytes) and CPUs the engine gives containers.
	Machine(ctx context.Context) (memory uint64, cpus int, err error)
	// ImageFacts are the ID of the image ref names and the profile
	// classhub built it with, "" for an image it did not build.
	ImageFacts(ctx context.Context, ref string) (id, profile string, err error)
}

// idleSettle is how long a server that just became ready idles before
// its memory is recorded as the image's idle cost: the benchmark's rule
// (bench/scenario_images.go), by which its start-up garbage is collected
// and its extensions are loaded.
var idleSettle = 5 * time.Second

// capacityFresh is how old a server's sample may be to count for
// Capacity.
const capacityFresh = 2 * time.Minute

// usageWorkers bounds the samples taken at once: the engine takes about
// a second over each.
const usageWorkers = 4

// usage is the last resource samples of the running servers.
type usage struct {
	mu      sync.Mutex
	samples map[string]usageSample
	// sampling serializes SampleStats, so pages open at once share one
	// round of samples instead of each asking the engine.
	sampling sync.Mutex
	// measuring is set while measureIdle waits to measure a server: a
	// class starting at once is measured by its first server, not by
	// thirty samples more while the engine is busiest.
	measuring atomic.Bool
}

type usageSample struct {
	stats spawner.Stats
	at    time.Time
}

// Stats samples name's running server's memory and CPU use, and keeps
// the sample for Capacity and the admin page.
func (h *Lifecycle) Stats(ctx context.Context, name string) (spawner.Stats, error) {
	s, err := h.spawner.Stats(ctx, name)
	h.usage.mu.Lock()
	defer h.usage.mu.Unlock()
	if h.usage.samples == nil {
		h.usage.samples = make(map[string]usageSample)
	}
	if err != nil {
		delete(h.usage.samples, name)
		return s, err
	}
	h.usage.samples[name] = usageSample{stats: s, at: time.Now()}
	return s, nil
}

// running lists the users whose servers are ready.
func (h *Lifecycle) running() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var names []string
	for name, st := range h.servers {
		if st.ready && st.pending == "" {
			names = append(names, name)
		}
	}
	return names
}

// CachedStats returns the last sample of each running server younger than
// maxAge, asking the engine nothing.
func (h *Lifecycle) CachedStats(maxAge time.Duration) map[string]spawner.Stats {
	names := h.running()
	h.usage.mu.Lock()
	defer h.usage.mu.Unlock()
	out := make(map[string]spawner.Stats, len(names))
	for _, n := range names {
		if s, ok := h.usage.samples[n]; ok && time.Since(s.at) <= maxAge {
			out[n] = s.stats
		}
	}
	return out
}

// SampleStats returns a sample of every running server no older than
// maxAge, sampling again, a few at a time, those whose last is older.
func (h *Lifecycle) SampleStats(ctx context.Context, maxAge time.Duration) map[string]spawner.Stats {
	h.usage.sampling.Lock()
	defer h.usage.sampling.Unlock()
	have := h.CachedStats(maxAge)
	var stale []string
	for _, n := range h.running() {
		if _, ok := have[n]; !ok {
			stale = append(stale, n)
		}
	}
	Each(ctx, stale, usageWorkers, func(ctx context.Context, n string) error {
		_, err := h.Stats(ctx, n)
		return err
	})
	return h.CachedStats(maxAge)
}

// Capacity says how many students' servers this laptop holds, from the
// samples of the running servers of the current image taken in the last
// two minutes (it takes none itself), the idle cost recorded for the
// image, the engine's memory, memory_limit and the hub's own memory.
func (h *Lifecycle) Capacity(ctx context.Context) (Capacity, error) {
	cfg := h.Config()
	if h.sizer == nil {
		return Capacity{}, errors.New("this hub cannot measure the machine")
	}
	memory, cpus, err := h.sizer.Machine(ctx)
	if err != nil {
		return Capacity{}, err
	}
	id, profile, err := h.sizer.ImageFacts(ctx, cfg.Image)
	if err != nil {
		// An image still to be pulled: its profile is unknown.
		id, profile = "", ""
	}
	samples := h.CachedStats(capacityFresh)
	var class []spawner.Stats
	for _, s := range samples {
		if id != "" && s.ImageID == id {
			class = append(class, s)
		}
	}
	var recorded *store.ImageCost
	if id != "" {
		if c, err := h.store.ImageCost(ctx, id); err == nil {
			recorded = &c
		} else if !errors.Is(err, store.ErrNotFound) {
			return Capacity{}, err
		}
	}
	m := Machine{Memory: memory, CPUs: cpus, Hub: hubMemory()}
	return PlanFor(ctx, cfg, h.sizer, m, EstimateCost(class, recorded, profile), len(h.running()))
}

// StartAllQuestion asks whether to start the n servers Start all would
// start when that takes the laptop past its capacity, or "" when they
// fit or the capacity is unknown: a question the surfaces ask before
// Start all, never a refusal.
func (h *Lifecycle) StartAllQuestion(ctx context.Context, n int) string {
	c, err := h.Capacity(ctx)
	if err != nil {
		return ""
	}
	return c.StartQuestion(n)
}

// hubMemory is the memory the hub's Go runtime holds from the system.
func hubMemory() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Sys - m.HeapReleased
}

// measureIdle records, once the server name started at started has idled
// for idleSettle, its memory as its image's idle cost (the store keeps the
// least seen). A server stopped or started again meanwhile is not
// measured, nor one that starts while another is being measured.
func (h *Lifecycle) measureIdle(name string, started time.Time) {
	if h.sizer == nil || !h.usage.measuring.CompareAndSwap(false, true) {
		return
	}
	h.goBackground(func(ctx context.Context) {
		defer h.usage.measuring.Store(false)
		t := time.NewTimer(idleSettle)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		st := h.state(name)
		same := st.ready && st.pending == "" && st.started.Equal(started)
		h.mu.Unlock()
		if !same {
			return
		}
		s, err := h.Stats(ctx, name)
		if err != nil || s.ImageID == "" {
			return
		}
		_, err = h.store.RecordImageCost(ctx, store.ImageCost{ImageID: s.ImageID, Image: s.Image, Memory: s.MemoryBytes, CPU: s.CPUPercent,
			Measured: time.Now().UTC()})
		h.noteFailure(name, err)
	})
}
