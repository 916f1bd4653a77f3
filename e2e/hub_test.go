package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/gorilla/websocket"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/tlscert"
	"github.com/classhub/classhub/internal/freeport"
	"github.com/classhub/classhub/internal/testenv"
)

// classroom is a hub run by the real binary on loopback, with users whose
// names are unique to this run so that cleanup by label touches nothing
// else.
type classroom struct {
	t       *testing.T
	dataDir string
	base    string // http://127.0.0.1:PORT
	listen  string
	suffix  string
	proc    *exec.Cmd
	http    *http.Client
	// https is set by useHTTPS; ca is then the authority the hub made,
	// the only one the classroom's clients trust.
	https bool
	ca    *x509.Certificate
}

// freePort picks a port for the hub to bind when it starts, which is
// seconds later; freeport keeps it out of the range other processes are
// given ports from meanwhile. ip "" means every address.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	p, err := freeport.Port(ip)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newClassroom(t *testing.T) *classroom {
	t.Helper()
	return newClassroomOf(t, testenv.NotebookImage)
}

// newClassroomOf is newClassroom whose servers start from image, which
// the engine must hold.
func newClassroomOf(t *testing.T, image string) *classroom {
	t.Helper()
	cli := testenv.Docker(t)
	testenv.RequireImage(t, cli, image)
	c := &classroom{t: t, dataDir: t.TempDir(), suffix: fmt.Sprintf("%04d", rand.IntN(10000))}
	c.listen = fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	c.base = "http://" + c.listen
	c.http = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	network := "classhub-e2e-" + c.suffix
	// The hub port is fixed for the run: containers keep calling it after
	// a restart. It is bound on the bridge, so it must be free on every
	// address.
	// Each user's server gets a port of its own from user_ports, on the
	// public address; this run's block is free and its own.
	ports, err := freeport.Block("127.0.0.1", 16)
	if err != nil {
		t.Fatal(err)
	}
	// The classic image, which the walks of Notebook 6 drive; useImage
	// chooses another.
	cfg := fmt.Sprintf("image = %q\nnetwork = %q\nhub_port = %d\nlisten = %q\nuser_ports = \"%d-%d\"\nmemory_limit = \"1G\"\n",
		image, network, freePort(t, ""), c.listen, ports, ports+15)
	if err := os.WriteFile(filepath.Join(c.dataDir, "classhub.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stop(syscall.SIGTERM)
		removeClassroom(cli, c.suffix, network)
	})
	return c
}

// removeClassroom removes this run's containers, volumes and network.
func removeClassroom(cli interface {
	ContainerList(context.Context, container.ListOptions) ([]container.Summary, error)
	ContainerRemove(context.Context, string, container.RemoveOptions) error
	VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error)
	VolumeRemove(context.Context, string, bool) error
	NetworkRemove(context.Context, string) error
}, suffix, network string) {
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))
	cs, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	for _, c := range cs {
		if strings.HasSuffix(c.Labels[engine.LabelUser], suffix) {
			cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}
	vs, _ := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	for _, v := range vs.Volumes {
		if strings.HasSuffix(v.Labels[engine.LabelUser], suffix) {
			cli.VolumeRemove(ctx, v.Name, true)
		}
	}
	cli.NetworkRemove(ctx, network)
}

func (c *classroom) user(name string) string { return name + c.suffix }

// useImage makes the hub's servers start from ref; call it before serve.
func (c *classroom) useImage(ref string) {
	c.t.Helper()
	if err := config.SetImage(filepath.Join(c.dataDir, config.FileName), ref); err != nil {
		c.t.Fatal(err)
	}
}

// classhub runs a CLI command against the classroom's data dir.
func (c *classroom) classhub(args ...string) string {
	c.t.Helper()
	return c.classhubInput("", args...)
}

// classhubInput runs a CLI command with input on its standard input.
func (c *classroom) classhubInput(input string, args ...string) string {
	c.t.Helper()
	args = append(args, "--data-dir", c.dataDir)
	cmd := exec.Command(binary(c.t), args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("classhub %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// addUsers runs `classhub users add` with args and returns what each new
// user got to log in with the first time, which the command prints on the
// line after the sentence naming them: a student's setup code, an
// instructor's password.
func (c *classroom) addUsers(args ...string) map[string]string {
	c.t.Helper()
	lines := strings.Split(strings.TrimSpace(c.classhub(append([]string{"users", "add"}, args...)...)), "\n")
	got := map[string]string{}
	for i, line := range lines {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "added" && i+1 < len(lines) {
			got[strings.TrimSuffix(f[1], ".")] = strings.TrimSpace(lines[i+1])
		}
	}
	return got
}

// token makes an API token for name with `classhub token`.
func (c *classroom) token(name string) string {
	out := strings.TrimSpace(c.classhub("token", name))
	return out[strings.LastIndex(out, "\n")+1:]
}

// useHTTPS makes the hub serve tls = "auto" on the classroom's address.
// Call it before serve; serve then trusts the authority the hub makes.
func (c *classroom) useHTTPS() {
	c.t.Helper()
	appendConfig(c.t, c, "tls = \"auto\"\n")
	c.https = true
	c.base = "https://" + c.listen
}

// trustAuthority reads the authority the hub keeps in the data dir and
// makes the classroom's clients trust it, and nothing else; false while
// the hub has not made it yet.
func (c *classroom) trustAuthority() bool {
	if c.ca != nil {
		return true
	}
	data, err := os.ReadFile(filepath.Join(c.dataDir, hub.TLSDir, tlscert.CAFile))
	if err != nil {
		return false
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return false
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		c.t.Fatalf("the hub's certificate authority: %v", err)
	}
	c.ca = ca
	c.http.Transport = c.transport()
	return true
}

// transport is what the classroom's HTTP clients use: one that trusts only
// the hub's authority on HTTPS.
func (c *classroom) transport() http.RoundTripper {
	if c.ca == nil {
		return http.DefaultTransport
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.ca)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
}

// serve starts `classhub serve` and waits for GET /hub/api.
func (c *classroom) serve() {
	c.t.Helper()
	cmd := exec.Command(binary(c.t), "serve", "--data-dir", c.dataDir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.proc = cmd
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// On HTTPS the hub makes its authority before it listens.
		if !c.https || c.trustAuthority() {
			if resp, err := c.http.Get(c.base + "/hub/api"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("classhub serve did not answer; its output:\n%s", logs.String())
}

func (c *classroom) stop(sig syscall.Signal) {
	if c.proc == nil || c.proc.Process == nil {
		return
	}
	c.proc.Process.Signal(sig)
	c.proc.Wait()
	c.proc = nil
}

// origin returns name's server's origin, where the hub's origin redirects
// /user/NAME/; "" while name has no running server.
func (c *classroom) origin(name string) string {
	c.t.Helper()
	resp, _ := c.do("GET", "/user/"+name+"/", "", nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host == "" || loc.Host == c.listen {
		return ""
	}
	return loc.Scheme + "://" + loc.Host
}

// do sends a request to the hub's origin, or to the URL path is when it
// has a scheme.
func (c *classroom) do(method, path, token string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	if !strings.Contains(path, "://") {
		path = c.base + path
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// startAndWait starts name's server through the REST API and waits until
// the user model says it is ready, as a script knowing only the
// JupyterHub API would.
func (c *classroom) startAndWait(admin, name string) {
	c.t.Helper()
	resp, body := c.do("POST", "/hub/api/users/"+name+"/server", admin, nil)
	if resp.StatusCode != 201 && resp.StatusCode != 202 {
		c.t.Fatalf("start %s: %s %s", name, resp.Status, body)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		_, body := c.do("GET", "/hub/api/users/"+name, admin, nil)
		var u struct {
			Servers map[string]struct {
				Ready bool `json:"ready"`
			} `json:"servers"`
		}
		json.Unmarshal(body, &u)
		if u.Servers[""].Ready {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.t.Fatalf("%s's server never became ready", name)
}

func TestHubServesNotebooksThroughTheProxy(t *testing.T) {
	c := newClassroom(t)
	alice, bob, teacher := c.user("alice"), c.user("bob"), c.user("teacher")
	codes := c.addUsers(alice, bob)
	c.classhub("users", "add", teacher, "--admin")
	adminTok, aliceTok, bobTok := c.token(teacher), c.token(alice), c.token(bob)
	c.serve()

	c.startAndWait(adminTok, alice)
	c.startAndWait(adminTok, bob)
	aliceOrigin, bobOrigin := c.origin(alice), c.origin(bob)
	if aliceOrigin == "" || bobOrigin == "" || aliceOrigin == bobOrigin {
		t.Fatalf("the hub sends alice to %q and bob to %q: want an origin each, not the hub's", aliceOrigin, bobOrigin)
	}

	resp, body := c.do("GET", aliceOrigin+"/user/"+alice+"/api/status", aliceTok, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"kernels"`) {
		t.Fatalf("alice's api/status with her token: %s %s", resp.Status, body)
	}
	if resp, _ := c.do("GET", aliceOrigin+"/user/"+alice+"/api/status", bobTok, nil); resp.StatusCode != 403 {
		t.Errorf("alice's api/status with bob's token: %s, want 403", resp.Status)
	}
	// Neither the hub's origin nor bob's forwards anything to a server
	// but bob's own; path tricks included.
	for _, base := range []string{c.base, bobOrigin} {
		for _, p := range []string{
			"/user/" + alice + "/api/status",
			"/user/" + bob + "/../" + alice + "/api/status",
			"/user/" + bob + "/%2e%2e/" + alice + "/api/status",
			"/user/" + bob + "/%2E%2E%2F" + alice + "/api/status",
		} {
			resp, body := c.do("GET", base+p, aliceTok, nil)
			if resp.StatusCode == 200 || strings.Contains(string(body), `"kernels"`) {
				t.Errorf("GET %s%s reached a server: %s", base, p, resp.Status)
			}
		}
	}
	if resp, _ := c.do("GET", c.base+"/user/"+bob+"/api/status", bobTok, nil); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), bobOrigin+"/") {
		t.Errorf("bob's path on the hub's origin: %s to %q, want a redirect to %s", resp.Status, resp.Header.Get("Location"), bobOrigin)
	}

	t.Run("alice's origin refuses pages of other origins", func(t *testing.T) {
		for _, from := range []string{bobOrigin, c.base} {
			req, _ := http.NewRequest("POST", aliceOrigin+"/user/"+alice+"/api/kernels", strings.NewReader(`{"name":"python3"}`))
			req.Header.Set("Authorization", "token "+aliceTok)
			req.Header.Set("Origin", from)
			req.Header.Set("Sec-Fetch-Site", "same-site")
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// The proxy's own sentence: the server never saw the request.
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "was refused") {
				t.Errorf("POST to alice's server from a page of %s: %s %q, want the proxy's 403", from, resp.Status, body)
			}
			ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(aliceOrigin, "http")+"/user/"+alice+"/api/kernels",
				http.Header{"Authorization": {"token " + aliceTok}, "Origin": {from}})
			if err == nil {
				ws.Close()
			}
			body = nil
			if resp != nil {
				body, _ = io.ReadAll(resp.Body)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "was refused") {
				t.Errorf("websocket to alice's server from a page of %s: %v %q, want the proxy's 403", from, err, body)
			}
		}
	})

	t.Run("kernel over websocket", func(t *testing.T) {
		out := runCode(t, c, alice, aliceTok, "print(6*7)")
		if strings.TrimSpace(out) != "42" {
			t.Fatalf("kernel printed %q, want 42", out)
		}
	})

	t.Run("oauth login from the browser", func(t *testing.T) {
		browserLogin(t, c, alice, codes[alice])
	})

	t.Run("the owner's account cannot be claimed from the login form", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := browser.Get(c.base + "/hub/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := url.Values{"username": {hub.DefaultOwner()}, "password": {"let me in please"}, "confirm": {"let me in please"},
			"_xsrf": {hiddenValue(t, string(page), "_xsrf")}}
		resp, err = browser.PostForm(c.base+"/hub/login", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `name="confirm"`) || resp.Request.URL.Path != "/hub/login" {
			t.Fatalf("typing the owner's name got %s at %s:\n%.300s", resp.Status, resp.Request.URL, body)
		}
		if resp, _ := browser.Get(c.base + "/hub/admin"); resp.Request.URL.Path == "/hub/admin" {
			t.Fatal("the admin page opened for someone who typed the owner's name")
		}
	})

	t.Run("kill -9 and restart", func(t *testing.T) {
		c.stop(syscall.SIGKILL)
		c.serve()
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, body := c.do("GET", aliceOrigin+"/user/"+alice+"/api/status", aliceTok, nil)
			if resp.StatusCode == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a restart alice's server answers %s %s", resp.Status, body)
			}
			time.Sleep(250 * time.Millisecond)
		}
		_, body := c.do("GET", "/hub/api/users/"+alice, adminTok, nil)
		if !strings.Contains(string(body), `"ready":true`) {
			t.Errorf("after a restart the user model says %s, want ready", body)
		}
	})

	t.Run("stop, delete keeps the volume", func(t *testing.T) {
		if resp, body := c.do("DELETE", "/hub/api/users/"+alice+"/server", adminTok, map[string]bool{"remove": true}); resp.StatusCode != 204 {
			t.Fatalf("delete server: %s %s", resp.Status, body)
		}
		resp, _ := c.do("GET", aliceOrigin+"/user/"+alice+"/api/status", aliceTok, nil)
		if resp.StatusCode == 200 {
			t.Errorf("a deleted server still answers")
		}
		cli := testenv.Docker(t)
		f := filters.NewArgs(filters.Arg("label", engine.LabelUser+"="+alice))
		if cs, _ := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f}); len(cs) != 0 {
			t.Errorf("alice's container survived delete: %v", cs[0].Names)
		}
		if vs, _ := cli.VolumeList(context.Background(), volume.ListOptions{Filters: f}); len(vs.Volumes) != 1 {
			t.Errorf("alice has %d work volumes after delete, want 1 kept", len(vs.Volumes))
		}
	})
}

// runCode runs code in a new kernel on name's server over the websocket
// channels API through the proxy and returns what it printed.
func runCode(t *testing.T, c *classroom, name, token, code string) string {
	t.Helper()
	origin := c.origin(name)
	resp, body := c.do("POST", origin+"/user/"+name+"/api/kernels", token, map[string]string{"name": "python3"})
	if resp.StatusCode != 201 {
		t.Fatalf("create kernel: %s %s", resp.Status, body)
	}
	var k struct{ ID string }
	json.Unmarshal(body, &k)
	hdr := http.Header{"Authorization": {"token " + token}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(origin, "http")+"/user/"+name+"/api/kernels/"+k.ID+"/channels?session_id=e2e", hdr)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	defer ws.Close()
	msgID := fmt.Sprintf("e2e-%d", rand.Int())
	req := map[string]any{
		"header":        map[string]any{"msg_id": msgID, "username": name, "session": "e2e", "msg_type": "execute_request", "version": "5.3"},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": false, "user_expressions": map[string]any{}, "allow_stdin": false},
	}
	if err := ws.WriteJSON(req); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	var out strings.Builder
	for {
		var msg struct {
			Channel      string         `json:"channel"`
			Header       map[string]any `json:"header"`
			ParentHeader map[string]any `json:"parent_header"`
			Content      map[string]any `json:"content"`
		}
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("read from kernel: %v (so far %q)", err, out.String())
		}
		if msg.ParentHeader["msg_id"] != msgID {
			continue
		}
		switch msg.Header["msg_type"] {
		case "stream":
			out.WriteString(fmt.Sprint(msg.Content["text"]))
		case "error":
			t.Fatalf("kernel error: %v", msg.Content)
		case "status":
			if msg.Content["execution_state"] == "idle" {
				return out.String()
			}
		}
	}
}

// browserLogin walks the OAuth flow as a browser with a cookie jar:
// /user/NAME/tree sends it to the login form, whose setup page takes the
// setup code and sets the password, then authorize, the server's
// callback, and the tree page.
func browserLogin(t *testing.T, c *classroom, name, code string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get(c.base + "/user/" + name + "/tree")
	if resp.Request.URL.Path != "/hub/login" {
		t.Fatalf("an anonymous browser ended at %s, want the login page", resp.Request.URL)
	}
	post := func(target, page string, fields url.Values) (*http.Response, string) {
		t.Helper()
		fields.Set("_xsrf", hiddenValue(t, page, "_xsrf"))
		resp, err := browser.PostForm(target, fields)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Typing the name with a password of one's own gets nobody in.
	const password = "correct horse battery"
	login := resp.Request.URL
	resp, page = post(login.String(), page, url.Values{"username": {name}, "password": {password}})
	if resp.Request.URL.Path != "/hub/login" || !strings.Contains(page, "Invalid username or password") {
		t.Fatalf("typing %s's name without the setup code ended at %s:\n%.400s", name, resp.Request.URL, page)
	}
	// The login page's setup link, carrying where to go next.
	setup := c.base + "/hub/setup?" + login.RawQuery
	if !strings.Contains(page, `href="/hub/setup?`) {
		t.Fatalf("the login page has no link to the setup page:\n%.400s", page)
	}
	_, page = get(setup)
	resp, page = post(setup, page, url.Values{"username": {name}, "code": {code}, "password": {password}, "confirm": {password}})
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/user/"+name+"/tree" {
		t.Fatalf("after logging in the browser is at %s with %s:\n%.400s", resp.Request.URL, resp.Status, page)
	}
	// The login went to the hub's origin and back: the notebook is on its
	// own origin, which the hub's login cookie never reaches.
	if origin := c.origin(name); resp.Request.URL.Scheme+"://"+resp.Request.URL.Host != origin {
		t.Errorf("the notebook opened at %s, want its own origin %s", resp.Request.URL, origin)
	}
	if !strings.Contains(page, "notebook") {
		t.Errorf("the tree page does not look like the notebook UI:\n%.300s", page)
	}
}

// hiddenValue finds <input type="hidden" name="NAME" value="…"> in page.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no hidden %s field in:\n%.400s", name, page)
	}
	rest := page[i+len(`name="`+name+`" value="`):]
	return html.UnescapeString(rest[:strings.IndexByte(rest, '"')])
}
