package spawner

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/classhub/classhub/hub/scopes"
)

// ServerPort is the port every single-user server binds inside its
// container.
const ServerPort = 8888

// Environment variable names that hold secrets; their values never enter a
// fingerprint or an event.
var secretEnv = map[string]bool{"JUPYTERHUB_API_TOKEN": true, "JPY_API_TOKEN": true, "JUPYTER_TOKEN": true}

// envInput is what a server's environment is made from.
type envInput struct {
	User      string
	Token     string
	HubHost   string
	HubPort   int
	Image     string
	MemBytes  int64
	CPULimit  float64
	Extra     map[string]string
	ServerKey string // server name; "" for the default server
	// AllowUserConfig leaves JUPYTERHUB_DISABLE_USER_CONFIG unset.
	AllowUserConfig bool
	// Mode is how the image runs the server; for ModeServer, Token is
	// the server's own Jupyter token, not a hub token.
	Mode Mode
}

// hubAPIURL is JUPYTERHUB_API_URL: no trailing slash.
func hubAPIURL(host string, port int) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/hub/api"
}

// buildEnv returns the server's environment as sorted KEY=VALUE pairs: the
// JupyterHub protocol's variables (jupyterhub-protocol.md §1, as
// Spawner.get_env of JupyterHub 3.0 sets them) plus in.Extra. Extra cannot
// replace a protocol variable: those keys are returned in ignored. Nothing
// comes from the hub's own environment.
func buildEnv(in envInput) (env []string, ignored []string) {
	if in.Mode == ModeServer {
		return plainServerEnv(in)
	}
	esc := URLPathEscape(in.User)
	api := hubAPIURL(in.HubHost, in.HubPort)
	prefix := "/user/" + esc + "/"
	access := pyJSONList(scopes.OAuthAccessScopes(in.User, in.ServerKey))
	vars := map[string]string{
		"JUPYTERHUB_API_TOKEN":                   in.Token,
		"JPY_API_TOKEN":                          in.Token,
		"JUPYTERHUB_CLIENT_ID":                   ClientID(in.User),
		"JUPYTERHUB_API_URL":                     api,
		"JUPYTERHUB_ACTIVITY_URL":                api + "/users/" + esc + "/activity",
		"JUPYTERHUB_BASE_URL":                    "/",
		"JUPYTERHUB_SERVICE_PREFIX":              prefix,
		"JUPYTERHUB_SERVICE_URL":                 "http://0.0.0.0:" + strconv.Itoa(ServerPort) + prefix,
		"JUPYTERHUB_OAUTH_CALLBACK_URL":          prefix + "oauth_callback",
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES":         access,
		"JUPYTERHUB_OAUTH_SCOPES":                access,
		"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
		"JUPYTERHUB_USER":                        in.User,
		"JUPYTERHUB_SERVER_NAME":                 in.ServerKey,
		"JUPYTERHUB_HOST":                        "",
		// 4.1+/5.x variables: harmless to 3.0, correct for newer images.
		"JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "0",
		"JUPYTERHUB_PUBLIC_URL":                 "",
		"JUPYTERHUB_PUBLIC_HUB_URL":             "",
		"JUPYTER_IMAGE_SPEC":                    in.Image,
	}
	// A student's ~/.jupyter could otherwise make their server serve any
	// page, from the hub's host, to whoever opens it (extra_static_paths).
	if !in.AllowUserConfig {
		vars["JUPYTERHUB_DISABLE_USER_CONFIG"] = "1"
	}
	addLimits(vars, in)
	return withExtra(vars, in.Extra, isProtocolVar)
}

// plainServerEnv is the environment of a ModeServer server: its token,
// which jupyter_server (and Notebook 6) read from JUPYTER_TOKEN, so it is
// never on a command line, and no JupyterHub variable at all: such a
// server holds no hub credential and calls no hub. Extra cannot set a
// JUPYTERHUB_ variable either: JUPYTERHUB_API_TOKEN alone switches a
// Docker-Stacks image's start script to jupyterhub-singleuser.
func plainServerEnv(in envInput) (env []string, ignored []string) {
	vars := map[string]string{
		"JUPYTER_TOKEN":      in.Token,
		"JUPYTER_IMAGE_SPEC": in.Image,
	}
	addLimits(vars, in)
	return withExtra(vars, in.Extra, func(k string) bool { return strings.HasPrefix(k, "JUPYTERHUB_") || k == "JPY_API_TOKEN" })
}

// addLimits sets the informational MEM_LIMIT and CPU_LIMIT.
func addLimits(vars map[string]string, in envInput) {
	if in.MemBytes > 0 {
		vars["MEM_LIMIT"] = strconv.FormatInt(in.MemBytes, 10)
	}
	if in.CPULimit > 0 {
		vars["CPU_LIMIT"] = strconv.FormatFloat(in.CPULimit, 'f', -1, 64)
	}
}

// withExtra adds extra to vars, except keys already set and those reserved
// says the hub decides, and returns both as sorted lists.
func withExtra(vars, extra map[string]string, reserved func(string) bool) (env []string, ignored []string) {
	for k, v := range extra {
		if _, taken := vars[k]; taken || k == "" || strings.ContainsAny(k, "=\x00") || reserved(k) {
			ignored = append(ignored, k)
			continue
		}
		vars[k] = v
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	sort.Strings(ignored)
	return env, ignored
}

// isProtocolVar reports variables the hub decides even when it leaves them
// unset, so settings cannot forge them (a forged JUPYTERHUB_ADMIN_ACCESS
// would widen 3.0's fallback access check). Deployment knobs the hub never
// sets, such as JUPYTERHUB_SINGLEUSER_APP or JUPYTERHUB_ACTIVITY_INTERVAL,
// stay open.
func isProtocolVar(k string) bool {
	switch k {
	case "JUPYTERHUB_DISABLE_USER_CONFIG", "JUPYTERHUB_ADMIN_ACCESS", "JUPYTERHUB_COOKIE_OPTIONS", "JUPYTERHUB_DEFAULT_URL",
		"JUPYTERHUB_ROOT_DIR", "JUPYTERHUB_SSL_KEYFILE", "JUPYTERHUB_SSL_CERTFILE",
		"JUPYTERHUB_SSL_CLIENT_CA", "JUPYTERHUB_GROUP", "JUPYTERHUB_SERVICE_NAME":
		return true
	}
	return false
}

// pyJSONList formats a list as Python's json.dumps does, ", " between
// items, so the values match JupyterHub's byte for byte.
func pyJSONList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = pyJSONString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyJSONString quotes s as Python's json.dumps does with ensure_ascii:
// non-ASCII as \uxxxx (surrogate pairs above U+FFFF), and '<', '>', '&'
// left alone, unlike encoding/json.
func pyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r >= 0x7f && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// envValue returns the value of key in a KEY=VALUE list.
func envValue(env []string, key string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
