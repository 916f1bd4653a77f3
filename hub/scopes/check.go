package scopes

import (
	"sort"
)

// Target is the entity a request acts on: a user, or one of their servers.
// The zero Target is "everything", which only unfiltered scopes allow.
type Target struct {
	// User is the user acted on, or whose server is acted on.
	User string
	// Server is the server's name when IsServer; "" is the default server.
	Server string
	// IsServer makes the target User's server Server rather than User.
	IsServer bool
	// Groups are User's groups, for !group filters. classhub has no groups
	// yet, so this is normally empty and !group filters match nothing.
	Groups []string
}

// OnUser targets a user, e.g. DELETE /users/{name}.
func OnUser(name string, groups ...string) Target {
	return Target{User: name, Groups: groups}
}

// OnServer targets one of user's servers ("" = default), e.g.
// POST /users/{name}/server, which JupyterHub checks as server "alice/".
func OnServer(user, server string, groups ...string) Target {
	return Target{User: user, Server: server, IsServer: true, Groups: groups}
}

// Allows reports whether set grants scope on target (scopes.py has_scope and
// check_scope_filter). set must be expanded (from Expand, UserScopes or
// TokenScopes), so that holding "users" answers for "read:users". A !user
// filter covers the user and all their servers; a !server filter covers only
// that server, not the user; a !group filter covers the members of the
// group as listed in target.Groups.
//
// For example, does the set allow "servers" on user bob's default server:
// Allows(set, "servers", OnServer("bob", "")).
func Allows(set Set, scope string, target Target) bool {
	f, ok := set.m[scope]
	if !ok {
		return false
	}
	if f.all {
		return true
	}
	if target.User == "" {
		return false
	}
	if target.IsServer {
		if f.by[KindServer][ServerValue(target.User, target.Server)] {
			return true
		}
	}
	if f.by[KindUser][target.User] {
		return true
	}
	for _, g := range target.Groups {
		if f.by[KindGroup][g] {
			return true
		}
	}
	return false
}

// Holds reports whether set grants scope on anything at all, filtered or
// not. Listing endpoints (GET /users with list:users) pass on Holds and then
// drop the entries Allows refuses; an endpoint whose target Allows refuses
// answers 404 rather than 403 when Holds is true, so that a filtered token
// cannot tell missing entities from forbidden ones.
func Holds(set Set, scope string) bool {
	_, ok := set.m[scope]
	return ok
}

// CheckScopes is the access check the unmodified jupyterhub-singleuser runs
// (services/auth.py check_scopes): required is its
// JUPYTERHUB_OAUTH_ACCESS_SCOPES and have the "scopes" of our /hub/api/user
// answer. It returns the required scopes that have satisfies, sorted; the
// visitor is let in when it is non-empty. Neither side is expanded, exactly
// as the singleuser does not expand them, which is why /hub/api/user must
// list expanded scopes.
func CheckScopes(required, have []string) ([]string, error) {
	req, err := parseSet(required)
	if err != nil {
		return nil, err
	}
	got, err := parseSet(have)
	if err != nil {
		return nil, err
	}
	inter := Intersect(req, got)
	// Keep only the required strings themselves: the intersection may be
	// stricter than what was required (read:users vs read:users!user=x).
	var out []string
	seen := map[string]bool{}
	for _, r := range required {
		if !seen[r] && inter.Contains(r) {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}
