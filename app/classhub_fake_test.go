package app

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

	"github.com/classhub/classhub/classclient"
)

// fakeClassHub is a class hub on loopback speaking the part of
// JupyterHub's REST API and OAuth that the tray uses, for one learner.
// With app false it is a stock JupyterHub: no client for the app, so
// tokens come from its token page (mint).
type fakeClassHub struct {
	srv  *httptest.Server
	user string
	app  bool

	mu     sync.Mutex
	tokens map[string]string // secret → id
	codes  map[string]string // code → PKCE challenge
	nextID int
	// state is the server's: "stopped", "spawn", "ready" or "stop".
	state string
	// steps feed the progress stream of a start.
	steps chan classclient.Event
	// status, when not 0, is what every API call answers (a hub in
	// trouble).
	status  int
	revoked []string
	starts  int
	stops   int
}

func newFakeClassHub(t *testing.T, user string, app bool) *fakeClassHub {
	f := &fakeClassHub{user: user, app: app, tokens: map[string]string{}, codes: map[string]string{},
		state: "stopped", steps: make(chan classclient.Event, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		// The tray may still follow a progress stream.
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeClassHub) URL() string { return f.srv.URL }

// mint is a token as the hub's token page hands it out.
func (f *fakeClassHub) mint() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	secret := fmt.Sprintf("secret-%d-of-%s", f.nextID, f.user)
	f.tokens[secret] = fmt.Sprintf("a%d", f.nextID)
	return secret
}

func (f *fakeClassHub) set(fn func(f *fakeClassHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// step sends one step of the start under way.
func (f *fakeClassHub) step(pct int, msg string) {
	f.steps <- classclient.Event{Progress: pct, Message: msg}
}

// ready finishes the start.
func (f *fakeClassHub) ready() {
	f.set(func(f *fakeClassHub) { f.state = "ready" })
	f.steps <- classclient.Event{Progress: 100, Ready: true, URL: "/user/" + f.user + "/", Message: "Server ready"}
}

// cull stops the server as the hub's idle culler would.
func (f *fakeClassHub) cull() { f.set(func(f *fakeClassHub) { f.state = "stopped" }) }

func (f *fakeClassHub) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-JupyterHub-Version", "5.2.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeClassHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status := f.status
	f.mu.Unlock()
	if status != 0 {
		f.json(w, status, map[string]any{"status": status, "message": "the hub is in trouble"})
		return
	}
	p := r.URL.Path
	switch {
	case p == "/hub/api":
		root := map[string]any{"version": "5.2.1"}
		if f.app {
			root["desktop_client"] = classclient.AppClientID
		}
		f.json(w, 200, root)
	case p == "/hub/api/oauth2/authorize" && f.app:
		f.authorize(w, r)
	case p == "/hub/api/oauth2/token" && f.app:
		f.token(w, r)
	case strings.HasPrefix(p, "/hub/api/"):
		f.api(w, r)
	default:
		http.NotFound(w, r)
	}
}

// authorize logs the learner in at once and sends the browser back to the
// app's loopback address with a code, naming itself (iss) as classhub does.
func (f *fakeClassHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Hostname() != "127.0.0.1" || q.Get("client_id") != classclient.AppClientID ||
		q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.nextID++
	code := fmt.Sprintf("code-%d", f.nextID)
	f.codes[code] = q.Get("code_challenge")
	f.mu.Unlock()
	redirect.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {"http://" + r.Host}}.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token trades a code and the verifier that matches its challenge for a
// token.
func (f *fakeClassHub) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	challenge, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
		f.json(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	f.json(w, 200, map[string]any{"access_token": f.mint(), "token_type": "Bearer", "scope": "access:servers!user=" + f.user})
}

func (f *fakeClassHub) api(w http.ResponseWriter, r *http.Request) {
	secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	mine := "/hub/api/users/" + f.user
	f.mu.Lock()
	id, ok := f.tokens[secret]
	starting := f.state == "spawn"
	f.mu.Unlock()
	switch {
	case !ok:
		f.json(w, 403, map[string]any{"status": 403, "message": "Action is not authorized with current scopes"})
		return
	case r.URL.Path == mine+"/server/progress" && !starting:
		f.json(w, 400, map[string]any{"status": 400, "message": "not starting"})
		return
	case r.URL.Path == mine+"/server/progress":
		f.stream(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/hub/api/user" && r.Method == http.MethodGet:
		u := map[string]any{"name": f.user, "scopes": []string{"access:servers!user=" + f.user}, "token_id": id,
			"servers": map[string]any{}, "server": nil, "pending": nil}
		if f.state != "stopped" {
			var pending any
			if f.state == "spawn" || f.state == "stop" {
				pending = f.state
			}
			u["servers"] = map[string]any{"": map[string]any{"ready": f.state == "ready", "pending": pending,
				"url": "/user/" + f.user + "/", "progress_url": mine + "/server/progress"}}
			u["pending"] = pending
		}
		f.json(w, 200, u)
	case p == mine+"/server" && r.Method == http.MethodPost:
		f.starts++
		if f.state == "stopped" {
			f.state = "spawn"
		}
		w.WriteHeader(http.StatusAccepted)
	case p == mine+"/server" && r.Method == http.MethodDelete:
		f.stops++
		if f.state == "spawn" {
			f.steps <- classclient.Event{Progress: 100, Failed: true, Message: "Start cancelled", Reason: "cancelled"}
		}
		f.state = "stopped"
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(p, mine+"/tokens/") && r.Method == http.MethodDelete:
		tid := strings.TrimPrefix(p, mine+"/tokens/")
		for s, i := range f.tokens {
			if i == tid {
				delete(f.tokens, s)
				f.revoked = append(f.revoked, tid)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		f.json(w, 404, map[string]any{"status": 404, "message": "Not found"})
	}
}

// stream sends the steps of the start as JupyterHub's progress stream
// does, until it is ready or failed.
func (f *fakeClassHub) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-f.steps:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
			if e.Ready || e.Failed {
				return
			}
		}
	}
}

// browse is the learner's browser: it follows the hub's login to the
// app's loopback address.
func browse(t *testing.T, u string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("browser: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("browser: %s answered %s", u, resp.Status)
	}
}

// mapKeyring is a keyring in memory.
type mapKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *mapKeyring) Get(s, u string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[s+"\x00"+u]
	if !ok {
		return "", fmt.Errorf("not found")
	}
	return v, nil
}

func (k *mapKeyring) Set(s, u, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[s+"\x00"+u] = p
	return nil
}

func (k *mapKeyring) Delete(s, u string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, s+"\x00"+u)
	return nil
}
