package events

import (
	"sync"
	"testing"
)

func TestPublishReachesEverySubscriber(t *testing.T) {
	b := NewBus(0)
	s1 := b.Subscribe(4, false, nil)
	s2 := b.Subscribe(4, false, ForUser("alice"))
	defer s1.Close()
	defer s2.Close()

	b.Publish(Event{Kind: ServerState, User: "bob", State: "running"})
	b.Publish(Event{Kind: ServerState, User: "alice", State: "running"})

	if e := <-s1.C; e.User != "bob" || e.Seq != 1 {
		t.Fatalf("s1 first = %+v, want bob seq 1", e)
	}
	if e := <-s1.C; e.User != "alice" || e.Seq != 2 {
		t.Fatalf("s1 second = %+v, want alice seq 2", e)
	}
	if e := <-s2.C; e.User != "alice" {
		t.Fatalf("filtered subscriber got %+v, want only alice", e)
	}
	select {
	case e := <-s2.C:
		t.Fatalf("filtered subscriber got extra %+v", e)
	default:
	}
}

func TestSlowSubscriberDropsOldestNotNewest(t *testing.T) {
	b := NewBus(0)
	s := b.Subscribe(2, false, nil)
	defer s.Close()
	for i := 0; i < 5; i++ {
		b.Publish(Event{Kind: SpawnProgress, Progress: i * 25})
	}
	first, second := <-s.C, <-s.C
	if first.Progress != 75 || second.Progress != 100 {
		t.Fatalf("kept %d and %d, want the newest 75 and 100", first.Progress, second.Progress)
	}
}

func TestHistoryIsReplayedToLateSubscribers(t *testing.T) {
	b := NewBus(3)
	for i := 1; i <= 5; i++ {
		b.Publish(Event{Kind: Notice, Message: string(rune('a' + i - 1))})
	}
	s := b.Subscribe(10, true, nil)
	defer s.Close()
	var got string
	for i := 0; i < 3; i++ {
		got += (<-s.C).Message
	}
	if got != "cde" {
		t.Fatalf("history = %q, want the last three %q", got, "cde")
	}
}

func TestCloseIsIdempotentAndStopsDelivery(t *testing.T) {
	b := NewBus(0)
	s := b.Subscribe(1, false, nil)
	s.Close()
	s.Close()
	b.Publish(Event{Kind: Notice})
	if _, ok := <-s.C; ok {
		t.Fatal("closed subscription still delivered")
	}
}

func TestConcurrentPublishAndSubscribe(t *testing.T) {
	b := NewBus(16)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Publish(Event{Kind: Activity})
			}
		}()
		go func() {
			defer wg.Done()
			s := b.Subscribe(16, true, nil)
			for j := 0; j < 10; j++ {
				<-s.C
			}
			s.Close()
		}()
	}
	wg.Wait()
	if e := b.Publish(Event{}); e.Seq != 801 {
		t.Fatalf("seq = %d after 800 publishes, want 801", e.Seq)
	}
}
