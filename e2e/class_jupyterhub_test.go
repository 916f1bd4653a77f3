package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/bench"
	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/internal/testenv"
)

// jupyterHub3 runs Debian's JupyterHub 3.0 on loopback with the dummy
// authenticator and SimpleLocalProcessSpawner (servers are local
// jupyterhub-singleuser processes), and a service "e2e" holding the admin
// role, whose token it returns with the hub.
func jupyterHub3(t *testing.T) (*bench.JupyterHub, string) {
	t.Helper()
	for _, bin := range []string{"jupyterhub", "configurable-http-proxy", "jupyterhub-singleuser"} {
		if _, err := exec.LookPath(bin); err != nil {
			testenv.Unavailable(t, "%s is not installed (scripts/deps.sh bench test): %v", bin, err)
		}
	}
	dir := t.TempDir()
	j, err := bench.NewJupyterHub(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	admin := hex.EncodeToString(b)
	home := filepath.Join(dir, "home")
	cfg := fmt.Sprintf(`c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = %q
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# Answer a start at once (202), as a hub whose servers start slowly does,
# so that the progress stream is followed from its first event.
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}
c.JupyterHub.services = [{"name": "e2e", "api_token": %q}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["e2e"]}]
`, home+"/{username}", admin)
	if os.Geteuid() == 0 {
		// The notebook server refuses root without being told.
		cfg += "c.Spawner.args = [\"--allow-root\"]\n"
	}
	if err := j.AddConfig(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	took, err := j.Start(ctx, "jupyterhub", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("JupyterHub's log:\n%s", j.Proc.LogTail(60))
		}
		j.Stop()
	})
	t.Logf("JupyterHub 3.0 answered after %v", took.Round(time.Millisecond))
	return j, admin
}

// jhAPI calls JupyterHub's API with token and decodes the JSON answer.
func jhAPI(t *testing.T, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestClassClientAgainstJupyterHub3: the learner's client drives a stock
// JupyterHub 3.0 with a token from its token page: who am I, start with
// the progress stream to ready, status, stop, and forget, which revokes
// the app's token so that the hub refuses it after.
func TestClassClientAgainstJupyterHub3(t *testing.T) {
	j, admin := jupyterHub3(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/ann", nil, nil); st != 201 {
		t.Fatalf("create ann = %d", st)
	}
	// The token ann requests on her token page, as JupyterHub makes it.
	var made struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/ann/tokens", map[string]any{"note": "pasted into classhub"}, &made); st != 201 || made.Token == "" {
		t.Fatalf("ann's token = %d %+v", st, made)
	}

	// The browser login is classhub's: JupyterHub has no client for it,
	// which the app says before opening any browser.
	_, err := classclient.Login(ctx, j.Base+"/hub/login", func(string) error {
		t.Error("a browser was opened for JupyterHub")
		return nil
	})
	if classclient.KindOf(err) != classclient.NoAppLogin || !strings.Contains(err.Error(), j.Base+"/hub/token") {
		t.Fatalf("Login on JupyterHub = %v, want NoAppLogin pointing at the token page", err)
	}

	hubURL, _ := classclient.Normalize(j.Base + "/hub/token")
	tok, err := classclient.Paste(ctx, hubURL, made.Token+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if tok.User != "ann" || !tok.Minted || tok.ID == "" || tok.ID == made.ID {
		t.Fatalf("Paste on JupyterHub 3.0 = %v (minted %v), want a token of the app's own with its id", tok, tok.Minted)
	}
	c := classclient.New(hubURL, tok)
	u, err := c.Whoami(ctx)
	if err != nil || u.Name != "ann" || u.Admin {
		t.Fatalf("Whoami = %+v, %v", u, err)
	}
	if s, err := c.Server(ctx); err != nil || s.State != classclient.Stopped {
		t.Fatalf("Server before the start = %+v, %v", s, err)
	}

	started := time.Now()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var evs []classclient.Event
	if err := c.Progress(ctx, func(e classclient.Event) { evs = append(evs, e) }); err != nil {
		t.Fatalf("Progress: %v (events %+v)", err, evs)
	}
	t.Logf("JupyterHub 3.0: start to ready in %v, %d progress events", time.Since(started).Round(time.Millisecond), len(evs))
	if len(evs) < 2 || evs[0].Ready || evs[0].Progress >= 100 {
		t.Errorf("events %+v: want the stream from a step before ready", evs)
	}
	last := evs[len(evs)-1]
	if !last.Ready || last.URL != hubURL+"/user/ann/" || last.Phase != "" {
		t.Errorf("the last event = %+v, want ready at %s/user/ann/", last, hubURL)
	}
	s, err := c.Server(ctx)
	if err != nil || s.State != classclient.Ready || s.URL != hubURL+"/user/ann/" {
		t.Fatalf("Server when ready = %+v, %v", s, err)
	}
	// The app's token starts and stops the server but does not open it
	// (no access:servers): the learner's browser does, with its own login,
	// so a leaked app token cannot read their notebooks.
	req, _ := http.NewRequest("GET", s.URL+"api/status", nil)
	req.Header.Set("Authorization", "token "+tok.Secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("ann's server at %s with the app's token: %v %v, want 403", s.URL, resp, err)
	} else {
		resp.Body.Close()
	}
	// Starting a running server again is no error.
	if err := c.Start(ctx); err != nil {
		t.Errorf("Start of a running server: %v", err)
	}

	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		s, err := c.Server(ctx)
		if err == nil && s.State == classclient.Stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never stopped: %+v, %v", s, err)
		}
	}

	// Forgetting the class revokes the app's token: the hub refuses it,
	// and the client says so as a revoked login.
	store := &classclient.Store{Dir: t.TempDir()}
	if err := store.Add(classclient.Hub{URL: hubURL, Name: "jh3"}, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Forget(ctx, "jh3"); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	_, err = c.Whoami(ctx)
	if classclient.KindOf(err) != classclient.Refused || !strings.Contains(err.Error(), "Join the class again") {
		t.Fatalf("Whoami after the revoke = %v, want Refused", err)
	}
	// The pasted token is the learner's to delete; it still works.
	if st := jhAPI(t, j.Base, made.Token, "GET", "/hub/api/user", nil, nil); st != 200 {
		t.Errorf("the pasted token after the app's revoke = %d", st)
	}
}

// TestClassCLIAgainstJupyterHub3: `classhub class` joins a stock JupyterHub
// 3.0 with a token on stdin (the browser login says to do so), starts the
// server showing its progress, reads its status, stops it, and forgets the
// class, which revokes the token the app made for itself.
func TestClassCLIAgainstJupyterHub3(t *testing.T) {
	binary(t)
	j, admin := jupyterHub3(t)
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/bea", nil, nil); st != 201 {
		t.Fatalf("create bea = %d", st)
	}
	var made struct {
		Token string `json:"token"`
	}
	if st := jhAPI(t, j.Base, admin, "POST", "/hub/api/users/bea/tokens", map[string]any{"note": "pasted"}, &made); st != 201 {
		t.Fatalf("bea's token = %d", st)
	}
	laptop := t.TempDir()
	if _, e, code := learner(t, laptop, "", "class", "join", j.Base, "--no-browser"); code != 7 || !strings.Contains(e, j.Base+"/hub/token") {
		t.Errorf("class join by browser on JupyterHub: %d %q, want status 7 and the token page", code, e)
	}
	o, e, code := learner(t, laptop, made.Token+"\n", "class", "join", j.Base+"/hub/home", "--token-stdin", "--name", "jh3")
	if code != 0 || !strings.Contains(o, "joined jh3 ("+j.Base+") as bea") || !strings.Contains(o, "delete it on "+j.Base+"/hub/token") ||
		strings.Contains(o+e, made.Token) {
		t.Fatalf("class join --token-stdin: %d %q %q", code, o, e)
	}
	if o, e, code := learner(t, laptop, "", "class", "start"); code != 0 || !strings.Contains(o, "ready: "+j.Base+"/user/bea/") {
		t.Fatalf("class start: %d %q %q", code, o, e)
	}
	if o, _, _ := learner(t, laptop, "", "class", "status"); !strings.Contains(o, "server: ready at "+j.Base+"/user/bea/") {
		t.Errorf("class status: %q", o)
	}
	if o, e, code := learner(t, laptop, "", "class", "stop"); code != 0 {
		t.Errorf("class stop: %d %q %q", code, o, e)
	}
	if o, e, code := learner(t, laptop, "", "class", "forget", "jh3"); code != 0 || !strings.Contains(o, "revoked on the hub") {
		t.Errorf("class forget: %d %q %q", code, o, e)
	}
	var list struct {
		Tokens []struct {
			Note string `json:"note"`
		} `json:"api_tokens"`
	}
	jhAPI(t, j.Base, admin, "GET", "/hub/api/users/bea/tokens", nil, &list)
	for _, tk := range list.Tokens {
		if tk.Note == classclient.MintNote {
			t.Errorf("the app's token is still on the hub after forget: %+v", list)
		}
	}
}
