package spawner

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// TestPickSeat: a server keeps its seat while nobody else holds it, else
// takes the first free one, never one another server holds (by the ID or
// the name its service names it by); with none free the refusal says what
// to do.
func TestPickSeat(t *testing.T) {
	seats := []Seat{{Name: "n-seat-1", ID: "id1"}, {Name: "n-seat-2", ID: "id2"}, {Name: "n-seat-3", ID: "id3"}}
	for _, tc := range []struct {
		name    string
		held    map[string]bool
		current string
		want    string
	}{
		{"a new server takes the first", nil, "", "id1"},
		{"a server keeps its free seat", map[string]bool{"id1": true}, "id3", "id3"},
		{"a seat named by its name is kept", nil, "n-seat-2", "id2"},
		{"a held seat is left", map[string]bool{"id1": true, "id3": true}, "id3", "id2"},
		{"held by name", map[string]bool{"n-seat-1": true}, "", "id2"},
		{"the hub's own network is no seat", nil, "shared", "id1"},
	} {
		got, err := pickSeat(seats, tc.held, tc.current)
		if err != nil || got.ID != tc.want {
			t.Errorf("%s: got %+v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err := pickSeat(seats, map[string]bool{"id1": true, "n-seat-2": true, "id3": true}, "id2")
	if !errors.Is(err, ErrNoSeat) || !strings.Contains(err.Error(), "all 3 of the hub's seats") || !strings.Contains(err.Error(), "--seats 6") {
		t.Errorf("every seat held: %v", err)
	}
	_, err = pickSeat(make([]Seat, MaxSeats), map[string]bool{"": true}, "")
	if !errors.Is(err, ErrNoSeat) || strings.Contains(err.Error(), "--seats") {
		t.Errorf("every one of the most seats held: %v", err)
	}
}

// TestSeatOf: a service's seat is its one network, "" without one.
func TestSeatOf(t *testing.T) {
	if got := seatOf(swarm.ServiceSpec{}); got != "" {
		t.Errorf("no network: %q", got)
	}
	spec := swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{Networks: []swarm.NetworkAttachmentConfig{{Target: "id2"}}}}
	if got := seatOf(spec); got != "id2" {
		t.Errorf("seatOf = %q, want id2", got)
	}
}
