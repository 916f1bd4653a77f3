package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestAttacks is the classroom's threat model, attacked for real: alice
// controls her notebook server completely (its code, every byte it
// serves), bob is a classmate, and the instructor opens student servers.
// Each subtest says which attack must fail; a failure names the attack
// that succeeded.
//
//   - alice's server takes what the instructor's visit gave it and tries
//     it on the hub's public and internal listeners;
//   - alice's page, opened by bob and then by the instructor, tries to
//     read who they are, their tokens and anti-forgery token, to act as
//     them, to plant cookies for the hub, and to reach bob's kernel;
//   - bad OAuth and cross-origin requests get a 4xx and change nothing;
//   - no secret appears in any API answer, the hub's log or a container's.
func TestAttacks(t *testing.T) {
	c := newClassroom(t)
	b := newBrowser(t)
	cli := testenv.Docker(t)
	alice, bob, teacher := c.user("alice"), c.user("bob"), c.user("teacher")
	codes := c.addUsers(alice, bob)
	c.classhub("users", "add", teacher, "--admin")
	adminTok, aliceTok, bobTok := c.token(teacher), c.token(alice), c.token(bob)
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLog, _ := c.proc.Stdout.(*bytes.Buffer)
	hubLogOnFailure(t, c)
	rc := newRecorder(t)
	const password = "correct horse battery"
	// bob sets his password with his setup code in the browser; alice and
	// the instructor have theirs set at the laptop.
	for _, name := range []string{alice, teacher} {
		c.classhubInput(password+"\n", "users", "passwd", name)
	}
	everyone := []string{alice, bob, teacher}

	// Secrets the hub must never show again, by what they are.
	secrets := map[string]string{"the instructor's API token": adminTok, "alice's API token": aliceTok, "bob's API token": bobTok}
	addCookies := func(who string, tb *tab) {
		for _, ck := range browserCookies(tb, c.base+"/hub/", c.base+"/hub/api/", c.base+"/") {
			if ck.HTTPOnly && strings.HasPrefix(ck.Path, "/hub") {
				secrets[fmt.Sprintf("%s's %s cookie", who, ck.Name)] = ck.Value
			}
		}
	}

	c.startAndWait(adminTok, alice)
	c.startAndWait(adminTok, bob)
	aliceBox, bobBox := containerOf(alice), containerOf(bob)
	aliceBase := serverBase(t, rc, c.base, adminTok, alice)
	bobBase := serverBase(t, rc, c.base, adminTok, bob)

	// alice restarts her own server with her own token, as from her home
	// page; the stopped container is kept, and with it her ~/.local.
	restartAlice := func(t *testing.T) {
		t.Helper()
		before := containerID(t, cli, aliceBox)
		if code, body, _ := rc.do("DELETE", c.base+"/hub/api/users/"+alice+"/server", tokenHeader(aliceTok), nil, true); code/100 != 2 {
			t.Fatalf("alice stops her server: %d %s", code, body)
		}
		waitUntil(t, "alice's server stops", 2*time.Minute, func() bool {
			_, body, _ := rc.do("GET", c.base+"/hub/api/users/"+alice, tokenHeader(adminTok), nil, false)
			var u struct {
				Servers map[string]json.RawMessage `json:"servers"`
			}
			json.Unmarshal([]byte(body), &u)
			return len(u.Servers) == 0
		})
		c.startAndWait(aliceTok, alice)
		if after := containerID(t, cli, aliceBox); after != before {
			t.Fatalf("the hub recreated alice's container at her restart (%s → %s), so the code she put in ~/.local is gone: "+
				"this test needs another way to run alice's code in her server", before, after)
		}
	}

	if !t.Run("alice puts her own code in her server", func(t *testing.T) {
		out, code := dockerExec(t, cli, aliceBox, "python3", "-m", "site", "--user-site")
		if code != 0 {
			t.Fatalf("alice's python: %s", out)
		}
		writeIn(t, cli, aliceBox, strings.TrimSpace(out)+"/usercustomize.py", aliceCode)
		writeIn(t, cli, aliceBox, "/home/jovyan/.evil/server.py", aliceServer)
		restartAlice(t)
		if out, _ := dockerExec(t, cli, aliceBox, "cat", "/home/jovyan/.evil/seen.log"); !strings.Contains(out, "/user/"+alice+"/api") {
			t.Fatalf("alice's spy saw nothing of the hub's readiness probe, so her code does not run in her server: %q", out)
		}
	}) {
		return
	}

	tt := b.tab(t, teacher)
	teacherCodes := watchCodes(tt)
	tt.run("open the admin page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin"))
	tt.waitPath("the browser is sent to the login page", time.Minute, "/hub/login")
	formLogin(tt, teacher, password, "attack-01-teacher-login")
	tt.waitPath("the login leads to the admin page", time.Minute, "/hub/admin")
	addCookies("the instructor", tt)

	t.Run("the instructor opens alice's server; nothing it gets works as the instructor anywhere else", func(t *testing.T) {
		tt.t = t
		tt.waitJS("the admin page lists alice", time.Minute, fmt.Sprintf(`document.querySelector('a[data-key="open:%s"]')`, alice))
		tt.click("Open next to alice", fmt.Sprintf(`a[data-key="open:%s"]`, alice))
		openThroughConsent(tt, alice, "attack-02-teacher-consent")
		tt.shot("attack-03-teacher-in-alices-server")
		// The instructor's grading script reads alice's notebooks with
		// the instructor's own API token, in the header and in the query:
		// it works, as a visit, and alice's server gets only a token for
		// that visit (the last subtest looks for the API token in all it
		// received; the harvest below tries the visit token).
		for _, visit := range []struct {
			how    string
			u      string
			header http.Header
		}{
			{"in the header", aliceBase + "api/contents", tokenHeader(adminTok)},
			{"in the query", aliceBase + "api/contents?token=" + adminTok, nil},
		} {
			if code, body, _ := rc.do("GET", visit.u, visit.header, nil, false); code != http.StatusOK || !strings.Contains(body, `"content"`) {
				t.Errorf("the instructor's API token %s does not read alice's notebooks: %d %.200s", visit.how, code, body)
			}
		}
		// The visit itself gives alice's server an OAuth token for the
		// instructor; from here on nothing may change.
		before := readState(t, rc, c.base, adminTok, everyone...)

		// Everything alice's server received or holds.
		seen, _ := dockerExec(t, cli, aliceBox, "cat", "/home/jovyan/.evil/seen.log")
		env, _ := dockerExec(t, cli, aliceBox, "python3", "-c", singleuserEnv)
		logs := containerLog(t, cli, aliceBox)
		found := harvest(seen + "\n" + env + "\n" + logs)
		values := envMap(env)
		internal := strings.TrimSuffix(values["JUPYTERHUB_API_URL"], "/")
		if internal == "" {
			t.Fatalf("alice cannot find her server's hub address in its environment:\n%s", env)
		}
		// She trades every OAuth code her server saw, as its client.
		for _, line := range strings.Split(seen, "\n") {
			var req struct{ URI string }
			if json.Unmarshal([]byte(line), &req) != nil {
				continue
			}
			u, err := url.Parse(req.URI)
			if err != nil || u.Query().Get("code") == "" {
				continue
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "client_id": {values["JUPYTERHUB_CLIENT_ID"]},
				"client_secret": {values["JUPYTERHUB_API_TOKEN"]}, "redirect_uri": {values["JUPYTERHUB_OAUTH_CALLBACK_URL"]}}
			_, body, _ := rc.do("POST", internal+"/oauth2/token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, form.Encode(), true)
			found = append(found, harvest(body)...)
		}
		// What the hub says about each value may hold more values.
		for _, v := range append([]string(nil), found...) {
			if len(found) > 300 {
				break
			}
			_, body, _ := rc.do("GET", internal+"/user", tokenHeader(v), nil, true)
			found = append(found, harvest(body)...)
		}
		t.Logf("alice tries %d values her server received or could learn", len(found))
		var worked []string
		for _, v := range dedupe(found) {
			worked = append(worked, tryAsInstructor(t, rc, c, internal, v, alice, teacher, bobBase)...)
		}
		for _, w := range worked {
			t.Errorf("alice's server turned what it received into the instructor's power: %s", w)
		}
		after := readState(t, rc, c.base, adminTok, everyone...)
		for _, ch := range before.changes(after) {
			t.Errorf("after alice used what her server received, %s", ch)
		}
	})

	// alice now serves her own page in place of the notebook server.
	bt := b.tab(t, bob)
	bobCodes := watchCodes(bt)
	var bobKernel string
	if !t.Run("alice serves her own page from her server", func(t *testing.T) {
		bt.t = t
		// Logging in to his home page first, then opening his notebook:
		// the OAuth login into his own server is then GET redirects only.
		bt.run("open the login page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/login?next=%2Fhub%2Fhome"))
		setupLogin(bt, bob, codes[bob], password, "attack-04-bob-login")
		bt.run("open his notebook", 2*time.Minute, chromedp.Navigate(c.base+"/user/"+bob+"/tree"))
		bt.waitJS("bob is in his notebook", 2*time.Minute, fmt.Sprintf(`document.readyState === "complete" && location.pathname.startsWith(%q)`, "/user/"+bob+"/"))
		addCookies("bob", bt)

		code, body, _ := rc.do("POST", bobBase+"api/kernels", tokenHeader(bobTok), map[string]string{"name": "python3"}, true)
		var k struct{ ID string }
		if json.Unmarshal([]byte(body), &k); code != 201 || k.ID == "" {
			t.Fatalf("start a kernel on bob's server: %d %s", code, body)
		}
		bobKernel = k.ID

		var aliceLogin string
		for _, ck := range loginCookies(t, c.base, alice, password) {
			if ck.Name == auth.SessionCookie {
				aliceLogin = ck.Value
			}
		}
		cfg, _ := json.Marshal(map[string]string{"hub": c.base, "alice": alice, "bob": bob,
			"bobWS": "ws" + strings.TrimPrefix(bobBase, "http"), "bobKernel": bobKernel,
			"loginCookie": auth.SessionCookie, "aliceLogin": aliceLogin})
		writeIn(t, cli, aliceBox, "/home/jovyan/.evil/page.html", strings.Replace(attackPage, "CONFIG", string(cfg), 1))
		serverCfg, _ := json.Marshal(map[string]any{"prefix": spawner.ServerPrefix(alice),
			"setCookies": []string{"_xsrf=header-tossed; Path=/hub/", "classhub-tossed=header-tossed; Path=/"}})
		writeIn(t, cli, aliceBox, "/home/jovyan/.evil/config.json", string(serverCfg))
		writeIn(t, cli, aliceBox, "/home/jovyan/.evil/mode", "serve")
		restartAlice(t)
		if code, body, _ := rc.do("GET", aliceBase+"evil.html", nil, nil, false); code != 200 || !strings.Contains(body, "Homework answers") {
			t.Fatalf("alice's page is not served at %sevil.html: %d %.300s", aliceBase, code, body)
		}
	}) {
		return
	}

	visit := func(t *testing.T, tb *tab, who, label string) {
		tb.t = t
		tb.run("open the hub's token page", time.Minute, chromedp.Navigate(c.base+"/hub/token"))
		xsrf := eval[string](tb, `(document.querySelector('input[name="_xsrf"]') || {value: ""}).value`)
		mine := map[string]string{}
		for k, v := range secrets {
			if strings.HasPrefix(k, label+"'s") {
				mine[k] = v
			}
		}
		if xsrf != "" {
			mine[label+"'s anti-forgery token"] = xsrf
		}
		before := readState(t, rc, c.base, adminTok, everyone...)

		tb.run("open alice's link", time.Minute, chromedp.Navigate(aliceBase+"evil.html?who="+url.QueryEscape(who)))
		tb.waitJS("alice's page has tried everything", 3*time.Minute, `window.attackDone === true`)
		raw := eval[string](tb, `document.getElementById("result").textContent`)
		rc.record("alice's page as " + who + ": " + raw)
		var res map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &res); err != nil {
			tb.fatalf("alice's page wrote %q: %v", raw, err)
		}
		for _, msg := range judgePage(who, res, mine) {
			t.Errorf("alice's page, opened by %s: %s", who, msg)
		}
		// Copying works on a stopped container too.
		if rd, _, err := cli.CopyFromContainer(t.Context(), bobBox, "/tmp/pwned-by-alice-"+who); err == nil {
			rd.Close()
			t.Errorf("alice's page, opened by %s, ran code in bob's kernel: it wrote /tmp/pwned-by-alice-%s in bob's container", who, who)
		}
		after := readState(t, rc, c.base, adminTok, everyone...)
		for _, ch := range before.changes(after) {
			t.Errorf("alice's page, opened by %s, changed the hub: %s", who, ch)
		}
		if cfg, _ := os.ReadFile(filepath.Join(c.dataDir, "classhub.toml")); strings.Contains(string(cfg), "alice/evil") {
			t.Errorf("alice's page, opened by %s, chose the notebook image every server starts from:\n%s", who, cfg)
		}

	}
	// Cookies alice's page planted (her own login cookie for paths under
	// /hub/, an anti-forgery cookie of her choosing) or her server tried
	// to set must not change who the hub thinks the visitor is.
	tossed := func(t *testing.T, tb *tab, who string) {
		tb.t = t
		for _, ck := range browserCookies(tb, c.base+"/hub/", c.base+"/hub/api/", c.base+"/") {
			if ck.Value == "header-tossed" {
				t.Errorf("alice's server set a cookie outside its own path in %s's browser: %s (path %s) came through the proxy", who, ck.Name, ck.Path)
			}
		}
		tb.run("open the hub's home page", time.Minute, chromedp.Navigate(c.base+"/hub/home"))
		tb.waitJS("the home page loads", time.Minute, `document.readyState === "complete"`)
		if h := eval[string](tb, `(document.querySelector("h1") || {textContent: ""}).textContent`); strings.Contains(h, alice) {
			t.Errorf("cookie tossing: after alice's page planted her login cookie, %s's /hub/home greets alice (%q): %s now works in alice's account", who, h, who)
		}
		asked := eval[string](tb, `(async () => {
			const x = (document.querySelector('input[name="_xsrf"]') || {value: ""}).value;
			const r = await fetch("/hub/api/user?_xsrf=" + encodeURIComponent(x), {headers: {"X-XSRFToken": x}});
			return r.status + " " + await r.text();
		})()`, chromedp.EvalAwaitPromise)
		if strings.Contains(asked, `"name":"`+alice+`"`) || strings.Contains(asked, `"name": "`+alice+`"`) {
			t.Errorf("cookie tossing: after alice's page planted cookies, %s's own hub page asks /hub/api/user and the hub answers as alice: %.200s", who, asked)
		}
		t.Logf("after alice's page, %s's hub page asking /hub/api/user gets %.120s", who, asked)
	}
	t.Run("bob opens alice's page", func(t *testing.T) { visit(t, bt, bob, "bob") })
	t.Run("alice's cookies do not make bob alice", func(t *testing.T) { tossed(t, bt, bob) })
	t.Run("the instructor opens alice's page", func(t *testing.T) { visit(t, tt, teacher, "the instructor") })
	t.Run("alice's cookies do not make the instructor alice", func(t *testing.T) { tossed(t, tt, teacher) })

	t.Run("bad input gets a clear 4xx and changes nothing", func(t *testing.T) {
		// Fresh logins from a plain client, with their anti-forgery tokens.
		session := func(name, label string) (http.Header, string) {
			var cookie []string
			for _, ck := range loginCookies(t, c.base, name, password) {
				cookie = append(cookie, ck.Name+"="+ck.Value)
				if ck.Name == auth.SessionCookie {
					secrets[label+"'s second login cookie"] = ck.Value
				}
			}
			h := http.Header{"Cookie": {strings.Join(cookie, "; ")}}
			_, page, _ := rc.do("GET", c.base+"/hub/token", h, nil, false)
			xsrf := ""
			if i := strings.Index(page, `name="_xsrf" value="`); i >= 0 {
				rest := page[i+len(`name="_xsrf" value="`):]
				xsrf = rest[:strings.IndexByte(rest, '"')]
			}
			return h, xsrf
		}
		bobCookie, xsrf := session(bob, "bob")
		// The instructor may use every server, so only consent and
		// well-formed requests stand between his login and alice's server.
		teacherCookie, teacherXSRF := session(teacher, "the instructor")
		before := readState(t, rc, c.base, adminTok, everyone...)
		with := func(h http.Header, kv ...string) http.Header {
			out := http.Header{}
			for k, v := range h {
				out[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				out.Set(kv[i], kv[i+1])
			}
			return out
		}
		client := spawner.ClientID(alice)
		info, err := cli.ContainerInspect(t.Context(), aliceBox)
		if err != nil {
			t.Fatal(err)
		}
		callback := envMap(strings.Join(info.Config.Env, "\n"))["JUPYTERHUB_OAUTH_CALLBACK_URL"]
		authz := c.base + "/hub/api/oauth2/authorize"
		expectRefused := func(what string, code int, body string, hdr http.Header) {
			t.Helper()
			loc := hdr.Get("Location")
			if strings.Contains(loc, "code=") {
				t.Errorf("%s: the hub issued an OAuth code (%d, Location %s)", what, code, loc)
				return
			}
			if code >= 400 && code < 500 && strings.TrimSpace(body) != "" {
				return
			}
			if (code == 302 || code == 303) && strings.Contains(loc, "error=") {
				return // OAuth's own way to refuse, back to the registered client
			}
			t.Errorf("%s: got %d (Location %q), want a 4xx that says why: %.200s", what, code, loc, body)
		}
		for what, q := range map[string]url.Values{
			"authorize without a client":           {"response_type": {"code"}, "redirect_uri": {callback}},
			"authorize for an unknown client":      {"client_id": {"jupyterhub-user-nobody"}, "response_type": {"code"}, "redirect_uri": {callback}},
			"authorize to another redirect_uri":    {"client_id": {client}, "response_type": {"code"}, "redirect_uri": {"http://evil.example/cb"}},
			"authorize with response_type=token":   {"client_id": {client}, "response_type": {"token"}, "redirect_uri": {callback}},
			"authorize with a redirect_uri prefix": {"client_id": {client}, "response_type": {"code"}, "redirect_uri": {callback + "/../../../hub/admin"}},
		} {
			code, body, hdr := rc.do("GET", authz+"?"+q.Encode(), teacherCookie, nil, true)
			expectRefused(what, code, body, hdr)
		}
		// The instructor following a link (or an <img>) to authorize
		// alice's server must be asked, not handed to it.
		q := url.Values{"client_id": {client}, "response_type": {"code"}, "redirect_uri": {callback}, "state": {"alice-wants-this"}}
		if code, _, hdr := rc.do("GET", authz+"?"+q.Encode(), teacherCookie, nil, true); strings.Contains(hdr.Get("Location"), "code=") {
			t.Errorf("a plain GET of authorize for alice's server gave the instructor's OAuth code to it without asking him (%d → %s)", code, hdr.Get("Location"))
		}
		form := func(extra ...string) string {
			v := url.Values{"client_id": {client}, "response_type": {"code"}, "redirect_uri": {callback}, "state": {"alice-wants-this"}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v.Encode()
		}
		teacherForm := with(teacherCookie, "Content-Type", "application/x-www-form-urlencoded")
		for what, r := range map[string]struct {
			hdr  http.Header
			body string
		}{
			"a consent POST without the anti-forgery token":    {teacherForm, form()},
			"a consent POST with a made-up anti-forgery token": {teacherForm, form("_xsrf", "tossed-by-alice")},
			"a consent POST from another site":                 {with(teacherForm, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"), form("_xsrf", teacherXSRF)},
		} {
			code, body, hdr := rc.do("POST", authz, r.hdr, r.body, true)
			expectRefused(what, code, body, hdr)
		}
		formHdr := with(bobCookie, "Content-Type", "application/x-www-form-urlencoded")
		jsonHdr := with(bobCookie, "Content-Type", "application/json", "X-XSRFToken", xsrf)
		for what, r := range map[string]struct {
			method, path string
			hdr          http.Header
			body         any
		}{
			"a token request from another site":           {"POST", "/hub/api/users/" + bob + "/tokens", with(jsonHdr, "Origin", "http://evil.example"), map[string]any{"note": "cross-site"}},
			"a token request from a site that says so":    {"POST", "/hub/api/users/" + bob + "/tokens", with(jsonHdr, "Sec-Fetch-Site", "cross-site"), map[string]any{"note": "cross-site"}},
			"a token request from an opaque origin":       {"POST", "/hub/api/users/" + bob + "/tokens", with(jsonHdr, "Origin", "null"), map[string]any{"note": "null origin"}},
			"a stop from another site":                    {"DELETE", "/hub/api/users/" + bob + "/server", with(jsonHdr, "Origin", "http://evil.example"), nil},
			"the token form posted from another site":     {"POST", "/hub/token", with(formHdr, "Origin", "http://evil.example"), "action=create&note=cross-site&expires_in=3600&_xsrf=" + url.QueryEscape(xsrf)},
			"the home page's stop posted from elsewhere":  {"POST", "/hub/home", with(formHdr, "Origin", "http://evil.example"), "action=stop&_xsrf=" + url.QueryEscape(xsrf)},
			"a PATCH that is not JSON":                    {"PATCH", "/hub/api/users/" + alice, with(tokenHeader(adminTok), "Content-Type", "application/json"), "{not json"},
			"a token with an expiry that is not a number": {"POST", "/hub/api/users/" + bob + "/tokens", with(tokenHeader(adminTok), "Content-Type", "application/json"), `{"expires_in": "soon"}`},
		} {
			code, body, hdr := rc.do(r.method, c.base+r.path, r.hdr, r.body, true)
			if code < 400 || code >= 500 || strings.TrimSpace(body) == "" {
				t.Errorf("%s: %s %s got %d (Location %q), want a 4xx that says why: %.200s", what, r.method, r.path, code, hdr.Get("Location"), body)
			}
		}
		after := readState(t, rc, c.base, adminTok, everyone...)
		for _, ch := range before.changes(after) {
			t.Errorf("after the bad requests, %s", ch)
		}
	})

	t.Run("no secret appears in an API answer, the hub's log or a container's log", func(t *testing.T) {
		forAlice := map[string]bool{}
		for code, u := range teacherCodes.all() {
			secrets["the instructor's OAuth code for "+u] = code
			forAlice[code] = strings.HasPrefix(u, aliceBase)
		}
		for code, u := range bobCodes.all() {
			secrets["bob's OAuth code for "+u] = code
		}
		// Stop the hub so its log is complete and no longer written to.
		c.stop(syscall.SIGTERM)
		places := map[string]string{"the API answers the test collected": rc.all()}
		if hubLog != nil {
			places["the hub's log"] = hubLog.String()
		}
		for _, box := range []string{aliceBox, bobBox} {
			places["the log of container "+box] = containerLog(t, cli, box)
		}
		seen, _ := dockerExec(t, cli, aliceBox, "cat", "/home/jovyan/.evil/seen.log")
		for what, secret := range secrets {
			if len(secret) < 8 {
				continue
			}
			for where, text := range places {
				if strings.Contains(text, secret) {
					t.Errorf("%s appears in %s", what, where)
				}
			}
			// alice's server may see her own credentials and the codes
			// meant for it, never others'.
			if !strings.HasPrefix(what, "alice") && !forAlice[secret] && strings.Contains(seen, secret) {
				t.Errorf("%s reached alice's server (in a request it received)", what)
			}
		}
		if t.Failed() && hubLog != nil {
			l := hubLog.String()
			t.Logf("the hub's log:\n%s", l[max(0, len(l)-8000):])
		}
		if t.Failed() && os.Getenv("CLASSHUB_ATTACK_DUMP") != "" {
			for where, text := range places {
				t.Logf("%s:\n%s", where, text)
			}
		}
	})
}

// singleuserEnv prints the environment of alice's notebook server process,
// which she can read as the same user.
const singleuserEnv = `
import os
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            cmd = open("/proc/%s/cmdline" % p, "rb").read()
            if b"jupyterhub-singleuser" in cmd and b"python3\0-c" not in cmd:
                print(open("/proc/%s/environ" % p, "rb").read().replace(b"\0", b"\n").decode())
                break
        except OSError:
            pass
`

func envMap(env string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(env, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func dedupe(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// tryAsInstructor uses v every way alice can, as a login cookie and as a
// token, on the public and the internal listener, and returns what worked
// as the instructor (or beyond alice's own server).
func tryAsInstructor(t *testing.T, rc *recorder, c *classroom, internal, v, alice, teacher, bobBase string) []string {
	t.Helper()
	short := v
	if len(short) > 10 {
		short = short[:10] + "…"
	}
	var worked []string
	cookie := http.Header{"Cookie": {auth.SessionCookie + "=" + v}}
	if code, body, _ := rc.do("GET", c.base+"/hub/admin", cookie, nil, false); code == 200 {
		worked = append(worked, fmt.Sprintf("%q as the login cookie opens /hub/admin", short))
		if i := strings.Index(body, `name="_xsrf" value="`); i >= 0 {
			rest := body[i+len(`name="_xsrf" value="`):]
			x := rest[:strings.IndexByte(rest, '"')]
			h := http.Header{"Cookie": cookie["Cookie"], "X-XSRFToken": {x}, "Content-Type": {"application/json"}}
			if code, _, _ := rc.do("PATCH", c.base+"/hub/api/users/"+alice, h, map[string]bool{"admin": true}, true); code/100 == 2 {
				worked = append(worked, fmt.Sprintf("%q as the login cookie made alice an admin (PATCH answered %d)", short, code))
			}
		}
	}
	tok := tokenHeader(v)
	jh := http.Header{"Authorization": tok["Authorization"], "Content-Type": {"application/json"}}
	if code, _, _ := rc.do("GET", c.base+"/hub/api/users", tok, nil, true); code == 200 {
		worked = append(worked, fmt.Sprintf("%q as a token lists every user (GET /hub/api/users answered 200)", short))
	}
	if code, _, _ := rc.do("PATCH", c.base+"/hub/api/users/"+alice, jh, map[string]bool{"admin": true}, true); code/100 == 2 {
		worked = append(worked, fmt.Sprintf("%q as a token made alice an admin (PATCH answered %d)", short, code))
	}
	if code, _, _ := rc.do("POST", c.base+"/hub/api/users/"+teacher+"/tokens", jh, map[string]string{"note": "alice's now"}, false); code/100 == 2 {
		worked = append(worked, fmt.Sprintf("%q as a token created a token for the instructor (answered %d)", short, code))
	}
	if code, _, _ := rc.do("GET", bobBase+"api/status", tok, nil, true); code == 200 {
		worked = append(worked, fmt.Sprintf("%q as a token reached bob's server", short))
	}
	if code, _, _ := rc.do("POST", internal+"/users/"+teacher+"/activity", jh, map[string]any{"last_activity": time.Now().UTC().Format(time.RFC3339)}, true); code/100 == 2 {
		worked = append(worked, fmt.Sprintf("%q as a token reported activity for the instructor on the internal listener (answered %d)", short, code))
	}
	return worked
}

// judgePage says, as sentences, what alice's page got as who. mine are
// who's secrets by what they are ("bob's login cookie").
func judgePage(who string, res map[string]json.RawMessage, mine map[string]string) []string {
	var out []string
	raw, _ := json.Marshal(res)
	for what, secret := range mine {
		if len(secret) >= 8 && strings.Contains(string(raw), secret) {
			out = append(out, fmt.Sprintf("it read %s", what))
		}
	}
	for key, msg := range res {
		var r attackResult
		if json.Unmarshal(msg, &r) != nil {
			continue
		}
		ok := r.Status >= 200 && r.Status < 300
		switch {
		case strings.HasPrefix(key, "user@") && ok && (strings.Contains(r.Body, `"name":"`+who+`"`) || strings.Contains(r.Body, `"name": "`+who+`"`)):
			out = append(out, fmt.Sprintf("it read %s's identity: GET /hub/api/user (%s) answered %d: %.150s", who, key, r.Status, r.Body))
		case r.XSRF != "":
			out = append(out, fmt.Sprintf("it read %s's anti-forgery token from %s", who, key))
		case strings.HasPrefix(key, "frame-") && r.Readable && strings.TrimSpace(r.Text) != "":
			out = append(out, fmt.Sprintf("it read the hub's page in a frame (%s) as %s: %.100s", key, who, r.Text))
		case strings.HasPrefix(key, "mint-") && ok:
			out = append(out, fmt.Sprintf("it created an API token as %s (%s answered %d)", who, key, r.Status))
		case strings.HasPrefix(key, "promote-") && ok:
			out = append(out, fmt.Sprintf("it made alice an admin as %s (%s answered %d)", who, key, r.Status))
		case strings.HasPrefix(key, "start-") && ok:
			out = append(out, fmt.Sprintf("it started %s's server as %s (%s answered %d)", who, who, key, r.Status))
		case strings.HasPrefix(key, "stop-bob-") && ok:
			out = append(out, fmt.Sprintf("it stopped bob's server as %s (%s answered %d)", who, key, r.Status))
		case strings.HasPrefix(key, "form-") && r.Readable && strings.TrimSpace(r.Text) != "":
			out = append(out, fmt.Sprintf("it posted a hub form as %s and read the answer (%s): %.100s", who, key, r.Text))
		case key == "ws-bob" && r.Opened:
			out = append(out, fmt.Sprintf("it opened a websocket to bob's kernel as %s (%d messages came back)", who, r.Messages))
		}
	}
	return out
}

// openThroughConsent follows the instructor from the admin page's Open to
// the student's notebook, approving the hub's consent page on the way.
func openThroughConsent(tb *tab, name, shot string) {
	tb.t.Helper()
	tree := "/user/" + name + "/"
	// The consent page is a form posting to authorize (JupyterHub's is at
	// /hub/api/oauth2/authorize).
	consent := `(location.pathname.includes("oauth2/authorize") ? document : {querySelectorAll: () => []}).querySelectorAll('form [type="submit"]').length > 0 || ` +
		`document.querySelectorAll('form[action*="authorize"] [type="submit"]').length > 0`
	tb.waitJS("Open leads to the consent page or the notebook", 2*time.Minute, fmt.Sprintf(
		`document.readyState === "complete" && (location.pathname.startsWith(%q) || %s)`, tree, consent))
	if !strings.Contains(tb.location(), tree) {
		tb.shot(shot)
		tb.run("approve on the consent page", time.Minute, chromedp.Evaluate[chromedp.Void](`(() => {
			const buttons = [...document.querySelectorAll(location.pathname.includes("oauth2/authorize") ? 'form [type="submit"]' : 'form[action*="authorize"] [type="submit"]')];
			const yes = buttons.find(b => /authori|allow|open|continue|yes/i.test(b.textContent || b.value)) || buttons[0];
			yes.click();
		})()`))
	}
	// The last redirect after the form leaves for the server's origin.
	tb.formLeadsTo("consent's Allow takes the instructor to "+name+"'s notebook", 2*time.Minute, tree)
}

// containerID is the ID of a container, by name.
func containerID(t *testing.T, cli client.APIClient, name string) string {
	t.Helper()
	info, err := cli.ContainerInspect(t.Context(), name)
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return info.ID
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting %v until %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
