// Package scopes is JupyterHub's RBAC in pure Go: scope strings with their
// `!kind=value` filters, the default roles, the scope hierarchy, token ∩ owner
// intersection, access checks on a user or server, the user-model field
// filter, and the check the unmodified jupyterhub-singleuser runs on the
// scopes /hub/api/user returns. It follows jupyterhub/scopes.py (5.5.1 scope
// definitions, 3.0.0 default roles) so that what the hub echoes is what a
// real hub would echo; it does no I/O.
package scopes

import (
	"fmt"
	"strings"
)

// Kind names what a scope filter restricts to.
type Kind string

// Filter kinds, as in `read:users!user=alice`.
const (
	// KindUser restricts to one user and, for server scopes, all of their servers.
	KindUser Kind = "user"
	// KindServer restricts to one server, valued "user/servername"; the
	// default server is "alice/".
	KindServer Kind = "server"
	// KindGroup restricts to the members of a group.
	KindGroup Kind = "group"
	// KindService restricts to one service.
	KindService Kind = "service"
)

// Scope is one parsed scope string: Name alone when unfiltered, Name!Kind
// when the filter still has to be resolved against an owner (see Resolve),
// and Name!Kind=Value otherwise.
type Scope struct {
	Name  string
	Kind  Kind
	Value string
}

// Parse splits a scope string such as "access:servers!server=alice/". It
// checks syntax only; Defined says whether the name is a JupyterHub scope,
// because the singleuser side compares names it does not know too.
func Parse(s string) (Scope, error) {
	if s == "" {
		return Scope{}, fmt.Errorf("empty scope: a scope is a name like read:users, optionally followed by !user=<name>")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return Scope{}, fmt.Errorf("scope %q contains white space: give scopes one per list item, not space-separated", s)
	}
	name, filter, filtered := strings.Cut(s, "!")
	if name == "" {
		return Scope{}, fmt.Errorf("scope %q has no name before its filter", s)
	}
	if !filtered {
		return Scope{Name: name}, nil
	}
	kind, value, valued := strings.Cut(filter, "=")
	sc := Scope{Name: name, Kind: Kind(kind), Value: value}
	switch sc.Kind {
	case KindUser, KindServer, KindService:
	case KindGroup:
		// A bare !group has no owner to resolve to (scopes.py exact_filters).
		if !valued {
			return Scope{}, fmt.Errorf("scope %q needs a group name: write %s!group=<name>", s, name)
		}
	default:
		return Scope{}, fmt.Errorf("scope %q has unknown filter %q: use !user, !server, !group or !service", s, kind)
	}
	if valued && value == "" {
		return Scope{}, fmt.Errorf("scope %q has an empty filter value: name the %s after the '='", s, kind)
	}
	return sc, nil
}

// MustParse is Parse for scope strings written in code; it panics on error.
func MustParse(s string) Scope {
	sc, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sc
}

// String formats s back into its scope string.
func (s Scope) String() string {
	switch {
	case s.Kind == "":
		return s.Name
	case s.Value == "":
		return s.Name + "!" + string(s.Kind)
	default:
		return s.Name + "!" + string(s.Kind) + "=" + s.Value
	}
}

// Filtered reports whether s is restricted to some entity.
func (s Scope) Filtered() bool { return s.Kind != "" }

// Unresolved reports whether s has a bare filter like "!user" that only an
// owner can give a value (see Resolve).
func (s Scope) Unresolved() bool { return s.Kind != "" && s.Value == "" }

// Defined reports whether s names a JupyterHub scope or metascope.
func (s Scope) Defined() bool {
	_, ok := definitions[s.Name]
	return ok
}

// ServerValue is the filter value naming a user's server: "alice/" for the
// default server, "alice/gpu" for a named one.
func ServerValue(user, server string) string { return user + "/" + server }

// splitServer undoes ServerValue. A value without a slash names the user's
// default server, as Python's partition does.
func splitServer(v string) (user, server string) {
	user, server, _ = strings.Cut(v, "/")
	return user, server
}
