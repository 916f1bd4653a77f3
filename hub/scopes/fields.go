package scopes

// User-model field names, as in JupyterHub's user model JSON.
const (
	FieldKind         = "kind"
	FieldName         = "name"
	FieldAdmin        = "admin"
	FieldRoles        = "roles"
	FieldGroups       = "groups"
	FieldServer       = "server"
	FieldPending      = "pending"
	FieldCreated      = "created"
	FieldLastActivity = "last_activity"
	FieldServers      = "servers"
	FieldAuthState    = "auth_state"
)

// userFieldAccess is apihandlers/base.py user_model's access_map: which
// fields each scope reveals (identical in 3.0.0 and 5.5.1).
var userFieldAccess = map[string][]string{
	"read:users": {FieldKind, FieldName, FieldAdmin, FieldRoles, FieldGroups,
		FieldServer, FieldPending, FieldCreated, FieldLastActivity},
	"read:users:name":     {FieldKind, FieldName, FieldAdmin},
	"read:users:groups":   {FieldKind, FieldName, FieldGroups},
	"read:users:activity": {FieldKind, FieldName, FieldLastActivity},
	"read:servers":        {FieldKind, FieldName, FieldServers},
	"read:roles:users":    {FieldKind, FieldName, FieldRoles, FieldAdmin},
	"admin:auth_state":    {FieldKind, FieldName, FieldAuthState},
}

// VisibleUserFields returns the fields of user's model that set may see,
// each mapped to true; an empty map means the user is not visible at all
// (list endpoints drop such users). groups are user's groups for !group
// filters.
//
// Only user-level grants count here, as in JupyterHub: a
// read:servers!server=alice/ grant does not reveal FieldServers, but
// ServerVisible still lets that one server into the "servers" map, which a
// model then carries even without FieldServers. /hub/api/user evaluates
// this on WithIdentify of the token's scopes.
func VisibleUserFields(set Set, user string, groups ...string) map[string]bool {
	t := OnUser(user, groups...)
	out := map[string]bool{}
	for scope, fields := range userFieldAccess {
		if Allows(set, scope, t) {
			for _, f := range fields {
				out[f] = true
			}
		}
	}
	return out
}

// WithIdentify returns set plus user's IdentifyScopes: the scopes
// /hub/api/user evaluates the user model with, because that endpoint lets
// every token identify its owner. Its "scopes" list stays Sorted(set),
// without the scopes added here.
func WithIdentify(set Set, user string) Set {
	return Union(set, MustExpand(IdentifyScopes(user), Owner{User: user}))
}

// ServerVisible reports whether a server's model may appear in its user's
// "servers" map: read:servers on that server.
func ServerVisible(set Set, user, server string, groups ...string) bool {
	return Allows(set, "read:servers", OnServer(user, server, groups...))
}

// ServerStateVisible reports whether a server model may include the
// spawner's "state": admin:server_state on that server.
func ServerStateVisible(set Set, user, server string, groups ...string) bool {
	return Allows(set, "admin:server_state", OnServer(user, server, groups...))
}
