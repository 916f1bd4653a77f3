package core

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitNames(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{" \n\n ,", nil},
		{"alice", []string{"alice"}},
		{"alice\nbob\r\ncarol\n", []string{"alice", "bob", "carol"}},
		{"alice, bob;carol", []string{"alice", "bob", "carol"}},
		{" alice ,\n\tbob  ", []string{"alice", "bob"}},
		// A full name stays whole, for ValidateName to refuse: never
		// two users nobody meant to add.
		{"Alice Smith", []string{"Alice Smith"}},
		{"carol\nDave Smith\nerin", []string{"carol", "Dave Smith", "erin"}},
		{"dave\teve", []string{"dave\teve"}},
		{"a.b@school.edu,123456", []string{"a.b@school.edu", "123456"}},
	} {
		if got := SplitNames(tc.text); strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("SplitNames(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // in the error; "" for a valid name
	}{
		{"alice", ""},
		{"a.b-c_d@school.edu", ""},
		{"0042", ""},
		{"", "empty"},
		{strings.Repeat("a", MaxNameLen+1), "longer than 64"},
		{"-alice", "must start with a letter or a digit"},
		{"alice/bob", "may only hold lowercase letters, digits and . _ - @ (not '/')"},
		// What to type instead of a full name.
		{"alice smith", `may only hold lowercase letters, digits and . _ - @, not spaces; a username is one word, such as "alice.smith"`},
		{"dave\teve", `such as "dave.eve"`},
	} {
		err := ValidateName(tc.name)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateName(%q) = %v, want nil", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateName(%q) = %v, want ErrBadName saying %q", tc.name, err, tc.want)
		}
	}
}
