package app

import (
	"slices"
	"testing"
)

func TestSplitNames(t *testing.T) {
	got := SplitNames(" alice, bob;carol\n\tdave  eve\n\n")
	if want := []string{"alice", "bob", "carol", "dave", "eve"}; !slices.Equal(got, want) {
		t.Errorf("SplitNames = %q, want %q", got, want)
	}
}
