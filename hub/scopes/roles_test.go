package scopes

import (
	"slices"
	"strings"
	"testing"
)

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
	}{
		{RoleUser, []string{"self"}},
		{RoleServer, []string{"users:activity!user", "access:servers!user"}}, // the 3.0.0 form
		{RoleToken, []string{"inherit"}},
		{RoleAdmin, []string{"admin-ui", "admin:users", "admin:servers", "tokens", "admin:groups", "list:services",
			"read:services", "read:hub", "proxy", "shutdown", "access:services", "access:servers", "read:roles", "read:metrics"}},
	} {
		got, ok := Role(tc.name)
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("Role(%q) = %q, %v, want %q", tc.name, got, ok, tc.want)
		}
		got[0] = "mutated"
		if again, _ := Role(tc.name); again[0] == "mutated" {
			t.Errorf("Role(%q) returned the shared slice", tc.name)
		}
	}
	if _, ok := Role("superuser"); ok {
		t.Error(`Role("superuser") exists`)
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		raw   []string
		owner Owner
		want  []string
	}{
		{[]string{"users:activity!user", "access:servers!user"}, Owner{User: "alice"},
			[]string{"users:activity!user=alice", "access:servers!user=alice"}},
		{[]string{"users:activity!user", "access:servers!server"}, Owner{User: "alice"},
			[]string{"users:activity!user=alice", "access:servers!server=alice/"}},
		{[]string{"access:servers!server"}, Owner{User: "alice", Server: "gpu"},
			[]string{"access:servers!server=alice/gpu"}},
		// Already-resolved filters are not touched, even for another user.
		{[]string{"read:users!user=bob", "read:hub", "read:users!user=bob"}, Owner{User: "alice"},
			[]string{"read:users!user=bob", "read:hub"}},
		// Self stays a metascope; Expand gives it meaning.
		{[]string{"self", "inherit"}, Owner{User: "alice"}, []string{"self", "inherit"}},
		{[]string{"self", "read:users:name!user", "access:services!service", "read:hub"}, Owner{},
			[]string{"read:hub"}},
		{nil, Owner{User: "alice"}, []string{}},
	} {
		got, err := Resolve(tc.raw, tc.owner)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Resolve(%q, %+v) = %q, %v, want %q", tc.raw, tc.owner, got, err, tc.want)
		}
	}
	if _, err := Resolve([]string{"ok", "bad!user="}, Owner{User: "alice"}); err == nil {
		t.Error("Resolve accepted an invalid scope")
	}
}

func TestUserScopes(t *testing.T) {
	if got, want := Sorted(UserScopes("alice", false)), sorted(selfFor("alice")); !slices.Equal(got, want) {
		t.Errorf("UserScopes(alice) = %q, want self for alice %q", got, want)
	}
	// Admins hold both roles; admin's unfiltered grants cover every one of
	// self's filtered scopes, so only admin's remain.
	if got, want := Sorted(UserScopes("root", true)), sorted(adminExpanded); !slices.Equal(got, want) {
		t.Errorf("UserScopes(root, admin) = %q, want %q", got, want)
	}
	if got := UserRoles(true); !slices.Equal(got, []string{"admin", "user"}) {
		t.Errorf("UserRoles(admin) = %q", got)
	}
	if got := UserRoles(false); !slices.Equal(got, []string{"user"}) {
		t.Errorf("UserRoles(user) = %q", got)
	}
}

func TestServerScopeHelpers(t *testing.T) {
	if got, want := OAuthAccessScopes("alice", ""), []string{"access:servers!server=alice/", "access:servers!user=alice"}; !slices.Equal(got, want) {
		t.Errorf("OAuthAccessScopes(alice) = %q, want the JUPYTERHUB_OAUTH_ACCESS_SCOPES of §1 %q", got, want)
	}
	if got, want := OAuthAccessScopes("alice", "gpu")[0], "access:servers!server=alice/gpu"; got != want {
		t.Errorf("named server access scope = %q, want %q", got, want)
	}
	if got, want := IdentifyScopes("alice"), []string{"read:users:groups!user=alice", "read:users:name!user=alice"}; !slices.Equal(got, want) {
		t.Errorf("IdentifyScopes(alice) = %q, want %q", got, want)
	}
}

// TestTokenScopes covers what /hub/api/user echoes for each kind of token.
func TestTokenScopes(t *testing.T) {
	alice := Owner{User: "alice"}
	aliceScopes := UserScopes("alice", false)
	server30, _ := Role(RoleServer)
	for _, tc := range []struct {
		name        string
		raw         []string
		owner       Owner
		ownerScopes Set
		want        []string
	}{
		// §2.3: alice's OAuth token; also the space-joined "scope" of the
		// token response (checked below).
		{"oauth token", OAuthTokenScopes("alice", ""), alice, aliceScopes,
			[]string{"access:servers!server=alice/", "read:users:groups!user=alice", "read:users:name!user=alice"}},
		// JupyterHub 3.0.0 get_scopes_for adds the identify scopes to every
		// token before intersecting with the owner (scopes.py, commit
		// 78b5aa15 "add it to token permissions _before_ intersecting"), and
		// tests/test_services_auth.py "always expect identify/access scopes".
		// So a real 3.0 hub lists them for the server token too; §2.3's
		// three-item list is the server role alone (TestServerRoleAlone).
		{"server token 3.0", server30, alice, aliceScopes,
			[]string{"access:servers!user=alice", "read:users:activity!user=alice", "read:users:groups!user=alice",
				"read:users:name!user=alice", "users:activity!user=alice"}},
		{"server token 5.x form", []string{"users:activity!user", "access:servers!server"}, alice, aliceScopes,
			[]string{"access:servers!server=alice/", "read:users:activity!user=alice", "read:users:groups!user=alice",
				"read:users:name!user=alice", "users:activity!user=alice"}},
		{"asks for more than its owner", []string{"admin:users", "read:users!user=bob", "servers", "read:users:activity!user=alice", "shutdown"},
			alice, aliceScopes,
			[]string{"read:users!user=alice", "read:users:name!user=alice", "read:users:groups!user=alice",
				"read:users:activity!user=alice", "users:activity!user=alice",
				"servers!user=alice", "read:servers!user=alice", "delete:servers!user=alice"}},
		{"admin's token may act on bob", []string{"servers", "read:users!user=bob"}, Owner{User: "root"}, UserScopes("root", true),
			// servers brings unfiltered read:users:name (via read:servers),
			// which absorbs root's identify name scope but not groups.
			[]string{"servers", "read:servers", "delete:servers", "read:users:name",
				"read:users!user=bob", "read:users:groups!user=bob", "read:users:activity!user=bob",
				"read:users:groups!user=root"}},
		{"inherit is the owner exactly", []string{"inherit", "read:hub"}, alice, aliceScopes, selfFor("alice")},
		{"no scopes still identifies", nil, alice, aliceScopes,
			[]string{"read:users:groups!user=alice", "read:users:name!user=alice"}},
		{"loses what the owner lacks, even identify", []string{"read:users:name!user"}, alice, Set{}, nil},
		// Ported from jupyterhub tests/test_scopes.py
		// test_resolve_token_permissions (owner holds only user_scopes).
		{"upstream no_filter", []string{"users:activity"}, Owner{User: "temp"}, MustExpand([]string{"users:activity"}, Owner{User: "temp"}),
			[]string{"users:activity", "read:users:activity"}},
		{"upstream valid_own_filter", []string{"read:users:activity!user"}, Owner{User: "temp"}, MustExpand([]string{"read:users:activity"}, Owner{User: "temp"}),
			[]string{"read:users:activity!user=temp"}},
		{"upstream valid_other_filter", []string{"read:users:activity!user=otheruser"}, Owner{User: "temp"}, MustExpand([]string{"read:users:activity"}, Owner{User: "temp"}),
			[]string{"read:users:activity!user=otheruser"}},
		{"upstream no_filter_owner_filter", []string{"read:users:activity"}, Owner{User: "temp"}, MustExpand([]string{"read:users:activity!user"}, Owner{User: "temp"}),
			[]string{"read:users:activity!user=temp"}},
		{"upstream invalid_filter", []string{"read:users:activity!user=otheruser"}, Owner{User: "temp"}, MustExpand([]string{"read:users:activity!user"}, Owner{User: "temp"}),
			nil},
		{"upstream subscopes_cross_filter", []string{"read:users:name"}, Owner{User: "temp"}, MustExpand([]string{"users!user=x"}, Owner{User: "temp"}),
			[]string{"read:users:name!user=x"}},
		{"upstream multiple_user_filter", []string{"read:users:name!user=x"}, Owner{User: "temp"}, MustExpand([]string{"users!user=x", "users!user=y"}, Owner{User: "temp"}),
			[]string{"read:users:name!user=x"}},
		{"upstream no_intersection_group_user", []string{"users!user=x"}, Owner{User: "temp"}, MustExpand([]string{"users!group=y"}, Owner{User: "temp"}),
			nil},
		{"upstream no_intersection_user_server", []string{"servers!server=x"}, Owner{User: "temp"}, MustExpand([]string{"servers!user=y"}, Owner{User: "temp"}),
			nil},
		{"upstream users_and_groups_both", []string{"read:users:name!group=x", "read:users!user=y"}, Owner{User: "temp"},
			MustExpand([]string{"users!group=x", "users!user=y"}, Owner{User: "temp"}),
			[]string{"read:users:name!group=x", "read:users!user=y", "read:users:name!user=y", "read:users:groups!user=y", "read:users:activity!user=y"}},
		{"upstream users_and_groups_user_only", []string{"read:users:name!group=z", "read:users!user=y"}, Owner{User: "temp"},
			MustExpand([]string{"users!group=x", "users!user=y"}, Owner{User: "temp"}),
			[]string{"read:users!user=y", "read:users:name!user=y", "read:users:groups!user=y", "read:users:activity!user=y"}},
	} {
		got, err := TokenScopes(tc.raw, tc.owner, tc.ownerScopes)
		if err != nil {
			t.Errorf("%s: TokenScopes: %v", tc.name, err)
			continue
		}
		if s := Sorted(got); !slices.Equal(s, sorted(tc.want)) {
			t.Errorf("%s: TokenScopes(%q) = %q, want %q", tc.name, tc.raw, s, sorted(tc.want))
		}
		// Whatever it asked for, a token never exceeds its owner.
		if s := Sorted(Intersect(got, tc.ownerScopes)); !slices.Equal(s, Sorted(got)) {
			t.Errorf("%s: token %q exceeds its owner", tc.name, Sorted(got))
		}
	}

	oauth, _ := TokenScopes(OAuthTokenScopes("alice", ""), alice, aliceScopes)
	if got, want := strings.Join(Sorted(oauth), " "), "access:servers!server=alice/ read:users:groups!user=alice read:users:name!user=alice"; got != want {
		t.Errorf("token response scope = %q, want §2.2's %q", got, want)
	}
	if _, err := TokenScopes([]string{"made:up"}, alice, aliceScopes); err == nil {
		t.Error("TokenScopes accepted an undefined scope")
	}
}

// TestServerRoleAlone: the server role expanded for alice is §2.3's
// three-item 3.0 list; TokenScopes adds the identify scopes to it.
func TestServerRoleAlone(t *testing.T) {
	server30, _ := Role(RoleServer)
	got := Sorted(MustExpand(server30, Owner{User: "alice"}))
	want := []string{"access:servers!user=alice", "read:users:activity!user=alice", "users:activity!user=alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("server role for alice = %q, want %q", got, want)
	}
}

// OAuthTokenScopes is the raw scopes an OAuth access token for a server's
// client holds: the client's access scope and the identify scopes
// (provider.py get_default_scopes with the default allowed scopes).
func OAuthTokenScopes(user, server string) []string {
	return append([]string{ServerAccessScope(user, server)}, IdentifyScopes(user)...)
}
