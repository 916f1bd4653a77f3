package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/internal/freeport"
)

// Classhub drives the real classhub binary: its CLI for users and tokens,
// `classhub serve` as a process, and the JupyterHub REST API over
// loopback, as a script that knows only the API would.
type Classhub struct {
	Bin     string
	DataDir string
	LogDir  string
	Base    string // http://127.0.0.1:PORT
	Network string
	// JoinCode is the class code students sign up with.
	JoinCode string
	Proc     *Proc
	Memory   int64
	CPUs     float64
	http     *http.Client
	starts   int
}

// NewClasshub writes a config for a hub on a free loopback port, on the
// bench's own network, with classhub's default limits.
func NewClasshub(bin, dataDir, logDir, network string) (*Classhub, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("classhub data dir: %w", err)
	}
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	// The hub port binds the bridge gateway, which does not exist yet; a
	// port free on every address is free there too.
	hubPort, err := freePort("")
	if err != nil {
		return nil, err
	}
	// Each user's server has a port of its own, kept for the run; the
	// block is this run's, with room for every student a burst starts.
	userPorts, err := freeport.Block("127.0.0.1", userPortBlock)
	if err != nil {
		return nil, err
	}
	def := config.Default()
	mem, err := def.MemoryBytes()
	if err != nil {
		return nil, err
	}
	code := make([]byte, 6)
	rand.Read(code)
	c := &Classhub{Bin: bin, DataDir: dataDir, LogDir: logDir, Network: network, JoinCode: hex.EncodeToString(code),
		Base: "http://127.0.0.1:" + strconv.Itoa(port), Memory: mem, CPUs: def.CPULimit,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	// Limits stay classhub's defaults; the floor copies them.
	cfg := fmt.Sprintf("# Written by classhub-bench; used once.\nlisten = %q\nnetwork = %q\nhub_port = %d\nuser_ports = \"%d-%d\"\njoin_code = %q\n",
		"127.0.0.1:"+strconv.Itoa(port), network, hubPort, userPorts, userPorts+userPortBlock-1, c.JoinCode)
	if err := os.WriteFile(filepath.Join(dataDir, "classhub.toml"), []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("classhub config: %w", err)
	}
	return c, nil
}

// userPortBlock is how many ports a run's hub gives its users' servers:
// more than the largest burst and the other scenarios' users together.
const userPortBlock = 128

// UserOrigin returns the origin (scheme://host:port) of name's running
// server: the hub's origin redirects /user/NAME/ there, and only there is
// the server reached without a redirect.
func (c *Classhub) UserOrigin(ctx context.Context, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/user/"+name+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("find %s's origin: %w", name, err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host == "" {
		return "", fmt.Errorf("find %s's origin: the hub answered %s with Location %q, not a redirect to the server's own origin", name, resp.Status, resp.Header.Get("Location"))
	}
	return loc.Scheme + "://" + loc.Host, nil
}

// CLI runs a classhub command against the data dir.
func (c *Classhub) CLI(ctx context.Context, args ...string) (string, error) {
	args = append(args, "--data-dir", c.DataDir)
	out, err := exec.CommandContext(ctx, c.Bin, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("classhub %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Token returns a new API token for name (`classhub token`, last line).
func (c *Classhub) Token(ctx context.Context, name string) (string, error) {
	out, err := c.CLI(ctx, "token", name)
	if err != nil {
		return "", err
	}
	out = strings.TrimSpace(out)
	return out[strings.LastIndex(out, "\n")+1:], nil
}

// Start runs `classhub serve` and returns the time from starting the
// process to GET /hub/api answering 200.
func (c *Classhub) Start(ctx context.Context) (time.Duration, error) {
	c.starts++
	start := time.Now()
	p, err := StartProc("classhub serve", filepath.Join(c.LogDir, fmt.Sprintf("classhub-serve-%d.log", c.starts)), nil, c.DataDir,
		c.Bin, "serve", "--data-dir", c.DataDir)
	if err != nil {
		return 0, err
	}
	c.Proc = p
	if err := waitHTTP200(ctx, c.Base+"/hub/api", p, 120*time.Second); err != nil {
		return 0, fmt.Errorf("classhub serve: %w; its output:\n%s", err, p.LogTail(20))
	}
	return time.Since(start), nil
}

// Stop stops `classhub serve`; the servers it started keep running, as
// they do in use.
func (c *Classhub) Stop() {
	if c.Proc != nil {
		c.Proc.Stop(15 * time.Second)
	}
}

// API makes one REST call and returns the status and body.
func (c *Classhub) API(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	return c.APIAt(ctx, method, c.Base, path, token, body)
}

// APIAt is API at another origin of the hub's, such as a user's server's.
func (c *Classhub) APIAt(ctx context.Context, method, base, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// StartServer asks for name's server (POST …/server). The hub answers
// 201 once the server is ready, if that happens within its slow-spawn
// wait, and 202 if it is still pending then; ready says which.
func (c *Classhub) StartServer(ctx context.Context, token, name string) (ready bool, err error) {
	code, body, err := c.API(ctx, http.MethodPost, "/hub/api/users/"+url.PathEscape(name)+"/server", token, nil)
	if err != nil {
		return false, fmt.Errorf("start %s: %w", name, err)
	}
	if code != http.StatusCreated && code != http.StatusAccepted {
		return false, fmt.Errorf("start %s: HTTP %d %s", name, code, body)
	}
	return code == http.StatusCreated, nil
}

// serverState is what the user model says of the default server.
type serverState struct {
	Exists, Ready bool
	Pending       string
}

// Servers returns the default server's state for every user in one call
// (GET /hub/api/users), so polling a class costs one request a round.
func (c *Classhub) Servers(ctx context.Context, token string) (map[string]serverState, error) {
	code, body, err := c.API(ctx, http.MethodGet, "/hub/api/users", token, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("list users: HTTP %d %s", code, body)
	}
	var users []struct {
		Name    string `json:"name"`
		Servers map[string]struct {
			Ready   bool    `json:"ready"`
			Pending *string `json:"pending"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(body, &users); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make(map[string]serverState, len(users))
	for _, u := range users {
		s, ok := u.Servers[""]
		st := serverState{Exists: ok, Ready: s.Ready}
		if s.Pending != nil {
			st.Pending = *s.Pending
		}
		out[u.Name] = st
	}
	return out, nil
}

// WaitReady polls the user list every interval until every name's server
// is ready and returns when each was first seen ready. A server that
// stays absent for three rounds after its start failed.
func (c *Classhub) WaitReady(ctx context.Context, token string, names []string, start time.Time, interval, limit time.Duration) (map[string]time.Duration, error) {
	ready := map[string]time.Duration{}
	absent := map[string]int{}
	var lastErr error
	err := waitFor(ctx, limit, interval, c.Proc, func() bool {
		servers, err := c.Servers(ctx, token)
		if err != nil {
			lastErr = err
			return false
		}
		now := time.Since(start)
		for _, n := range names {
			if _, done := ready[n]; done {
				continue
			}
			s := servers[n]
			switch {
			case s.Ready:
				ready[n] = now
			case !s.Exists:
				absent[n]++
				if absent[n] >= 3 {
					lastErr = fmt.Errorf("%s's server stopped while starting (the hub's log says why)", n)
					return true
				}
			default:
				absent[n] = 0
			}
		}
		return len(ready) == len(names)
	})
	if err == nil && len(ready) < len(names) {
		err = lastErr
	}
	if err != nil {
		return ready, fmt.Errorf("%d of %d servers ready: %w (last: %v)", len(ready), len(names), err, lastErr)
	}
	return ready, nil
}

// StopServer stops and removes name's server (DELETE …/server with
// remove), waiting until the hub reports it gone.
func (c *Classhub) StopServer(ctx context.Context, token, name string) error {
	code, body, err := c.API(ctx, http.MethodDelete, "/hub/api/users/"+url.PathEscape(name)+"/server", token, map[string]bool{"remove": true})
	if err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	switch code {
	case http.StatusNoContent:
		return nil
	case http.StatusAccepted:
		return waitFor(ctx, 2*time.Minute, 100*time.Millisecond, c.Proc, func() bool {
			servers, err := c.Servers(ctx, token)
			return err == nil && !servers[name].Exists
		})
	}
	return fmt.Errorf("stop %s: HTTP %d %s", name, code, body)
}
