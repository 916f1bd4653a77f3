package scopes

import (
	"fmt"
	"sort"
	"strings"
)

// Metascopes that Expand and TokenScopes replace rather than expand.
const (
	// Self is a user's own resources; see Role(RoleUser).
	Self = "self"
	// Inherit gives a token everything its owner has.
	Inherit = "inherit"
	// NoScope only identifies the owner.
	NoScope = "(no_scope)"
)

// definitions maps every JupyterHub scope to its direct subscopes
// (scopes.py scope_definitions at 5.5.1, a superset of 3.0.0's: it adds
// admin:services and the sharing scopes, which our roles never grant but a
// token may name).
var definitions = map[string][]string{
	NoScope:               nil,
	Self:                  nil,
	Inherit:               nil,
	"admin-ui":            nil,
	"admin:users":         {"admin:auth_state", "users", "read:roles:users", "delete:users"},
	"admin:auth_state":    nil,
	"users":               {"read:users", "list:users", "users:activity"},
	"delete:users":        nil,
	"list:users":          {"read:users:name"},
	"read:users":          {"read:users:name", "read:users:groups", "read:users:activity"},
	"read:users:name":     nil,
	"read:users:groups":   nil,
	"read:users:activity": nil,
	"read:roles":          {"read:roles:users", "read:roles:services", "read:roles:groups"},
	"read:roles:users":    nil,
	"read:roles:services": nil,
	"read:roles:groups":   nil,
	"users:activity":      {"read:users:activity"},
	"admin:servers":       {"admin:server_state", "servers"},
	"admin:server_state":  nil,
	"servers":             {"read:servers", "delete:servers"},
	"read:servers":        {"read:users:name"},
	"delete:servers":      nil,
	"tokens":              {"read:tokens"},
	"read:tokens":         nil,
	"admin:groups":        {"groups", "read:roles:groups", "delete:groups"},
	"groups":              {"read:groups", "list:groups"},
	"list:groups":         {"read:groups:name"},
	"read:groups":         {"read:groups:name"},
	"read:groups:name":    nil,
	"delete:groups":       nil,
	"admin:services":      {"list:services", "read:services", "read:roles:services"},
	"list:services":       {"read:services:name"},
	"read:services":       {"read:services:name"},
	"read:services:name":  nil,
	"read:hub":            nil,
	"access:servers":      nil,
	"access:services":     nil,
	"users:shares":        {"read:users:shares"},
	"read:users:shares":   nil,
	"groups:shares":       {"read:groups:shares"},
	"read:groups:shares":  nil,
	"read:shares":         nil,
	"shares":              {"access:servers", "read:shares", "users:shares", "groups:shares"},
	"proxy":               nil,
	"shutdown":            nil,
	"read:metrics":        nil,
}

// Subscopes returns name and every scope it implies, sorted, or nil when
// name is not defined.
func Subscopes(name string) []string {
	if _, ok := definitions[name]; !ok {
		return nil
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, c := range definitions[n] {
			walk(c)
		}
	}
	walk(name)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// expandOne is scopes.py _expand_scope: the scope and its subscopes, all
// carrying the scope's filter. Under a !server filter the read:users*
// subscopes are dropped, because a server filter on a user scope means
// nothing (5.x; 3.0 instead granted read:users:name!user=<owner>).
func expandOne(s Scope) []Scope {
	names := Subscopes(s.Name)
	out := make([]Scope, 0, len(names))
	for _, n := range names {
		if s.Kind == KindServer && n != s.Name && strings.HasPrefix(n, "read:user") {
			continue
		}
		out = append(out, Scope{Name: n, Kind: s.Kind, Value: s.Value})
	}
	return out
}

// Expand turns raw scopes, as stored on a role or token, into the Set they
// grant: bare filters and self are resolved for owner (see Resolve), every
// scope brings its subscopes with the same filter, and overlaps are
// reduced (read:users absorbs read:users!user=alice). Scopes whose filter
// cannot be resolved for owner are dropped, as JupyterHub does. Inherit is
// kept as a plain scope; TokenScopes is what gives it meaning.
func Expand(raw []string, owner Owner) (Set, error) {
	resolved, err := Resolve(raw, owner)
	if err != nil {
		return Set{}, err
	}
	var b builder
	for _, r := range resolved {
		s := MustParse(r) // Resolve returns only valid strings
		if !s.Defined() {
			return Set{}, fmt.Errorf("scope %q does not exist: see the JupyterHub scope list (read:users, servers, access:servers, …)", r)
		}
		if s.Name == Self && !s.Filtered() {
			for _, n := range selfScopes {
				for _, e := range expandOne(Scope{Name: n, Kind: KindUser, Value: owner.User}) {
					b.add(e)
				}
			}
			continue
		}
		for _, e := range expandOne(s) {
			b.add(e)
		}
	}
	return b.set(), nil
}

// MustExpand is Expand for scopes written in code; it panics on error.
func MustExpand(raw []string, owner Owner) Set {
	s, err := Expand(raw, owner)
	if err != nil {
		panic(err)
	}
	return s
}
