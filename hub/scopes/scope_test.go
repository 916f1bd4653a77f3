package scopes

import (
	"strings"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	for _, tc := range []struct {
		in         string
		want       Scope
		unresolved bool
		defined    bool
	}{
		{"read:users", Scope{Name: "read:users"}, false, true},
		{"read:users!user=alice", Scope{"read:users", KindUser, "alice"}, false, true},
		{"access:servers!server=alice/", Scope{"access:servers", KindServer, "alice/"}, false, true},
		{"access:servers!server=alice/gpu", Scope{"access:servers", KindServer, "alice/gpu"}, false, true},
		{"users:activity!user", Scope{"users:activity", KindUser, ""}, true, true},
		{"access:servers!server", Scope{"access:servers", KindServer, ""}, true, true},
		{"access:services!service", Scope{"access:services", KindService, ""}, true, true},
		{"read:groups!group=staff", Scope{"read:groups", KindGroup, "staff"}, false, true},
		{"access:services!service=grader", Scope{"access:services", KindService, "grader"}, false, true},
		// A value keeps everything after the first '=' (Python partition).
		{"read:users!user=a=b", Scope{"read:users", KindUser, "a=b"}, false, true},
		{"self", Scope{Name: "self"}, false, true},
		{"inherit", Scope{Name: "inherit"}, false, true},
		// Syntax only: unknown names parse, Defined tells them apart.
		{"custom:thing", Scope{Name: "custom:thing"}, false, false},
		{"all", Scope{Name: "all"}, false, false},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q, want it back unchanged", tc.in, got.String())
		}
		if got.Unresolved() != tc.unresolved {
			t.Errorf("Parse(%q).Unresolved() = %v, want %v", tc.in, got.Unresolved(), tc.unresolved)
		}
		if got.Filtered() != (tc.want.Kind != "") {
			t.Errorf("Parse(%q).Filtered() = %v", tc.in, got.Filtered())
		}
		if got.Defined() != tc.defined {
			t.Errorf("Parse(%q).Defined() = %v, want %v", tc.in, got.Defined(), tc.defined)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ in, mention string }{
		{"", "empty"},
		{"!user=alice", "no name"},
		{"read:users!group", "group name"},
		{"read:users!user=", "empty filter value"},
		{"read:users!server=", "empty filter value"},
		{"read:users!team=x", "unknown filter"},
		{"read:users!", "unknown filter"},
		{"read:users read:servers", "white space"},
		{"read:users\n", "white space"},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("Parse(%q) error %q does not say %q", tc.in, err, tc.mention)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse of an invalid scope did not panic")
		}
	}()
	MustParse("read:users!user=")
}

func TestServerValueRoundTrip(t *testing.T) {
	for _, tc := range []struct{ user, server, value string }{
		{"alice", "", "alice/"},
		{"alice", "gpu", "alice/gpu"},
		{"bob", "a/b", "bob/a/b"},
	} {
		if got := ServerValue(tc.user, tc.server); got != tc.value {
			t.Errorf("ServerValue(%q, %q) = %q, want %q", tc.user, tc.server, got, tc.value)
		}
		u, s := splitServer(tc.value)
		if u != tc.user || s != tc.server {
			t.Errorf("splitServer(%q) = %q, %q, want %q, %q", tc.value, u, s, tc.user, tc.server)
		}
	}
	if u, s := splitServer("alice"); u != "alice" || s != "" {
		t.Errorf("splitServer without slash = %q, %q, want the user's default server", u, s)
	}
}
