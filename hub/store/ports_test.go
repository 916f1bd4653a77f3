package store

import (
	"context"
	"errors"
	"fmt"
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
	// The next user gets a port never used; the deleted user's port goes
	// only to a user after that, when the range has no other; then the
	// range runs out.
	if p := port("carol"); p != 8102 {
		t.Errorf("carol = %d, want 8102, never used", p)
	}
	mustUser(t, s, "dave")
	if p := port("dave"); p != 8100 {
		t.Errorf("dave = %d, want the retired 8100", p)
	}
	mustUser(t, s, "erin")
	if _, err := s.UserPort(ctx, "erin", 8100, 8102, takeAny); !errors.Is(err, ErrNoFreePort) {
		t.Errorf("erin in a full range: %v, want ErrNoFreePort", err)
	}
	if _, err := s.UserPort(ctx, "nobody", 8100, 8102, takeAny); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	all, err := s.UserPorts(ctx)
	if err != nil || len(all) != 3 || all["bob"] != 8101 || all["carol"] != 8102 || all["dave"] != 8100 {
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

// A deleted user's port keeps what visitors' browsers stored for its
// origin, so it passes to another user as late as possible: ports never
// used go first, then retired ones, the one retired longest ago first.
func TestRetiredPortsGoLastOldestFirst(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	port := func(user string) int {
		t.Helper()
		mustUser(t, s, user)
		p, err := s.UserPort(ctx, user, 8100, 8104, takeAny)
		if err != nil {
			t.Fatalf("UserPort(%s): %v", user, err)
		}
		return p
	}
	for i, u := range []string{"u0", "u1", "u2"} {
		if p := port(u); p != 8100+i {
			t.Fatalf("%s = %d, want %d", u, p, 8100+i)
		}
	}
	// Retired in the order u2, u0 (and u1 renamed, which retires nothing).
	for _, u := range []string{"u2", "u0"} {
		if err := s.DeleteUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	renamed := "u1b"
	if _, err := s.UpdateUser(ctx, "u1", UserUpdate{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, u := range []string{"a", "b", "c", "d"} {
		got = append(got, port(u))
	}
	if want := []int{8103, 8104, 8102, 8100}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ports given after retirements = %v, want %v: fresh ones, then the oldest retired", got, want)
	}
	// A retired port taken by another program is passed over for the next.
	mustUser(t, s, "e")
	if err := s.DeleteUser(ctx, "a"); err != nil { // 8103 retires
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "b"); err != nil { // 8104 retires
		t.Fatal(err)
	}
	busy := func(p int) error {
		if p == 8103 {
			return errors.New("address already in use")
		}
		return nil
	}
	if p, err := s.UserPort(ctx, "e", 8100, 8104, busy); err != nil || p != 8104 {
		t.Errorf("e = %d, %v; want 8104, past the busy 8103", p, err)
	}
}
