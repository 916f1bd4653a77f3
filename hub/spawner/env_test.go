package spawner

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestBuildEnv(t *testing.T) {
	env, ignored := buildEnv(envInput{
		User: "alice", Token: "tok", HubHost: "172.18.0.1", HubPort: 8081,
		Image: "classhub/notebook:latest", MemBytes: 2 << 30, CPULimit: 1.5,
		Extra: map[string]string{
			"JUPYTERHUB_API_URL":      "http://evil/hub/api", // protocol: refused
			"JUPYTERHUB_ADMIN_ACCESS": "1",                   // never set by the hub: refused
			// Only allow_user_config decides this one.
			"JUPYTERHUB_DISABLE_USER_CONFIG": "0",
			"JPY_API_TOKEN":                  "x",
			"JUPYTERHUB_SINGLEUSER_APP":      "notebook.notebookapp.NotebookApp", // deployment knob: allowed
			"TZ":                             "Europe/Paris",
			"BAD=KEY":                        "x",
		},
	})
	if !sort.StringsAreSorted(env) {
		t.Error("env is not sorted")
	}
	want := map[string]string{
		"JUPYTERHUB_API_TOKEN":                   "tok",
		"JPY_API_TOKEN":                          "tok",
		"JUPYTERHUB_CLIENT_ID":                   "jupyterhub-user-alice",
		"JUPYTERHUB_API_URL":                     "http://172.18.0.1:8081/hub/api",
		"JUPYTERHUB_ACTIVITY_URL":                "http://172.18.0.1:8081/hub/api/users/alice/activity",
		"JUPYTERHUB_BASE_URL":                    "/",
		"JUPYTERHUB_SERVICE_PREFIX":              "/user/alice/",
		"JUPYTERHUB_SERVICE_URL":                 "http://0.0.0.0:8888/user/alice/",
		"JUPYTERHUB_OAUTH_CALLBACK_URL":          "/user/alice/oauth_callback",
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES":         `["access:servers!server=alice/", "access:servers!user=alice"]`,
		"JUPYTERHUB_OAUTH_SCOPES":                `["access:servers!server=alice/", "access:servers!user=alice"]`,
		"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
		"JUPYTERHUB_USER":                        "alice",
		"JUPYTERHUB_SERVER_NAME":                 "",
		"JUPYTERHUB_HOST":                        "",
		"JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED":  "0",
		"JUPYTERHUB_PUBLIC_URL":                  "",
		"JUPYTERHUB_PUBLIC_HUB_URL":              "",
		"JUPYTER_IMAGE_SPEC":                     "classhub/notebook:latest",
		"JUPYTERHUB_DISABLE_USER_CONFIG":         "1",
		"MEM_LIMIT":                              "2147483648",
		"CPU_LIMIT":                              "1.5",
		"JUPYTERHUB_SINGLEUSER_APP":              "notebook.notebookapp.NotebookApp",
		"TZ":                                     "Europe/Paris",
	}
	if got := envMap(env); !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s", k)
			}
		}
	}
	if !reflect.DeepEqual(ignored, []string{"BAD=KEY", "JPY_API_TOKEN", "JUPYTERHUB_ADMIN_ACCESS", "JUPYTERHUB_API_URL", "JUPYTERHUB_DISABLE_USER_CONFIG"}) {
		t.Errorf("ignored = %v", ignored)
	}
}

// allow_user_config leaves the variable out, and settings cannot put it
// back in either way.
func TestBuildEnvUserConfig(t *testing.T) {
	for _, extra := range []map[string]string{nil, {"JUPYTERHUB_DISABLE_USER_CONFIG": "1"}} {
		env, _ := buildEnv(envInput{User: "alice", Token: "t", HubHost: "h", HubPort: 1, AllowUserConfig: true, Extra: extra})
		if v, ok := envValue(env, "JUPYTERHUB_DISABLE_USER_CONFIG"); ok {
			t.Errorf("with allow_user_config and environment %v, JUPYTERHUB_DISABLE_USER_CONFIG = %q", extra, v)
		}
	}
}

func TestBuildEnvEscapesNames(t *testing.T) {
	env, _ := buildEnv(envInput{User: "Jo Smith@uni", Token: "t", HubHost: "host.docker.internal", HubPort: 1})
	m := envMap(env)
	checks := map[string]string{
		"JUPYTERHUB_SERVICE_PREFIX":     "/user/Jo%20Smith@uni/",
		"JUPYTERHUB_SERVICE_URL":        "http://0.0.0.0:8888/user/Jo%20Smith@uni/",
		"JUPYTERHUB_ACTIVITY_URL":       "http://host.docker.internal:1/hub/api/users/Jo%20Smith@uni/activity",
		"JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/Jo%20Smith@uni/oauth_callback",
		"JUPYTERHUB_CLIENT_ID":          "jupyterhub-user-Jo%20Smith%40uni",
		"JUPYTERHUB_USER":               "Jo Smith@uni",
	}
	for k, v := range checks {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	var scopes []string
	if err := json.Unmarshal([]byte(m["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]), &scopes); err != nil ||
		!reflect.DeepEqual(scopes, []string{"access:servers!server=Jo Smith@uni/", "access:servers!user=Jo Smith@uni"}) {
		t.Errorf("scopes = %v, %v", scopes, err)
	}
	if _, ok := m["MEM_LIMIT"]; ok {
		t.Error("MEM_LIMIT without a limit")
	}
	if got := hubAPIURL("fd00::1", 8081); got != "http://[fd00::1]:8081/hub/api" {
		t.Errorf("IPv6 hub URL = %q", got)
	}
}

func TestPyJSON(t *testing.T) {
	tests := map[string]string{
		"plain":      `"plain"`,
		`q"b\`:       `"q\"b\\"`,
		"<&>":        `"<&>"`,
		"é":          `"\u00e9"`,
		"😀":          `"\ud83d\ude00"`,
		"tab\tnl\n":  `"tab\tnl\n"`,
		"\x01\x7f":   `"\u0001\u007f"`,
		"\xff(junk)": `"\ufffd(junk)"`,
	}
	for in, want := range tests {
		got := pyJSONString(in)
		if got != want {
			t.Errorf("pyJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || (back != in && in != "\xff(junk)") {
			t.Errorf("%s does not decode back to %q: %q, %v", got, in, back, err)
		}
	}
	if got := pyJSONList([]string{"a", "b"}); got != `["a", "b"]` {
		t.Errorf("pyJSONList = %s", got)
	}
}
