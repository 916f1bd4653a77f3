package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// debianNodeModules is where Debian installs the modules the
// node-configurable-http-proxy package needs. Debian's node searches it by
// itself; other builds of node on a Debian system (NodeSource's, which
// this machine has) do not, and CHP dies with "Cannot find module
// 'commander'". Adding it to NODE_PATH works with both.
const debianNodeModules = "/usr/share/nodejs"

// nodeEnv returns the environment CHP, or JupyterHub starting CHP, needs.
func nodeEnv() []string {
	p := debianNodeModules
	if old := os.Getenv("NODE_PATH"); old != "" {
		p += string(os.PathListSeparator) + old
	}
	return []string{"NODE_PATH=" + p}
}

// CHP is a configurable-http-proxy, JupyterHub's own proxy, run alone on
// loopback at the log level JupyterHub runs it.
type CHP struct {
	Proc   *Proc
	Public string // http://127.0.0.1:PORT
	API    string // http://127.0.0.1:PORT/api
	token  string
	http   *http.Client
}

// StartCHP starts configurable-http-proxy (the binary at path) with its
// log in dir and waits for its REST API.
func StartCHP(ctx context.Context, path, dir string) (*CHP, error) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	c := &CHP{
		Public: "http://127.0.0.1:" + strconv.Itoa(port),
		API:    "http://127.0.0.1:" + strconv.Itoa(apiPort) + "/api",
		token:  hex.EncodeToString(tok),
		http:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}},
	}
	env := append(nodeEnv(), "CONFIGPROXY_AUTH_TOKEN="+c.token)
	c.Proc, err = StartProc("configurable-http-proxy", filepath.Join(dir, "chp.log"), env, dir, path,
		"--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--api-ip", "127.0.0.1", "--api-port", strconv.Itoa(apiPort), "--log-level", "info")
	if err != nil {
		return nil, err
	}
	err = waitFor(ctx, 30*time.Second, 50*time.Millisecond, c.Proc, func() bool {
		resp, err := c.do(ctx, http.MethodGet, "/routes", nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err != nil {
		c.Proc.Stop(5 * time.Second)
		return nil, fmt.Errorf("configurable-http-proxy: %w; its output:\n%s", err, c.Proc.LogTail(20))
	}
	return c, nil
}

func (c *CHP) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "token "+c.token)
	req.Header.Set("Content-Type", "application/json")
	return c.http.Do(req)
}

// AddRoute routes prefix (e.g. /user/alice) to target (http://IP:PORT), as
// JupyterHub's ConfigurableHTTPProxy.add_route does.
func (c *CHP) AddRoute(ctx context.Context, prefix, target string) error {
	resp, err := c.do(ctx, http.MethodPost, "/routes"+prefix, map[string]any{"target": target})
	if err != nil {
		return fmt.Errorf("add CHP route %s: %w", prefix, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("add CHP route %s: %s", prefix, resp.Status)
	}
	return nil
}

// Stop stops the proxy.
func (c *CHP) Stop() { c.Proc.Stop(5 * time.Second) }
