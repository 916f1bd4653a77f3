package scopes

import (
	"slices"
	"sort"
	"testing"
)

func keys(m map[string]bool) []string {
	out := []string{}
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestVisibleUserFields(t *testing.T) {
	alice := UserScopes("alice", false)
	oauth, _ := TokenScopes(OAuthTokenScopes("alice", ""), Owner{User: "alice"}, alice)
	server30, _ := TokenScopes(roles[RoleServer], Owner{User: "alice"}, alice)
	expand := func(raw ...string) Set { return MustExpand(raw, Owner{}) }
	for _, tc := range []struct {
		name   string
		set    Set
		user   string
		groups []string
		want   []string
	}{
		// The access map of §3, each scope expanded as a token would hold it.
		{"read:users", expand("read:users"), "bob", nil,
			[]string{"kind", "name", "admin", "roles", "groups", "server", "pending", "created", "last_activity"}},
		{"read:users:name", expand("read:users:name"), "bob", nil, []string{"kind", "name", "admin"}},
		{"read:users:groups", expand("read:users:groups"), "bob", nil, []string{"kind", "name", "groups"}},
		{"read:users:activity", expand("read:users:activity"), "bob", nil, []string{"kind", "name", "last_activity"}},
		// read:servers implies read:users:name, hence admin.
		{"read:servers", expand("read:servers"), "bob", nil, []string{"kind", "name", "admin", "servers"}},
		// upstream test_roles_access
		{"read:roles:users", expand("read:roles:users"), "bob", nil, []string{"kind", "name", "roles", "admin"}},
		{"admin:auth_state", expand("admin:auth_state"), "bob", nil, []string{"kind", "name", "auth_state"}},
		{"nothing", expand(), "bob", nil, nil},
		{"unrelated scopes", expand("read:hub", "tokens", "access:servers"), "bob", nil, nil},
		// §2.3: the OAuth token sees kind, name, admin, groups.
		{"alice's oauth token on alice", oauth, "alice", nil, []string{"kind", "name", "admin", "groups"}},
		{"alice's oauth token on bob", oauth, "bob", nil, nil},
		// §2.3: the server token also sees last_activity.
		{"server token on alice", server30, "alice", nil, []string{"kind", "name", "admin", "groups", "last_activity"}},
		{"alice on herself", alice, "alice", nil,
			[]string{"kind", "name", "admin", "roles", "groups", "server", "pending", "created", "last_activity", "servers"}},
		{"alice on bob", alice, "bob", nil, nil},
		{"admin on bob", UserScopes("root", true), "bob", nil,
			[]string{"kind", "name", "admin", "roles", "groups", "server", "pending", "created", "last_activity", "servers", "auth_state"}},
		// A server filter grants nothing on the user itself.
		{"server-filtered read", expand("read:servers!server=alice/"), "alice", nil, nil},
		{"group member", expand("read:users:name!group=staff"), "bob", []string{"staff"}, []string{"kind", "name", "admin"}},
		{"not a group member", expand("read:users:name!group=staff"), "bob", []string{"pupils"}, nil},
	} {
		got := keys(VisibleUserFields(tc.set, tc.user, tc.groups...))
		if want := sorted(tc.want); !slices.Equal(got, want) {
			t.Errorf("%s: VisibleUserFields(%s) = %q, want %q", tc.name, tc.user, got, want)
		}
	}
}

// TestServerVisibility follows jupyterhub tests/test_scopes.py
// test_server_state_access: user almond with servers bianca and terry,
// in group nuts.
func TestServerVisibility(t *testing.T) {
	expand := func(raw ...string) Set { return MustExpand(raw, Owner{}) }
	for _, tc := range []struct {
		name         string
		set          Set
		visible      []string // of "", "bianca", "terry"
		stateVisible []string
	}{
		{"read:servers!user", expand("read:servers!user=almond"), []string{"", "bianca", "terry"}, nil},
		{"admin:users and read:users", expand("admin:users", "read:users"), nil, nil},
		{"group and servers", expand("read:servers!group=nuts", "servers"), []string{"", "bianca", "terry"}, nil},
		{"server state", expand("admin:server_state", "read:servers"), []string{"", "bianca", "terry"}, []string{"", "bianca", "terry"}},
		{"one server", expand("read:servers!server=almond/bianca", "admin:server_state!server=almond/bianca"),
			[]string{"bianca"}, []string{"bianca"}},
		{"default server only", expand("read:servers!server=almond/"), []string{""}, nil},
		{"admin", UserScopes("root", true), []string{"", "bianca", "terry"}, []string{"", "bianca", "terry"}},
		{"almond herself", UserScopes("almond", false), []string{"", "bianca", "terry"}, nil},
		{"someone else", UserScopes("bob", false), nil, nil},
	} {
		for _, srv := range []string{"", "bianca", "terry"} {
			if got, want := ServerVisible(tc.set, "almond", srv, "nuts"), slices.Contains(tc.visible, srv); got != want {
				t.Errorf("%s: ServerVisible(almond/%s) = %v, want %v", tc.name, srv, got, want)
			}
			if got, want := ServerStateVisible(tc.set, "almond", srv, "nuts"), slices.Contains(tc.stateVisible, srv); got != want {
				t.Errorf("%s: ServerStateVisible(almond/%s) = %v, want %v", tc.name, srv, got, want)
			}
		}
	}
}

func TestWithIdentify(t *testing.T) {
	// A token whose owner lost the identify scopes still identifies on
	// /hub/api/user, but does not list them.
	tok, _ := TokenScopes([]string{"read:users:activity!user"}, Owner{User: "alice"},
		MustExpand([]string{"read:users:activity!user"}, Owner{User: "alice"}))
	if got, want := Sorted(tok), []string{"read:users:activity!user=alice"}; !slices.Equal(got, want) {
		t.Fatalf("token scopes = %q, want %q", got, want)
	}
	got := keys(VisibleUserFields(WithIdentify(tok, "alice"), "alice"))
	if want := []string{"admin", "groups", "kind", "last_activity", "name"}; !slices.Equal(got, want) {
		t.Errorf("fields with identify = %q, want %q", got, want)
	}
	if got := keys(VisibleUserFields(WithIdentify(tok, "alice"), "bob")); len(got) != 0 {
		t.Errorf("identify scopes revealed bob: %q", got)
	}
	if got := Sorted(tok); len(got) != 1 {
		t.Errorf("WithIdentify changed its argument: %q", got)
	}
}
