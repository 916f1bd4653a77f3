package scopes

import (
	"slices"
	"strings"
	"testing"
)

// targetOf turns a filtered scope string into the scope name and Target
// that JupyterHub's has_scope would check, for porting its tests.
func targetOf(t *testing.T, str string, groups ...string) (string, Target) {
	t.Helper()
	s := MustParse(str)
	switch s.Kind {
	case "":
		return s.Name, Target{}
	case KindUser:
		return s.Name, OnUser(s.Value, groups...)
	case KindServer:
		u, srv := splitServer(s.Value)
		return s.Name, OnServer(u, srv, groups...)
	}
	t.Fatalf("targetOf(%q): kind %s has no target", str, s.Kind)
	return "", Target{}
}

// TestAllowsLikeHasScope ports jupyterhub tests/test_scopes.py test_has_scope
// (5.5.1): the user is "usr" and belongs to group "grp".
func TestAllowsLikeHasScope(t *testing.T) {
	for _, tc := range []struct {
		scope string
		have  []string
		ok    bool
	}{
		// exact matches
		{"read:users", []string{"read:users"}, true},
		{"read:users!user=usr", []string{"read:users!user=usr"}, true},
		{"read:servers!server=usr/x", []string{"read:servers!server=usr/x"}, true},
		// subscopes
		{"read:users:name", []string{"read:users"}, true},
		// subscopes with matching filter
		{"read:users:name!user=usr", []string{"read:users!user=usr"}, true},
		{"read:users!user=usr", []string{"read:users!group=grp"}, true},
		{"read:users!user=usr", []string{"read:users"}, true},
		{"read:servers!server=usr/x", []string{"read:servers"}, true},
		{"read:servers!server=usr/x", []string{"servers!server=usr/x"}, true},
		{"read:servers!server=usr/x", []string{"servers!user=usr"}, true},
		{"read:servers!server=usr/x", []string{"servers!group=grp"}, true},
		// shouldn't match
		{"read:users", []string{"read:users!user=usr"}, false},
		{"read:users!user=usr", []string{"read:users!user=other"}, false},
		{"read:users!user=usr", []string{"read:users!group=other"}, false},
		{"read:servers!server=usr/x", []string{"servers!server=other/x"}, false},
		{"read:servers!server=usr/x", []string{"servers!user=other"}, false},
		{"read:servers!server=usr/x", []string{"servers!group=other"}, false},
		{"servers!server=usr/x", []string{"read:servers!server=usr/x"}, false},
		// test_scope_check_not_present
		{"read:users", []string{"read:users!user=maeby"}, false},
		{"read:users!user=gob", []string{"read:users!user=maeby"}, false},
		{"read:users!server=gob/server", []string{"read:users!user=maeby"}, false},
	} {
		have := MustExpand(tc.have, Owner{})
		name, target := targetOf(t, tc.scope, "grp")
		if got := Allows(have, name, target); got != tc.ok {
			t.Errorf("Allows(%q, %s on %+v) = %v, want %v", tc.have, name, target, got, tc.ok)
		}
	}
}

func TestAllowsForUsersAndAdmins(t *testing.T) {
	alice := UserScopes("alice", false)
	admin := UserScopes("root", true)
	aliceOAuth, _ := TokenScopes(OAuthTokenScopes("alice", ""), Owner{User: "alice"}, alice)
	server30, _ := TokenScopes(roles[RoleServer], Owner{User: "alice"}, alice)
	userFiltered := MustExpand([]string{"access:servers!user=alice"}, Owner{})
	serverFiltered := MustExpand([]string{"access:servers!server=alice/", "servers!server=alice/gpu"}, Owner{})
	for _, tc := range []struct {
		who    string
		set    Set
		scope  string
		target Target
		want   bool
	}{
		// admin allowed on bob, alice denied on bob (the REST endpoints of §5).
		{"admin", admin, "servers", OnServer("bob", ""), true},
		{"admin", admin, "delete:servers", OnServer("bob", "gpu"), true},
		{"admin", admin, "admin:users", OnUser("bob"), true},
		{"admin", admin, "delete:users", OnUser("bob"), true},
		{"admin", admin, "read:users", OnUser("bob"), true},
		{"admin", admin, "list:users", Target{}, true},
		{"admin", admin, "access:servers", OnServer("bob", ""), true},
		{"admin", admin, "read:tokens", OnUser("bob"), true},
		{"admin", admin, "shutdown", Target{}, true},
		{"alice", alice, "servers", OnServer("bob", ""), false},
		{"alice", alice, "read:users", OnUser("bob"), false},
		{"alice", alice, "users:activity", OnUser("bob"), false},
		{"alice", alice, "access:servers", OnServer("bob", ""), false},
		{"alice", alice, "delete:users", OnUser("alice"), false},
		{"alice", alice, "list:users", Target{}, false},
		{"alice", alice, "admin:users", OnUser("alice"), false},
		{"alice", alice, "shutdown", Target{}, false},
		// alice on herself: self.
		{"alice", alice, "servers", OnServer("alice", ""), true},
		{"alice", alice, "servers", OnServer("alice", "gpu"), true},
		{"alice", alice, "read:users", OnUser("alice"), true},
		{"alice", alice, "users:activity", OnUser("alice"), true},
		{"alice", alice, "tokens", OnUser("alice"), true},
		{"alice", alice, "access:servers", OnServer("alice", ""), true},
		// !server=alice/ is the default server only, and not the user.
		{"oauth", aliceOAuth, "access:servers", OnServer("alice", ""), true},
		{"oauth", aliceOAuth, "access:servers", OnServer("alice", "gpu"), false},
		{"oauth", aliceOAuth, "access:servers", OnUser("alice"), false},
		{"oauth", aliceOAuth, "servers", OnServer("alice", ""), false},
		{"oauth", aliceOAuth, "read:users:name", OnUser("alice"), true},
		{"oauth", aliceOAuth, "read:users", OnUser("alice"), false},
		{"server-filtered", serverFiltered, "servers", OnServer("alice", "gpu"), true},
		{"server-filtered", serverFiltered, "read:servers", OnServer("alice", "gpu"), true},
		{"server-filtered", serverFiltered, "servers", OnServer("alice", ""), false},
		{"server-filtered", serverFiltered, "read:users:name", OnUser("alice"), false},
		// !user=alice is any of alice's servers.
		{"user-filtered", userFiltered, "access:servers", OnServer("alice", ""), true},
		{"user-filtered", userFiltered, "access:servers", OnServer("alice", "gpu"), true},
		{"user-filtered", userFiltered, "access:servers", OnServer("bob", ""), false},
		{"user-filtered", userFiltered, "access:servers", Target{}, false},
		// The server's own token may post activity for alice only.
		{"server token", server30, "users:activity", OnUser("alice"), true},
		{"server token", server30, "users:activity", OnUser("bob"), false},
		{"server token", server30, "servers", OnServer("alice", ""), false},
		{"server token", server30, "read:users:activity", OnUser("alice"), true},
	} {
		if got := Allows(tc.set, tc.scope, tc.target); got != tc.want {
			t.Errorf("%s: Allows(%s on %+v) = %v, want %v", tc.who, tc.scope, tc.target, got, tc.want)
		}
	}
	if !AllowsAny(alice, []string{"admin:users", "read:users:name"}, OnUser("alice")) {
		t.Error("AllowsAny: alice may read her own name")
	}
	if AllowsAny(alice, []string{"admin:users", "read:users:name"}, OnUser("bob")) || AllowsAny(alice, nil, OnUser("alice")) {
		t.Error("AllowsAny: alice was allowed on bob, or by no scopes at all")
	}
}

// TestAuthorizeLikeSingleuserAuth ports the access table of jupyterhub
// tests/test_singleuser.py test_singleuser_auth (3.0.0): user "burgess"
// holding access_scopes wants into "nandy"'s server; nandy is in group
// "visitors".
func TestAuthorizeLikeSingleuserAuth(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		server string
		want   bool
	}{
		{[]string{"access:servers!group=visitors"}, "", true},
		{[]string{"access:servers!group=other-group"}, "", false},
		{[]string{"access:servers"}, "", true},
		{[]string{"access:servers"}, "named", true},
		{[]string{"access:servers!user=nandy"}, "", true},
		{[]string{"access:servers!user=nandy"}, "named", true},
		{[]string{"access:servers!server=nandy/"}, "", true},
		{[]string{"access:servers!server=nandy/named-server"}, "named-server", true},
		{[]string{"access:servers!server=nandy/other"}, "", false},
		{[]string{"access:servers!server=nandy/other"}, "some-name", false},
		{[]string{"access:servers!user=burgess"}, "", false},
		{[]string{"access:servers!user=burgess"}, "named", false},
		{[]string{"access:services"}, "", false},
		{[]string{"self"}, "named", false},
		{nil, "", false},
	} {
		have := MustExpand(tc.scopes, Owner{User: "burgess"})
		if got := Allows(have, "access:servers", OnServer("nandy", tc.server, "visitors")); got != tc.want {
			t.Errorf("burgess with %q on nandy/%s: Allows = %v, want %v", tc.scopes, tc.server, got, tc.want)
		}
	}
	// Without the membership listed, a group filter matches nothing.
	have := MustExpand([]string{"access:servers!group=visitors"}, Owner{})
	if Allows(have, "access:servers", OnServer("nandy", "")) {
		t.Error("a group filter matched a target that lists no groups")
	}
}

// TestHoldsLikePostFilter ports test_has_scope_post_filter: listing
// endpoints pass with any grant of the scope, filtered or not.
func TestHoldsLikePostFilter(t *testing.T) {
	for _, tc := range []struct {
		scope string
		have  []string
		ok    bool
	}{
		{"read:users", []string{"read:users"}, true},
		{"read:users", []string{"read:users!user=x"}, true},
		{"read:users", []string{"read:groups!user=x"}, false},
		{"list:users", []string{"users!user=x"}, true},
		{"list:users", []string{"self"}, false},
	} {
		if got := Holds(MustExpand(tc.have, Owner{User: "x"}), tc.scope); got != tc.ok {
			t.Errorf("Holds(%q, %s) = %v, want %v", tc.have, tc.scope, got, tc.ok)
		}
	}
}

// TestCheckScopesAcceptsOurAnswers runs the singleuser's own check on
// what /hub/api/user returns for each token.
func TestCheckScopesAcceptsOurAnswers(t *testing.T) {
	alice := UserScopes("alice", false)
	echo := func(raw []string, owner string, ownerScopes Set) []string {
		s, err := TokenScopes(raw, Owner{User: owner}, ownerScopes)
		if err != nil {
			t.Fatal(err)
		}
		return Sorted(s)
	}
	aliceEnv := OAuthAccessScopes("alice", "")
	for _, tc := range []struct {
		name     string
		required []string
		have     []string
		want     []string
	}{
		{"alice's oauth token", aliceEnv, echo(OAuthTokenScopes("alice", ""), "alice", alice),
			[]string{"access:servers!server=alice/"}},
		{"server token, 3.0 form", aliceEnv, echo(roles[RoleServer], "alice", alice),
			aliceEnv},
		{"server token, §2.3 3.0 list", aliceEnv,
			[]string{"access:servers!user=alice", "read:users:activity!user=alice", "users:activity!user=alice"},
			aliceEnv},
		{"server token, 5.x form", aliceEnv,
			[]string{"access:servers!server=alice/", "read:users:activity!user=alice", "users:activity!user=alice"},
			[]string{"access:servers!server=alice/"}},
		{"admin's oauth token", aliceEnv, echo(OAuthTokenScopes("alice", ""), "root", UserScopes("root", true)),
			[]string{"access:servers!server=alice/"}},
		{"admin's full scopes", aliceEnv, Sorted(UserScopes("root", true)), aliceEnv},
		{"alice's own scopes", aliceEnv, Sorted(alice), aliceEnv},
		{"bob's oauth token for bob", aliceEnv, echo(OAuthTokenScopes("bob", ""), "bob", UserScopes("bob", false)), nil},
		{"bob's scopes", aliceEnv, Sorted(UserScopes("bob", false)), nil},
		{"default-server token on a named server", OAuthAccessScopes("alice", "gpu"),
			echo(OAuthTokenScopes("alice", ""), "alice", alice), nil},
		{"named-server token on its server", OAuthAccessScopes("alice", "gpu"),
			echo(OAuthTokenScopes("alice", "gpu"), "alice", alice), []string{"access:servers!server=alice/gpu"}},
		{"identify only", aliceEnv, IdentifyScopes("alice"), nil},
		{"empty access scopes admit nobody", nil, Sorted(alice), nil},
		// check_scopes' own docstring: the intersection may be stricter.
		{"stricter than required", []string{"read:users"}, []string{"read:users!user=x"}, nil},
		{"unfiltered required, unfiltered held", []string{"read:users"}, []string{"read:users"}, []string{"read:users"}},
		{"names it does not know still compare", []string{"custom:x!user=alice"}, []string{"custom:x"}, []string{"custom:x!user=alice"}},
	} {
		got, err := CheckScopes(tc.required, tc.have)
		if err != nil {
			t.Errorf("%s: CheckScopes: %v", tc.name, err)
			continue
		}
		want := sorted(tc.want)
		if tc.want == nil {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: CheckScopes(%q, %q) = %q, want %q", tc.name, tc.required, tc.have, got, want)
		}
	}
	for _, bad := range [][2][]string{
		{{"access:servers!user"}, {"access:servers"}},
		{{"access:servers!user=alice"}, {"access:servers!nope=x"}},
	} {
		if _, err := CheckScopes(bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), "filter") {
			t.Errorf("CheckScopes(%q, %q) error = %v, want a filter error", bad[0], bad[1], err)
		}
	}
}

// AllowsAny reports whether set grants at least one of scopes on target, as
// an endpoint that accepts any of several scopes checks (needs_scope).
func AllowsAny(set Set, scopes []string, target Target) bool {
	return slices.ContainsFunc(scopes, func(s string) bool { return Allows(set, s, target) })
}
