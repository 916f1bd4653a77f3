package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/core/coretest"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
	"github.com/classhub/classhub/internal/testenv"
)

// specFile is JupyterHub 3.0.0's REST API spec, the contract the API is
// held to. It lives in the project's shared/spec folder beside the
// repository (CI lays it there); CLASSHUB_SPEC_DIR overrides that.
const specFile = "jupyterhub-rest-api-3.0.0.yml"

func specPath(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CLASSHUB_SPEC_DIR")
	if dir == "" {
		root, err := filepath.Abs(".")
		if err != nil {
			t.Fatal(err)
		}
		for ; ; root = filepath.Dir(root) {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(root) == root {
				t.Fatal("no go.mod above the test")
			}
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "spec")
	}
	p := filepath.Join(dir, specFile)
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "the upstream REST spec is not at %s (set CLASSHUB_SPEC_DIR)", p)
	}
	return p
}

type env struct {
	t       *testing.T
	srv     *httptest.Server
	store   *store.Store
	hub     *core.Lifecycle
	spawner *spawnertest.Spawner
	router  routers.Router
	tokens  map[string]string
}

// newEnv serves the API over a real store and hub core with a fake
// spawner, with users alice, bob and the admin teacher; opts adjust the
// core's options.
func newEnv(t *testing.T, opts ...func(*core.Options)) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp := spawnertest.New()
	co := core.Options{Config: config.Default(), Store: st, Spawner: sp, Router: spawnertest.NewRouter(),
		Bus: events.NewBus(64), HubPort: 8081, SlowSpawn: 2 * time.Second}
	for _, o := range opts {
		o(&co)
	}
	h := core.New(co)
	t.Cleanup(h.Close)
	ctx := context.Background()
	e := &env{t: t, store: st, hub: h, spawner: sp, tokens: map[string]string{}}
	h.AddUsers(ctx, []string{"alice", "bob"}, false)
	h.AddUsers(ctx, []string{"teacher"}, true)
	for _, u := range []string{"alice", "bob", "teacher"} {
		secret, _, err := st.CreateToken(ctx, store.TokenSpec{User: u, Kind: "api", Scopes: []string{scopes.Inherit}})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[u] = secret
	}
	a := New(Options{Hub: h, Auth: &auth.Authenticator{Store: st}, KeepAlive: time.Second})
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath(t))
	if err != nil {
		t.Fatalf("load the upstream spec: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: e.srv.URL + "/hub/api"}}
	allowDocumentedNulls(doc)
	// The 3.0.0 spec calls a user's servers an array; JupyterHub 3.0 sends
	// a map by server name, which jupyterhub-idle-culler iterates, and the
	// 5.x spec says so. Check against the 5.x shape.
	if servers := doc.Components.Schemas["User"].Value.Properties["servers"]; servers != nil {
		items := servers.Value.Items
		servers.Value = &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject},
			AdditionalProperties: openapi3.AdditionalProperties{Schema: items}}
	}
	if e.router, err = gorillamux.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	return e
}

// allowDocumentedNulls marks nullable the fields that JupyterHub 3.0
// itself sends as null and whose descriptions say so ("Can be null if
// token has never been used"), but that the 3.0.0 spec forgot to mark
// (the 5.x spec marks them).
func allowDocumentedNulls(doc *openapi3.T) {
	nullable := map[string]bool{"last_activity": true, "auth_state": true, "expires_at": true, "started": true,
		"pending": true, "server": true, "session_id": true, "oauth_client": true, "created": true}
	var walk func(*openapi3.Schema, map[*openapi3.Schema]bool)
	walk = func(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for name, p := range s.Properties {
			if nullable[name] && p.Value != nil {
				p.Value.Nullable = true
			}
			walk(p.Value, seen)
		}
		if s.Items != nil {
			walk(s.Items.Value, seen)
		}
		for _, sub := range append(append(s.AllOf, s.AnyOf...), s.OneOf...) {
			walk(sub.Value, seen)
		}
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema.Value, seen)
		}
	}
	seen := map[*openapi3.Schema]bool{}
	for _, s := range doc.Components.Schemas {
		walk(s.Value, seen)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					if mt.Schema != nil {
						walk(mt.Schema.Value, seen)
					}
				}
			}
		}
	}
}

// call makes a request as user ("" for none) and checks the response
// against the upstream spec.
func (e *env) call(method, path, user string, body any, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rb []byte
	if body != nil {
		rb, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(rb))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "token "+e.tokens[user])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-JupyterHub-Version") != core.Version {
		e.t.Errorf("%s %s: X-JupyterHub-Version = %q", method, path, resp.Header.Get("X-JupyterHub-Version"))
	}
	e.validate(req, rb, resp, out)
	return resp, out
}

// validate checks a 2xx JSON response against the spec's schema for it.
func (e *env) validate(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	e.t.Helper()
	if resp.StatusCode >= 300 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return
	}
	// The 3.0.0 spec describes two lists as bare arrays, but JupyterHub
	// wraps them: paginated lists in {"items", "_pagination"} (when asked
	// with the pagination type) and token lists in {"api_tokens"}. Check
	// what is inside.
	var wrapped map[string]json.RawMessage
	if json.Unmarshal(body, &wrapped) == nil {
		for _, key := range []string{"items", "api_tokens"} {
			if inner, ok := wrapped[key]; ok {
				body = inner
			}
		}
	}
	if req.URL.Path == "/hub/api" { // the spec's "/" is /hub/api/
		return
	}
	vreq, _ := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(reqBody))
	vreq.Header = req.Header.Clone()
	route, params, err := e.router.FindRoute(vreq)
	if err != nil {
		e.t.Errorf("%s %s is not in the upstream spec: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		e.t.Errorf("%s %s: the response breaks the upstream spec: %v\n%s", req.Method, req.URL.Path, err, body)
	}
}

func TestRootNeedsNoAuth(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/hub/api", "/hub/api/"} {
		resp, body := e.call("GET", p, "", nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"version":"`+core.Version+`"`) {
			t.Errorf("GET %s = %s %s", p, resp.Status, body)
		}
	}
}

func TestSelfForTokensAndBadTokens(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call("GET", "/hub/api/user", "alice", nil)
	var m map[string]any
	json.Unmarshal(body, &m)
	if resp.StatusCode != 200 || m["name"] != "alice" || m["kind"] != "user" {
		t.Fatalf("GET /user as alice = %s %s", resp.Status, body)
	}
	if _, err := scopes.CheckScopes(scopes.OAuthAccessScopes("alice", ""), toStrings(m["scopes"])); err != nil {
		t.Errorf("alice's own server would refuse her scopes %v: %v", m["scopes"], err)
	}
	// The singleuser server needs exactly 403 for a bad token.
	e.tokens["mallory"] = "not-a-token"
	if resp, _ := e.call("GET", "/hub/api/user", "mallory", nil); resp.StatusCode != 403 {
		t.Errorf("bad token: %s, want 403", resp.Status)
	}
	if resp, _ := e.call("GET", "/hub/api/user", "", nil); resp.StatusCode != 403 {
		t.Errorf("no token: %s, want 403", resp.Status)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestUsersListPaginationAndScopes(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call("GET", "/hub/api/users?limit=2", "teacher", nil, "Accept", PaginationType)
	var page struct {
		Items      []map[string]any
		Pagination struct {
			Total int
			Next  *struct{ URL string }
		} `json:"_pagination"`
	}
	json.Unmarshal(body, &page)
	if resp.StatusCode != 200 || len(page.Items) != 2 || page.Pagination.Total != 3 || page.Pagination.Next == nil {
		t.Fatalf("first page = %s %s", resp.Status, body)
	}
	next, _ := url.Parse(page.Pagination.Next.URL)
	_, body = e.call("GET", next.RequestURI(), "teacher", nil, "Accept", PaginationType)
	json.Unmarshal(body, &page)
	if len(page.Items) != 1 || page.Pagination.Next != nil {
		t.Errorf("last page = %s", body)
	}
	// Without the pagination type: a bare list.
	if _, body := e.call("GET", "/hub/api/users", "teacher", nil); !bytes.HasPrefix(body, []byte("[")) {
		t.Errorf("plain list = %s", body)
	}
	if resp, _ := e.call("GET", "/hub/api/users", "alice", nil); resp.StatusCode != 403 {
		t.Errorf("alice listing users: %s, want 403", resp.Status)
	}
	if resp, _ := e.call("GET", "/hub/api/users?state=sleeping", "teacher", nil); resp.StatusCode != 400 {
		t.Errorf("bad state: %s, want 400", resp.Status)
	}
}

func TestUserCRUD(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call("POST", "/hub/api/users", "teacher", map[string]any{"usernames": []string{"carol", "dave"}})
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"carol"`) {
		t.Fatalf("POST /users = %s %s", resp.Status, body)
	}
	if resp, _ := e.call("POST", "/hub/api/users", "teacher", map[string]any{"usernames": []string{"carol"}}); resp.StatusCode != 409 {
		t.Errorf("re-adding carol: %s, want 409", resp.Status)
	}
	if resp, body := e.call("POST", "/hub/api/users", "teacher", map[string]any{"usernames": []string{"no way"}}); resp.StatusCode != 400 || !strings.Contains(string(body), "may only hold") {
		t.Errorf("bad name: %s %s", resp.Status, body)
	}
	if resp, _ := e.call("POST", "/hub/api/users", "alice", map[string]any{"usernames": []string{"eve"}}); resp.StatusCode != 403 {
		t.Errorf("alice adding users: %s, want 403", resp.Status)
	}
	if resp, body := e.call("PATCH", "/hub/api/users/carol", "teacher", map[string]any{"admin": true}); resp.StatusCode != 200 || !strings.Contains(string(body), `"admin":true`) {
		t.Errorf("PATCH carol = %s %s", resp.Status, body)
	}
	if resp, _ := e.call("GET", "/hub/api/users/bob", "alice", nil); resp.StatusCode != 404 {
		t.Errorf("alice reading bob: %s, want 404 (not visible)", resp.Status)
	}
	if resp, _ := e.call("DELETE", "/hub/api/users/teacher", "teacher", nil); resp.StatusCode != 400 {
		t.Errorf("deleting yourself: %s, want 400", resp.Status)
	}
	if resp, _ := e.call("DELETE", "/hub/api/users/dave", "teacher", nil); resp.StatusCode != 204 {
		t.Errorf("DELETE dave: %s", resp.Status)
	}
	if resp, _ := e.call("GET", "/hub/api/users/dave", "teacher", nil); resp.StatusCode != 404 {
		t.Errorf("dave after delete: %s", resp.Status)
	}
}

func TestServerStartStopAndProgress(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.call("POST", "/hub/api/users/bob/server", "alice", nil); resp.StatusCode != 404 && resp.StatusCode != 403 {
		t.Errorf("alice starting bob's server: %s", resp.Status)
	}
	release := e.spawner.Hold("alice")
	// A slow start answers 202 after the slow-spawn wait.
	done := make(chan *http.Response)
	go func() {
		resp, _ := e.call("POST", "/hub/api/users/alice/server", "alice", nil)
		done <- resp
	}()
	// Follow the progress stream while the start is pending.
	e.waitPending("alice")
	req, _ := http.NewRequest("GET", e.srv.URL+"/hub/api/users/alice/server/progress", nil)
	req.Header.Set("Authorization", "token "+e.tokens["alice"])
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("progress Content-Type %q", ct)
	}
	if resp := <-done; resp.StatusCode != 202 {
		t.Errorf("slow start = %s, want 202", resp.Status)
	}
	release()
	var events []progressEvent
	buf := make([]byte, 64<<10)
	var acc string
	for len(events) == 0 || !(events[len(events)-1].Ready || events[len(events)-1].Failed) {
		n, err := stream.Body.Read(buf)
		acc += string(buf[:n])
		for {
			i := strings.Index(acc, "\n\n")
			if i < 0 {
				break
			}
			line := strings.TrimSpace(acc[:i])
			acc = acc[i+2:]
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var pe progressEvent
				json.Unmarshal([]byte(data), &pe)
				events = append(events, pe)
			}
		}
		if err != nil {
			break
		}
	}
	if len(events) < 2 || events[0].Message != "Server requested" || !events[len(events)-1].Ready || events[len(events)-1].URL != "/user/alice/" {
		t.Fatalf("progress events = %+v", events)
	}
	if resp, _ := e.call("POST", "/hub/api/users/alice/server", "alice", nil); resp.StatusCode != 400 {
		t.Errorf("starting a running server: %s, want 400", resp.Status)
	}
	_, body := e.call("GET", "/hub/api/users/alice", "alice", nil)
	if !strings.Contains(string(body), `"ready":true`) || !strings.Contains(string(body), `"server":"/user/alice/"`) {
		t.Errorf("user model after start = %s", body)
	}
	if resp, _ := e.call("GET", "/hub/api/users?state=ready", "teacher", nil); resp.StatusCode != 200 {
		t.Errorf("state=ready: %s", resp.Status)
	}
	if resp, _ := e.call("DELETE", "/hub/api/users/alice/server", "alice", map[string]bool{"remove": true}); resp.StatusCode != 204 {
		t.Errorf("stop: %s", resp.Status)
	}
	if resp, body := e.call("GET", "/hub/api/users/alice/server/progress", "alice", nil); resp.StatusCode != 400 && !strings.Contains(string(body), "ready") {
		t.Errorf("progress of a stopped server: %s %s", resp.Status, body)
	}
}

func TestStopDuringAPendingStartCancelsIt(t *testing.T) {
	// The POST is still waiting for its start when the DELETE comes.
	e := newEnv(t, func(o *core.Options) { o.SlowSpawn = time.Minute })
	defer e.spawner.Hold("alice")()
	type answer struct {
		resp *http.Response
		body []byte
	}
	started := make(chan answer)
	go func() {
		resp, body := e.call("POST", "/hub/api/users/alice/server", "alice", nil)
		started <- answer{resp, body}
	}()
	e.waitPending("alice")
	if resp, body := e.call("DELETE", "/hub/api/users/alice/server", "alice", nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE during a pending start: %s %s, want 204", resp.Status, body)
	}
	if a := <-started; a.resp.StatusCode != 400 || !strings.Contains(string(a.body), "cancelled") {
		t.Errorf("the cancelled start answered %s %s, want 400 saying it was cancelled", a.resp.Status, a.body)
	}
	resp, body := e.call("GET", "/hub/api/users/alice/server/progress", "alice", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"message":"Start cancelled"`) || !strings.Contains(string(body), `"failed":true`) ||
		!strings.Contains(string(body), `"reason":"cancelled"`) { // what spawn.js tells a cancel from a failure by
		t.Errorf("progress after the cancel: %s %s", resp.Status, body)
	}
	_, body = e.call("GET", "/hub/api/users/alice", "alice", nil)
	if !strings.Contains(string(body), `"pending":null`) || strings.Contains(string(body), `"ready":true`) {
		t.Errorf("user model after the cancel = %s", body)
	}

	// A stop already under way is answered 202, as JupyterHub does.
	release := e.spawner.HoldStop("alice")
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel() // the Start call waits for its start up to a minute
	go e.hub.Start(sctx, "alice")
	e.waitPending("alice")
	stopped := make(chan *http.Response)
	go func() {
		resp, _ := e.call("DELETE", "/hub/api/users/alice/server", "alice", nil)
		stopped <- resp
	}()
	e.waitStatus("alice", func(s core.ServerStatus) bool { return s.Pending == core.PendingStop })
	if resp, _ := e.call("DELETE", "/hub/api/users/alice/server", "alice", nil); resp.StatusCode != 202 {
		t.Errorf("DELETE while stopping: %s, want 202", resp.Status)
	}
	release()
	if resp := <-stopped; resp.StatusCode != 204 {
		t.Errorf("the first DELETE: %s, want 204", resp.Status)
	}
}

// waitPending waits until user's start, made in the background, is
// recorded; until then the progress stream answers that nothing is
// starting.
func (e *env) waitPending(user string) {
	e.t.Helper()
	e.waitStatus(user, coretest.Pending)
}

// waitStatus waits until user's server status satisfies ok.
func (e *env) waitStatus(user string, ok func(core.ServerStatus) bool) {
	e.t.Helper()
	coretest.WaitStatus(e.t, e.hub, user, ok)
}

func TestActivity(t *testing.T) {
	e := newEnv(t)
	sent := time.Now().UTC().Truncate(time.Microsecond)
	now := sent.Format("2006-01-02T15:04:05.000000Z")
	body := map[string]any{"servers": map[string]any{"": map[string]string{"last_activity": now}}, "last_activity": now}
	if resp, b := e.call("POST", "/hub/api/users/alice/activity", "alice", body); resp.StatusCode != 200 {
		t.Fatalf("activity: %s %s", resp.Status, b)
	}
	u, _ := e.store.GetUser(context.Background(), "alice")
	if !u.LastActivity.Equal(sent) {
		t.Errorf("last activity = %v, want the %v reported", u.LastActivity, sent)
	}
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	if resp, _ := e.call("POST", "/hub/api/users/alice/activity", "alice", map[string]any{"last_activity": future}); resp.StatusCode != 400 {
		t.Errorf("activity in the future: %s, want 400", resp.Status)
	}
	if resp, _ := e.call("POST", "/hub/api/users/alice/activity", "alice", map[string]any{"servers": map[string]any{"gpu": map[string]string{"last_activity": now}}}); resp.StatusCode != 400 {
		t.Errorf("activity for a named server: %s, want 400", resp.Status)
	}
	if resp, _ := e.call("POST", "/hub/api/users/bob/activity", "alice", body); resp.StatusCode != 404 && resp.StatusCode != 403 {
		t.Errorf("alice reporting bob's activity: %s", resp.Status)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	resp, body := e.call("POST", "/hub/api/users/alice/tokens", "alice", map[string]any{"note": "for a script", "expires_in": 3600})
	var tok map[string]any
	json.Unmarshal(body, &tok)
	if resp.StatusCode != 201 || tok["token"] == nil || tok["note"] != "for a script" || tok["expires_at"] == nil {
		t.Fatalf("create token = %s %s", resp.Status, body)
	}
	id := tok["id"].(string)
	if resp, body := e.call("GET", "/hub/api/users/alice/tokens", "alice", nil); resp.StatusCode != 200 || !strings.Contains(string(body), id) {
		t.Errorf("list tokens = %s %s", resp.Status, body)
	}
	if resp, _ := e.call("GET", "/hub/api/users/alice/tokens/"+id, "alice", nil); resp.StatusCode != 200 {
		t.Errorf("get token: %s", resp.Status)
	}
	if resp, _ := e.call("POST", "/hub/api/users/alice/tokens", "alice", map[string]any{"scopes": []string{"admin:users"}}); resp.StatusCode != 403 {
		t.Errorf("alice asking for admin:users: %s, want 403", resp.Status)
	}
	if resp, _ := e.call("GET", "/hub/api/users/alice/tokens", "bob", nil); resp.StatusCode != 404 && resp.StatusCode != 403 {
		t.Errorf("bob reading alice's tokens: %s", resp.Status)
	}
	if resp, _ := e.call("DELETE", "/hub/api/users/alice/tokens/"+id, "alice", nil); resp.StatusCode != 204 {
		t.Errorf("delete token: %s", resp.Status)
	}
	e.tokens["old"] = tok["token"].(string)
	if resp, _ := e.call("GET", "/hub/api/user", "old", nil); resp.StatusCode != 403 {
		t.Errorf("a deleted token still works: %s", resp.Status)
	}
}

func TestInternalHandlerServesOnlyWhatServersNeed(t *testing.T) {
	e := newEnv(t)
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}})
	srv := httptest.NewServer(a.InternalHandler())
	defer srv.Close()
	for path, want := range map[string]int{"/hub/api": 200, "/hub/api/user": 403, "/hub/api/users": 404, "/hub/api/info": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("internal GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestEachServerHearsItsOwnJupyterHubVersion: the internal listener answers
// a server with the version its image's jupyterhub has, so
// jupyterhub-singleuser 5 and 3.0 both find the hub in step; the public
// API, and a server whose image does not say, hear classhub's own.
func TestEachServerHearsItsOwnJupyterHubVersion(t *testing.T) {
	e := newEnv(t)
	a := New(Options{Hub: e.hub, Auth: &auth.Authenticator{Store: e.store}, ServerVersion: func(r *http.Request) string {
		if r.Header.Get("X-Test-Image") == "lab" {
			return "5.2.1"
		}
		return ""
	}})
	for _, tc := range []struct {
		name    string
		handler http.Handler
		image   string
		want    string
	}{
		{"a Lab server", a.InternalHandler(), "lab", "5.2.1"},
		{"an image that does not say", a.InternalHandler(), "", core.Version},
		{"the public API", a.Handler(), "lab", core.Version},
	} {
		req := httptest.NewRequest("GET", "/hub/api", nil)
		req.Header.Set("X-Test-Image", tc.image)
		w := httptest.NewRecorder()
		tc.handler.ServeHTTP(w, req)
		if got := w.Header().Get("X-JupyterHub-Version"); w.Code != 200 || got != tc.want {
			t.Errorf("%s: GET /hub/api = %d with version %q, want %q", tc.name, w.Code, got, tc.want)
		}
	}
}
