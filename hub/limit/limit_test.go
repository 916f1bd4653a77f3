package limit

import (
	"sync"
	"testing"
)

func TestPerKey(t *testing.T) {
	l := NewPerKey(2)
	r1, ok1 := l.Acquire("alice")
	r2, ok2 := l.Acquire("alice")
	if !ok1 || !ok2 {
		t.Fatal("alice could not take her two places")
	}
	if _, ok := l.Acquire("alice"); ok {
		t.Fatal("alice took a third place")
	}
	if r, ok := l.Acquire("bob"); !ok {
		t.Fatal("alice's places counted against bob")
	} else {
		r()
	}
	r1()
	r1() // a second release gives back nothing more
	if _, ok := l.Acquire("alice"); !ok {
		t.Fatal("a released place was not given back")
	}
	if _, ok := l.Acquire("alice"); ok {
		t.Fatal("releasing twice gave back two places")
	}
	r2()
}

// Many goroutines racing for places never get more than the cap.
func TestPerKeyConcurrent(t *testing.T) {
	l := NewPerKey(3)
	var mu sync.Mutex
	held, most := 0, 0
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				release, ok := l.Acquire("alice")
				if !ok {
					continue
				}
				mu.Lock()
				held++
				most = max(most, held)
				mu.Unlock()
				mu.Lock()
				held--
				mu.Unlock()
				release()
			}
		}()
	}
	wg.Wait()
	if most > 3 {
		t.Fatalf("%d places held at once, cap 3", most)
	}
	if len(l.n) != 0 {
		t.Fatalf("counts left behind: %v", l.n)
	}
}

func TestMakeRoom(t *testing.T) {
	m := map[string]int{"a": 1, "b": 2}
	MakeRoom(m, 3, func(v int) bool { return true })
	if len(m) != 2 {
		t.Errorf("a cache with room was pruned: %v", m)
	}
	m["c"] = 3
	MakeRoom(m, 3, func(v int) bool { return v%2 == 1 })
	if len(m) != 1 || m["b"] != 2 {
		t.Errorf("a full cache kept %v, want only what had not expired", m)
	}
	m = map[string]int{"a": 2, "b": 4, "c": 6}
	MakeRoom(m, 3, func(v int) bool { return v%2 == 1 })
	if len(m) != 0 {
		t.Errorf("a full cache with nothing expired kept %v, want it emptied", m)
	}
}
