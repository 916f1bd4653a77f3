package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLoginLinks(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	link, err := s.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(link) != 64 {
		t.Errorf("link secret %q is not 64 hex characters", link)
	}
	user, err := s.ConsumeLoginLink(ctx, link)
	if err != nil || user != "alice" {
		t.Fatalf("ConsumeLoginLink = %q, %v", user, err)
	}
	if _, err := s.ConsumeLoginLink(ctx, link); !errors.Is(err, ErrNotFound) {
		t.Errorf("second use: %v, want ErrNotFound", err)
	}

	old, err := s.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := s.ConsumeLoginLink(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired link: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeLoginLink(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty link: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateLoginLink(ctx, "bob", time.Minute); !errors.Is(err, ErrNotFound) {
		t.Errorf("link for a missing user: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateLoginLink(ctx, "alice", 0); err == nil {
		t.Error("created a link that is born expired")
	}
}

func TestConsumeLoginLinkRace(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	link, err := s.CreateLoginLink(ctx, "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	users := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			users[i], errs[i] = s.ConsumeLoginLink(ctx, link)
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil && users[i] == "alice":
			wins++
		case !errors.Is(err, ErrNotFound):
			t.Errorf("consumer %d: %q, %v", i, users[i], err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d racing consumers won, want exactly 1", wins, n)
	}
}
