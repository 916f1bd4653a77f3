package scopes

import (
	"fmt"
	"slices"
)

// Default role names (roles.py get_default_roles).
const (
	// RoleUser is every user's role: Self.
	RoleUser = "user"
	// RoleAdmin is given to admins in addition to RoleUser.
	RoleAdmin = "admin"
	// RoleServer is the role of the API token a spawned server gets.
	RoleServer = "server"
	// RoleToken is the role of a token created without scopes: Inherit.
	RoleToken = "token"
)

// selfScopes is what Self expands to, each filtered to the owner
// (scopes.py _expand_self_scope at 3.0.0; 5.x adds the sharing scopes,
// which classhub does not implement).
var selfScopes = []string{
	"read:users",
	"read:users:name",
	"read:users:groups",
	"users:activity",
	"read:users:activity",
	"servers",
	"delete:servers",
	"read:servers",
	"tokens",
	"read:tokens",
	"access:servers",
}

// roles holds the raw scopes of each default role. The server role is the
// 3.0.0 one, because the singleuser we run is 3.0.0: it names
// access:servers!user, which JupyterHub 3.0 echoes and every singleuser
// version accepts. (5.x's access:servers!server also passes every check
// here; see CheckScopes.)
var roles = map[string][]string{
	RoleUser: {Self},
	RoleAdmin: {
		"admin-ui",
		"admin:users",
		"admin:servers",
		"tokens",
		"admin:groups",
		"list:services",
		"read:services",
		"read:hub",
		"proxy",
		"shutdown",
		"access:services",
		"access:servers",
		"read:roles",
		"read:metrics",
	},
	RoleServer: {"users:activity!user", "access:servers!user"},
	RoleToken:  {Inherit},
}

// Role returns the raw scopes of a default role, or false if there is no
// such role.
func Role(name string) ([]string, bool) {
	r, ok := roles[name]
	return slices.Clone(r), ok
}

// UserRoles names the roles a user holds: RoleUser, plus RoleAdmin first
// for admins.
func UserRoles(admin bool) []string {
	if admin {
		return []string{RoleAdmin, RoleUser}
	}
	return []string{RoleUser}
}

// UserScopes is everything a user may do: their roles expanded for them.
func UserScopes(name string, admin bool) Set {
	var raw []string
	for _, r := range UserRoles(admin) {
		raw = append(raw, roles[r]...)
	}
	return MustExpand(raw, Owner{User: name})
}

// Owner is who a role or token belongs to, for resolving bare filters.
type Owner struct {
	// User resolves !user and Self; empty when the owner is not a user.
	User string
	// Server is the server a token was issued for ("" is the default
	// server); it resolves !server to User/Server.
	Server string
}

// Resolve fills in bare filters for owner, as JupyterHub does when a role's
// scopes are given to a token: "users:activity!user" becomes
// "users:activity!user=alice" and "access:servers!server" becomes
// "access:servers!server=alice/". Scopes whose filter has nothing to
// resolve to (a bare !user without a user, any bare !service) are dropped,
// as are Self without a user. Order is kept and duplicates removed.
func Resolve(raw []string, owner Owner) ([]string, error) {
	out := make([]string, 0, len(raw))
	seen := map[string]bool{}
	for _, r := range raw {
		s, err := Parse(r)
		if err != nil {
			return nil, err
		}
		if s.Unresolved() {
			switch {
			case s.Kind == KindUser && owner.User != "":
				s.Value = owner.User
			case s.Kind == KindServer && owner.User != "":
				s.Value = ServerValue(owner.User, owner.Server)
			default:
				continue
			}
		}
		if s.Name == Self && !s.Filtered() && owner.User == "" {
			continue
		}
		if str := s.String(); !seen[str] {
			seen[str] = true
			out = append(out, str)
		}
	}
	return out, nil
}

// IdentifyScopes are the scopes every token of user gets for /hub/api/user
// (scopes.py identify_scopes): enough to read their name, admin flag and
// groups.
func IdentifyScopes(user string) []string {
	return []string{
		"read:users:groups!user=" + user,
		"read:users:name!user=" + user,
	}
}

// ServerAccessScope is the scope needed to use one server, which the OAuth
// client of that server always grants: "access:servers!server=alice/".
func ServerAccessScope(user, server string) string {
	return "access:servers!server=" + ServerValue(user, server)
}

// OAuthAccessScopes is what a server requires of its visitors, sent as
// JUPYTERHUB_OAUTH_ACCESS_SCOPES (Spawner.oauth_access_scopes default): the
// server itself, or any server of its user.
func OAuthAccessScopes(user, server string) []string {
	return []string{ServerAccessScope(user, server), "access:servers!user=" + user}
}

// TokenScopes is what a token may do (scopes.py get_scopes_for on a token):
// its raw scopes expanded for owner, plus the identify scopes, capped at
// ownerScopes, so a token never exceeds its owner and loses what its owner
// loses. A token holding Inherit gets exactly ownerScopes. Sorted of the
// result is the "scopes" list /hub/api/user returns for the token.
func TokenScopes(raw []string, owner Owner, ownerScopes Set) (Set, error) {
	if slices.Contains(raw, Inherit) {
		return ownerScopes, nil
	}
	expanded, err := Expand(raw, owner)
	if err != nil {
		return Set{}, fmt.Errorf("token scopes: %w", err)
	}
	if owner.User != "" {
		expanded = Union(expanded, MustExpand(IdentifyScopes(owner.User), owner))
	}
	return Intersect(expanded, ownerScopes), nil
}
