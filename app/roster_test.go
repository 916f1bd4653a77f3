package app

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitNames(t *testing.T) {
	got := SplitNames(" alice, bob;carol\n\tdave  eve\n\n")
	if want := []string{"alice", "bob", "carol", "dave", "eve"}; !slices.Equal(got, want) {
		t.Errorf("SplitNames = %q, want %q", got, want)
	}
}

func TestRosterNames(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{"one per line", "alice\nbob\n\n# late joiners\ncarol\n", []string{"alice", "bob", "carol"}, ""},
		{"csv with header", "\ufeffUsername,Password\nalice,s3cret\n\"bob\",x\n", []string{"alice", "bob"}, ""},
		{"semicolons", "name;group\nalice;A\nbob;B\n", []string{"alice", "bob"}, ""},
		{"tabs", "alice\tA\nbob\tB\n", []string{"alice", "bob"}, ""},
		{"header only", "username,password\n", nil, "no usernames"},
		{"empty first column", "alice\n,pw\n", nil, "line 2 has no username"},
	} {
		got, err := RosterNames(strings.NewReader(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
