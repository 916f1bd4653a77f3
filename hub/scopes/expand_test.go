package scopes

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// sorted copies and sorts, for comparing with Sorted.
func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// withFilter appends filter to each name.
func withFilter(filter string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + filter
	}
	return out
}

func TestSubscopesFollowTheHierarchy(t *testing.T) {
	// The hierarchy as jupyterhub-protocol.md §3 lists it.
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"admin:users", []string{"admin:users", "admin:auth_state", "users", "read:roles:users", "delete:users",
			"read:users", "list:users", "users:activity", "read:users:name", "read:users:groups", "read:users:activity"}},
		{"users", []string{"users", "read:users", "list:users", "users:activity",
			"read:users:name", "read:users:groups", "read:users:activity"}},
		{"read:users", []string{"read:users", "read:users:name", "read:users:groups", "read:users:activity"}},
		{"list:users", []string{"list:users", "read:users:name"}},
		{"users:activity", []string{"users:activity", "read:users:activity"}},
		{"admin:servers", []string{"admin:servers", "admin:server_state", "servers", "read:servers", "delete:servers", "read:users:name"}},
		{"servers", []string{"servers", "read:servers", "delete:servers", "read:users:name"}},
		{"read:servers", []string{"read:servers", "read:users:name"}},
		{"tokens", []string{"tokens", "read:tokens"}},
		{"access:servers", []string{"access:servers"}},
		{"read:roles", []string{"read:roles", "read:roles:users", "read:roles:services", "read:roles:groups"}},
		{"nonsense", nil},
	} {
		got := Subscopes(tc.name)
		want := sorted(tc.want)
		if tc.want == nil {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("Subscopes(%q) = %v, want %v", tc.name, got, want)
		}
	}
}

func TestEveryNameIsDefinedAndEverySubscopeToo(t *testing.T) {
	names := Names()
	if !sort.StringsAreSorted(names) {
		t.Fatalf("Names() not sorted: %v", names)
	}
	for _, n := range names {
		if !(Scope{Name: n}).Defined() {
			t.Errorf("Names() lists %q but it is not Defined", n)
		}
		for _, c := range definitions[n] {
			if _, ok := definitions[c]; !ok {
				t.Errorf("%s has undefined subscope %s", n, c)
			}
		}
	}
}

// selfFor is what jupyterhub-protocol.md §3 says self expands to.
func selfFor(user string) []string {
	return withFilter("!user="+user, "read:users", "read:users:name", "read:users:groups", "users:activity",
		"read:users:activity", "servers", "delete:servers", "read:servers", "tokens", "read:tokens", "access:servers")
}

// adminExpanded is the admin role of §3 with every subscope spelled out.
var adminExpanded = []string{
	"admin-ui",
	"admin:users", "admin:auth_state", "users", "read:roles:users", "delete:users", "read:users", "list:users",
	"users:activity", "read:users:name", "read:users:groups", "read:users:activity",
	"admin:servers", "admin:server_state", "servers", "read:servers", "delete:servers",
	"tokens", "read:tokens",
	"admin:groups", "groups", "read:roles:groups", "delete:groups", "read:groups", "list:groups", "read:groups:name",
	"list:services", "read:services:name", "read:services",
	"read:hub", "proxy", "shutdown", "access:services", "access:servers",
	"read:roles", "read:roles:services",
	"read:metrics",
}

func TestExpand(t *testing.T) {
	alice := Owner{User: "alice"}
	for _, tc := range []struct {
		name  string
		raw   []string
		owner Owner
		want  []string
	}{
		{"filter kept on every subscope", []string{"users!user=alice"}, Owner{},
			withFilter("!user=alice", "users", "read:users", "list:users", "users:activity",
				"read:users:name", "read:users:groups", "read:users:activity")},
		{"server filter keeps server subscopes", []string{"servers!server=alice/gpu"}, Owner{},
			withFilter("!server=alice/gpu", "servers", "read:servers", "delete:servers")},
		{"server filter drops user subscopes (5.x)", []string{"read:servers!server=alice/"}, Owner{},
			[]string{"read:servers!server=alice/"}},
		{"unfiltered absorbs filtered", []string{"read:users!user=maeby", "read:users"}, Owner{},
			[]string{"read:users", "read:users:name", "read:users:groups", "read:users:activity"}},
		{"unfiltered absorbs filtered, other order", []string{"access:services", "access:services!service=x"}, Owner{},
			[]string{"access:services"}},
		{"filters of one name collect", []string{"read:users:name!user=a", "read:users:name!group=g", "read:users:name!user=b"}, Owner{},
			[]string{"read:users:name!group=g", "read:users:name!user=a", "read:users:name!user=b"}},
		{"bare user filter resolves", []string{"read:users:name!user"}, alice,
			[]string{"read:users:name!user=alice"}},
		{"bare user filter then subscopes", []string{"users:activity!user"}, alice,
			[]string{"users:activity!user=alice", "read:users:activity!user=alice"}},
		{"bare server filter resolves to default server", []string{"access:servers!server"}, alice,
			[]string{"access:servers!server=alice/"}},
		{"bare server filter resolves to named server", []string{"access:servers!server"}, Owner{User: "alice", Server: "gpu"},
			[]string{"access:servers!server=alice/gpu"}},
		{"bare filter without owner is dropped", []string{"users:activity!user", "read:hub"}, Owner{},
			[]string{"read:hub"}},
		{"bare service filter is dropped", []string{"access:services!service"}, alice, nil},
		{"self", []string{"self"}, alice, selfFor("alice")},
		{"self without a user is dropped", []string{"self"}, Owner{}, nil},
		{"admin role", roles[RoleAdmin], alice, adminExpanded},
		{"unfiltered grants absorb self's filtered ones", []string{"self", "admin:users", "admin:servers", "tokens", "access:servers"}, alice,
			[]string{"admin:users", "admin:auth_state", "users", "read:roles:users", "delete:users", "read:users", "list:users",
				"users:activity", "read:users:name", "read:users:groups", "read:users:activity",
				"admin:servers", "admin:server_state", "servers", "read:servers", "delete:servers",
				"tokens", "read:tokens", "access:servers"}},
		{"inherit is kept literally", []string{"inherit"}, alice, []string{"inherit"}},
		{"empty", nil, alice, nil},
	} {
		got, err := Expand(tc.raw, tc.owner)
		if err != nil {
			t.Errorf("%s: Expand(%q): %v", tc.name, tc.raw, err)
			continue
		}
		if s := Sorted(got); !slices.Equal(s, sorted(tc.want)) {
			t.Errorf("%s: Expand(%q) = %q, want %q", tc.name, tc.raw, s, sorted(tc.want))
		}
		if got.Len() != len(tc.want) {
			t.Errorf("%s: Len() = %d, want %d", tc.name, got.Len(), len(tc.want))
		}
	}
}

func TestExpandRejects(t *testing.T) {
	for _, tc := range []struct {
		raw     []string
		mention string
	}{
		{[]string{"read:users", "all"}, `"all" does not exist`},
		{[]string{"custom:x"}, "does not exist"},
		{[]string{"read:users!nope=1"}, "unknown filter"},
		{[]string{"read:users!user="}, "empty filter value"},
	} {
		_, err := Expand(tc.raw, Owner{User: "alice"})
		if err == nil || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("Expand(%q) error = %v, want one mentioning %q", tc.raw, err, tc.mention)
		}
	}
}

// Names returns every defined scope name, sorted.
func Names() []string {
	out := make([]string, 0, len(definitions))
	for n := range definitions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
