package spawner

import (
	"strings"
	"testing"
	"time"
)

// TestIdleServerIsMeasuredOnTheEngine: what the hub records as an image's
// idle cost is a real server's, sampled the benchmark's way once it has
// answered and idled (core's measureIdle), and names the image it runs;
// the engine says how much memory and how many CPUs the laptop has; and
// the server's log, which the admin page shows, holds no token of its.
func TestIdleServerIsMeasuredOnTheEngine(t *testing.T) {
	e := newTestEnv(t)
	user := e.user("idle")
	const token = "capacitytoken0123456789abcdef"
	e.start(user, token)
	time.Sleep(5 * time.Second) // core's idleSettle: the figure is of an idle server
	st, err := e.d.Stats(e.ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	id, profile, err := e.d.ImageFacts(e.ctx, e.cfg.Image)
	if err != nil {
		t.Fatal(err)
	}
	if st.ImageID != id || st.Image != e.cfg.Image {
		t.Errorf("Stats names image %q (%s), want %q (%s)", st.Image, st.ImageID, e.cfg.Image, id)
	}
	if profile == "" {
		t.Errorf("ImageFacts(%s) gives no profile, though classhub built it", e.cfg.Image)
	}
	// jupyterhub-singleuser idles at about 100 MiB in classhub's images;
	// far less is no server, more than the limit cannot be.
	limit, _ := e.cfg.MemoryBytes()
	if st.MemoryBytes < 30<<20 || st.MemoryBytes >= uint64(limit) || st.CPUPercent < 0 {
		t.Errorf("an idle server uses %d MiB and %.2f%% CPU: not a running notebook server's", st.MemoryBytes>>20, st.CPUPercent)
	}
	t.Logf("an idle server of %s (%s): %d MiB, %.2f%% CPU", e.cfg.Image, profile, st.MemoryBytes>>20, st.CPUPercent)
	memory, cpus, err := e.d.Machine(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if memory < uint64(limit) || cpus < 1 {
		t.Errorf("Machine = %d bytes, %d CPUs", memory, cpus)
	}
	logs, err := e.d.Logs(e.ctx, user, 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs, token) || strings.Contains(logs, token[:12]) {
		t.Errorf("the server's log holds its token:\n%s", logs)
	}
}
