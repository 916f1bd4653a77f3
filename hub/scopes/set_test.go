package scopes

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustSet(t *testing.T, strs ...string) Set {
	t.Helper()
	s, err := parseSet(strs)
	if err != nil {
		t.Fatalf("parseSet(%q): %v", strs, err)
	}
	return s
}

func TestIntersect(t *testing.T) {
	for _, tc := range []struct {
		name        string
		left, right []string
		want        []string
	}{
		{"brief: unfiltered meets filtered", []string{"access:servers"}, []string{"access:servers!user=alice"},
			[]string{"access:servers!user=alice"}},
		{"server under user survives", []string{"access:servers!server=alice/"}, []string{"access:servers!user=alice"},
			[]string{"access:servers!server=alice/"}},
		{"server of another user does not", []string{"access:servers!server=bob/"}, []string{"access:servers!user=alice"}, nil},
		{"same filter", []string{"users:activity!user=alice"}, []string{"users:activity!user=alice"},
			[]string{"users:activity!user=alice"}},
		{"different users", []string{"users:activity!user=alice"}, []string{"users:activity!user=bob"}, nil},
		{"disjoint names", []string{"read:users"}, []string{"read:servers"}, nil},
		{"both unfiltered", []string{"read:hub"}, []string{"read:hub"}, []string{"read:hub"}},
		{"unfiltered keeps every filter of the other side", []string{"read:users!user=a", "read:users!group=g", "read:users!server=a/x"},
			[]string{"read:users"}, []string{"read:users!user=a", "read:users!group=g", "read:users!server=a/x"}},
		// Cases from jupyterhub tests/test_scopes.py test_intersect_expanded_scopes (5.5.1).
		{"upstream: empty", nil, nil, nil},
		{"upstream: empty left", nil, []string{"users"}, nil},
		{"upstream: users and groups one side", []string{"users!user=x", "users!group=y"}, nil, nil},
		{"upstream: users both sides", []string{"users!user=x", "users!user=y", "users!group=y"}, []string{"users!user=x"},
			[]string{"users!user=x"}},
		{"upstream: users and groups both sides", []string{"users!user=x", "users!group=y"}, []string{"users!user=x", "users!group=y", "users!user=z"},
			[]string{"users!user=x", "users!group=y"}},
		{"upstream: group vs user, no db", []string{"users!group=y", "users!user=z"}, []string{"users!user=x"}, nil},
		{"upstream: group vs server, no db", []string{"users!group=y", "users!user=z"}, []string{"users!server=x/y"}, nil},
		{"upstream: server under user beside group", []string{"users!group=y", "users!user=x"}, []string{"users!server=x/y"},
			[]string{"users!server=x/y"}},
		{"upstream: server under user", []string{"read:servers!user=abc"}, []string{"read:servers!server=abc/xyz"},
			[]string{"read:servers!server=abc/xyz"}},
		{"upstream: user prefix is not a match", []string{"read:servers!user=abc"}, []string{"read:servers!server=abcd/xyz"}, nil},
	} {
		a, b := mustSet(t, tc.left...), mustSet(t, tc.right...)
		want := sorted(tc.want)
		if got := Sorted(Intersect(a, b)); !slices.Equal(got, want) {
			t.Errorf("%s: %q ∩ %q = %q, want %q", tc.name, tc.left, tc.right, got, want)
		}
		if got := Sorted(Intersect(b, a)); !slices.Equal(got, want) {
			t.Errorf("%s: reversed %q ∩ %q = %q, want %q", tc.name, tc.right, tc.left, got, want)
		}
	}
}

func TestUnionReduces(t *testing.T) {
	got := Sorted(Union(mustSet(t, "read:users!user=a", "read:hub"), mustSet(t, "read:users"), Set{}))
	want := []string{"read:hub", "read:users"}
	if !slices.Equal(got, want) {
		t.Fatalf("Union = %q, want %q", got, want)
	}
}

func TestSortedIsSortedDeduplicatedAndNeverNil(t *testing.T) {
	s := mustSet(t, "users:activity!user=alice", "access:servers!user=alice", "users:activity!user=alice",
		"read:users:activity!user=alice", "access:servers!user=alice")
	got := Sorted(s)
	want := []string{"access:servers!user=alice", "read:users:activity!user=alice", "users:activity!user=alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("Sorted = %q, want %q", got, want)
	}
	if !slices.Equal(s.Strings(), want) || !strings.Contains(s.String(), "access:servers!user=alice") {
		t.Fatalf("Strings/String disagree with Sorted: %q / %s", s.Strings(), s)
	}
	if got := Sorted(Set{}); got == nil || len(got) != 0 {
		t.Fatalf("Sorted(empty) = %#v, want a non-nil empty list so JSON says []", got)
	}
}

func TestContainsIsExactAfterReduction(t *testing.T) {
	s := mustSet(t, "read:users", "access:servers!server=alice/")
	for _, tc := range []struct {
		str  string
		want bool
	}{
		{"read:users", true},
		{"read:users!user=alice", false}, // reduced away into read:users
		{"access:servers!server=alice/", true},
		{"access:servers!user=alice", false},
		{"access:servers", false},
		{"bad!", false},
	} {
		if got := s.Contains(tc.str); got != tc.want {
			t.Errorf("Contains(%q) = %v, want %v", tc.str, got, tc.want)
		}
	}
}

func TestParseSetRejectsUnresolvedFilters(t *testing.T) {
	if _, err := parseSet([]string{"users:activity!user"}); err == nil {
		t.Fatal("parseSet accepted a bare !user filter")
	}
}

func TestSetIsSafeToShare(t *testing.T) {
	owner := UserScopes("alice", false)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := TokenScopes([]string{"servers", "read:users!user=bob"}, Owner{User: "alice"}, owner)
			if err != nil || !Allows(tok, "servers", OnServer("alice", "")) || len(Sorted(Union(tok, owner))) == 0 {
				t.Error("concurrent use of a shared Set went wrong")
			}
		}()
	}
	wg.Wait()
}
