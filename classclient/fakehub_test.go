package classclient

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeHub answers as JupyterHub's REST API does, for one user "alice",
// with classhub's desktop client when app is set.
type fakeHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	app      bool
	tokenID  bool              // tell token_id in /hub/api/user
	tokens   map[string]string // secret → id
	running  string            // "", "pending", "ready"
	events   []string          // progress stream lines, sent as is
	codes    map[string]string // code → challenge
	redirect map[string]string // code → redirect_uri
	status   int               // when set, every API call answers it
	deleted  []string
	mint     bool     // answer POST .../tokens
	minted   []string // the scopes the app asked for
}

func newFakeHub(t *testing.T) *fakeHub {
	f := &fakeHub{t: t, tokens: map[string]string{"secret-a": "a1"}, codes: map[string]string{}, redirect: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeHub) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-JupyterHub-Version", "3.0.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		f.json(w, f.status, map[string]any{"status": f.status, "message": "broken"})
		return
	}
	switch r.URL.Path {
	case "/hub/api":
		m := map[string]any{"version": "3.0.0"}
		if f.app {
			m["desktop_client"] = AppClientID
		}
		f.json(w, 200, m)
		return
	case "/hub/api/oauth2/token":
		r.ParseForm()
		code := r.PostForm.Get("code")
		ch, ok := f.codes[code]
		delete(f.codes, code)
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || ch != base64.RawURLEncoding.EncodeToString(sum[:]) || r.PostForm.Get("redirect_uri") != f.redirect[code] ||
			r.PostForm.Get("client_id") != AppClientID {
			f.json(w, 400, map[string]string{"error": "invalid_grant", "error_description": "bad code or verifier"})
			return
		}
		f.tokens["secret-oauth"] = "o7"
		f.json(w, 200, map[string]any{"access_token": "secret-oauth", "token_type": "Bearer", "expires_in": 3600, "scope": "servers!user=alice"})
		return
	}
	secret := strings.TrimPrefix(r.Header.Get("Authorization"), "token ")
	id, ok := f.tokens[secret]
	if !ok {
		f.json(w, 403, map[string]any{"status": 403, "message": "Missing or invalid credentials."})
		return
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/hub/api/user":
		m := map[string]any{"kind": "user", "name": "alice", "admin": false, "scopes": []string{"servers!user=alice"}, "server": nil, "pending": nil}
		if f.tokenID {
			m["token_id"] = id
		}
		switch f.running {
		case "pending":
			m["pending"] = "spawn"
			m["servers"] = map[string]any{"": map[string]any{"ready": false, "pending": "spawn", "url": "/user/alice/"}}
		case "ready":
			m["server"] = "/user/alice/"
			m["servers"] = map[string]any{"": map[string]any{"ready": true, "pending": nil, "url": "/user/alice/"}}
		default:
			m["servers"] = map[string]any{}
		}
		f.json(w, 200, m)
	case r.Method == "POST" && r.URL.Path == "/hub/api/users/alice/server":
		if f.running == "ready" {
			f.json(w, 400, map[string]any{"status": 400, "message": "alice is already running"})
			return
		}
		f.running = "pending"
		w.WriteHeader(202)
	case r.Method == "DELETE" && r.URL.Path == "/hub/api/users/alice/server":
		if f.running == "" {
			f.json(w, 400, map[string]any{"status": 400, "message": "alice's server is not running"})
			return
		}
		f.running = ""
		w.WriteHeader(204)
	case r.Method == "GET" && r.URL.Path == "/hub/api/users/alice/server/progress":
		if f.running != "pending" {
			f.json(w, 400, map[string]any{"status": 400, "message": "not starting"})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, l := range f.events {
			fmt.Fprint(w, l)
		}
	case r.Method == "POST" && r.URL.Path == "/hub/api/users/alice/tokens" && f.mint:
		var body struct {
			Note   string   `json:"note"`
			Scopes []string `json:"scopes"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.minted = body.Scopes
		f.tokens["secret-minted"] = "m9"
		f.json(w, 201, map[string]any{"token": "secret-minted", "id": "m9", "note": body.Note, "scopes": body.Scopes})
	case r.Method == "GET" && r.URL.Path == "/hub/api/users/alice/tokens":
		var list []map[string]string
		for _, id := range f.tokens {
			list = append(list, map[string]string{"id": id})
		}
		f.json(w, 200, map[string]any{"api_tokens": list})
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/hub/api/users/alice/tokens/"):
		del := strings.TrimPrefix(r.URL.Path, "/hub/api/users/alice/tokens/")
		for s, id := range f.tokens {
			if id == del {
				delete(f.tokens, s)
				f.deleted = append(f.deleted, id)
				w.WriteHeader(204)
				return
			}
		}
		f.json(w, 404, map[string]any{"status": 404, "message": "no such token"})
	default:
		f.json(w, 404, map[string]any{"status": 404, "message": "not found"})
	}
}

// authorize plays the hub's authorization page for an already logged-in
// learner who presses Allow: it returns where the hub sends the browser.
func (f *fakeHub) authorize(u string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	pu, err := url.Parse(u)
	if err != nil {
		f.t.Fatal(err)
	}
	q := pu.Query()
	if q.Get("client_id") != AppClientID || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		f.t.Fatalf("authorize URL %s is not a PKCE S256 request of the app", u)
	}
	code := fmt.Sprintf("code-%d", len(f.codes)+len(f.redirect))
	f.codes[code] = q.Get("code_challenge")
	f.redirect[code] = q.Get("redirect_uri")
	return q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}
