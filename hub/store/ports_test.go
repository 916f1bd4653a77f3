package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestUserPortIsKeptUntilTheUserIsDeleted(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, n := range []string{"alice", "bob", "carol"} {
		mustUser(t, s, n)
	}
	port := func(user string) int {
		t.Helper()
		p, err := s.UserPort(ctx, user, 8100, 8102, takeAny)
		if err != nil {
			t.Fatalf("UserPort(%s): %v", user, err)
		}
		return p
	}
	if a, b := port("alice"), port("bob"); a != 8100 || b != 8101 {
		t.Fatalf("ports alice %d, bob %d; want 8100, 8101", a, b)
	}
	// Asked again, even with another range, alice keeps hers.
	if p, err := s.UserPort(ctx, "alice", 9000, 9010, takeAny); err != nil || p != 8100 {
		t.Errorf("alice again = %d, %v; want 8100", p, err)
	}
	// A rename keeps the port: it belongs to the person.
	newName := "alicia"
	if _, err := s.UpdateUser(ctx, "alice", UserUpdate{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	if p := port("alicia"); p != 8100 {
		t.Errorf("renamed alice's port = %d, want 8100", p)
	}
	if err := s.DeleteUser(ctx, "alicia"); err != nil {
		t.Fatal(err)
	}
	// The freed port goes to the next user; the range then runs out.
	if p := port("carol"); p != 8100 {
		t.Errorf("carol = %d, want the freed 8100", p)
	}
	mustUser(t, s, "dave")
	if p := port("dave"); p != 8102 {
		t.Errorf("dave = %d, want 8102", p)
	}
	mustUser(t, s, "erin")
	if _, err := s.UserPort(ctx, "erin", 8100, 8102, takeAny); !errors.Is(err, ErrNoFreePort) {
		t.Errorf("erin in a full range: %v, want ErrNoFreePort", err)
	}
	if _, err := s.UserPort(ctx, "nobody", 8100, 8102, takeAny); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	all, err := s.UserPorts(ctx)
	if err != nil || len(all) != 3 || all["bob"] != 8101 || all["carol"] != 8100 || all["dave"] != 8102 {
		t.Errorf("UserPorts = %v, %v", all, err)
	}
}

func takeAny(int) error { return nil }

func TestUserPortPassesOverPortsInUse(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	busy := errors.New("address already in use")
	var tried []int
	take := func(p int) error {
		tried = append(tried, p)
		if p < 8102 {
			return busy
		}
		return nil
	}
	if p, err := s.UserPort(ctx, "alice", 8100, 8103, take); err != nil || p != 8102 {
		t.Fatalf("alice = %d, %v; want 8102, past two busy ports", p, err)
	}
	// Her port is hers from now on, without being taken again.
	tried = nil
	if p, err := s.UserPort(ctx, "alice", 8100, 8103, take); err != nil || p != 8102 || tried != nil {
		t.Errorf("alice again = %d, %v, tried %v", p, err, tried)
	}
	if _, err := s.UserPort(ctx, "bob", 8100, 8101, take); !errors.Is(err, ErrNoFreePort) || !strings.Contains(err.Error(), "in use by other programs") {
		t.Errorf("bob with every port busy: %v", err)
	}
	if ports, _ := s.UserPorts(ctx); len(ports) != 1 {
		t.Errorf("UserPorts = %v, want alice's only", ports)
	}
}

func TestUserPortsNeverShared(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const n = 20
	names := make([]string, n)
	for i := range names {
		names[i] = "u" + string(rune('a'+i))
		mustUser(t, s, names[i])
	}
	ports := make([]int, n)
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			p, err := s.UserPort(ctx, names[i], 8100, 8399, takeAny)
			if err != nil {
				t.Error(err)
			}
			ports[i] = p
		})
	}
	wg.Wait()
	seen := make(map[int]string)
	for i, p := range ports {
		if other, ok := seen[p]; ok {
			t.Errorf("%s and %s share port %d", other, names[i], p)
		}
		seen[p] = names[i]
	}
}
