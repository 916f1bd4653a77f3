package app

import (
	"testing"
)

// TestHandOutAndCollectShowEachStudent: the dashboard's buttons are there
// while the hub runs, and a handout or collect ends in a report naming
// each student's result, failures and kept files included.
func TestHandOutAndCollectShowEachStudent(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher", "alice", "failing"))
	u, f, q := h.u, h.f, h.q
	if u.dash.handout.Disabled() || u.dash.collect.Disabled() || u.dash.handout.Text != LabelHandOutFolder {
		t.Errorf("hand out %q disabled %t, collect disabled %t", u.dash.handout.Text, u.dash.handout.Disabled(), u.dash.collect.Disabled())
	}
	u.handOut("/home/teacher/week1")
	f.wantCall(t, q, "handout week1")
	q.until(t, "the handout's report", func() bool { return shown(u.win, "alice: 1 copied") })
	// The counts are the hub's own sentence, as the CLI and the hand-out
	// page say it.
	for _, want := range []string{"alice: 1 copied, 1 kept as they changed them\n", "kept b.ipynb, which they changed; the new version is b (handout 2026-12-06).ipynb", "failing: failed: hand out to failing: disk full"} {
		if !shown(u.win, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	u.collectInto("week1", "/tmp/out")
	f.wantCall(t, q, "collect week1")
	q.until(t, "the collect's report", func() bool { return shown(u.win, "alice: 2 files, 2 KiB") })
	// The whole and each student's line are the hub's sentences, as the
	// CLI says them.
	for _, want := range []string{"collected week1 from 1 of 2 students into /tmp/out (manifest: /tmp/out/manifest.csv)\n", "failing: has no folder week1\n"} {
		if !shown(u.win, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
}
