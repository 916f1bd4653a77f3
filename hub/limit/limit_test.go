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
