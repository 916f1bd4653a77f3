package hub

import (
	"bytes"
	"context"
	"log"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/store"
)

// TestCloseWaitsForActivityWrites: the proxy's activity writes run off
// the request's path, and Close lets those in flight finish before it
// closes the store; after Close none starts.
func TestCloseWaitsForActivityWrites(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st := openStore(t, dir)
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutServer(ctx, store.Server{User: "alice", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := &Hub{store: st, log: log.New(&logs, "", 0)}
	seen := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	h.recordActivity("alice", seen)
	h.Close()
	h.recordActivity("alice", seen.Add(time.Hour)) // after Close: dropped, no write to a closed store

	st = openStore(t, dir)
	sv, err := st.GetServer(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if !sv.LastActivity.Equal(seen) {
		t.Errorf("last activity %v, want %v: the write before Close was lost or the one after it made", sv.LastActivity, seen)
	}
	if logs.Len() > 0 {
		t.Errorf("logged %q", logs.String())
	}
}
