package core

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachKeepsOrderAndBoundsConcurrency(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	var running, most atomic.Int32
	out := Each(context.Background(), names, 3, func(ctx context.Context, name string) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		if name == "c" || name == "f" {
			return fmt.Errorf("%s: %w", name, errBoom)
		}
		return nil
	})
	if most.Load() > 3 {
		t.Errorf("%d ran at once, want at most 3", most.Load())
	}
	if len(out) != len(names) {
		t.Fatalf("%d outcomes for %d names", len(out), len(names))
	}
	for i, o := range out {
		if o.User != names[i] {
			t.Errorf("outcome %d is %s's, want %s's", i, o.User, names[i])
		}
		if failed := o.Err != nil; failed != (o.User == "c" || o.User == "f") {
			t.Errorf("%s: %v", o.User, o.Err)
		}
	}
	if Failed(out) != 2 || !errors.Is(Errors(out), errBoom) {
		t.Errorf("Failed = %d, Errors = %v; want 2 and boom", Failed(out), Errors(out))
	}
}

func TestEachWithoutLimitRunsAllAtOnce(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	all := make(chan struct{})
	var arrived atomic.Int32
	out := Each(context.Background(), names, 0, func(ctx context.Context, name string) error {
		if arrived.Add(1) == int32(len(names)) {
			close(all)
		}
		select {
		case <-all:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("not every call ran at once")
		}
	})
	if err := Errors(out); err != nil {
		t.Error(err)
	}
	if Each(context.Background(), nil, 3, nil) == nil || Errors(nil) != nil || Failed(nil) != 0 {
		t.Error("no names should give no outcomes and no error")
	}
}

var errBoom = errors.New("boom")
