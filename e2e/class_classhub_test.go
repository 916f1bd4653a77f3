package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/classclient"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/internal/testenv"
)

// learner runs `classhub class …` with the learner's own data dir, as on
// their laptop: nothing of the hub's.
func learner(t *testing.T, dataDir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runWithInput(t, stdin, append(args, "--data-dir", dataDir)...)
}

// runWithInput is run with stdin.
func runWithInput(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("classhub %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestLearnerJoinsAClasshubHub: a learner joins a classhub hub from the
// command line with the browser login (Chromium, driven here): the hub's
// login page, its consent page for the app, Allow, and the app's loopback
// page; then starts their server with the progress shown, reads its
// status, stops it and forgets the class, which revokes the app's token.
func TestLearnerJoinsAClasshubHub(t *testing.T) {
	c := newClassroomOf(t, testenv.RequireLabImage(t, testenv.Docker(t)))
	ann := c.user("ann")
	setupCode := c.addUsers(ann)[ann]
	c.serve()
	hubLogOnFailure(t, c)
	laptop := t.TempDir()

	join := startJoin(t, c.base, laptop, "--name", "maths")
	b := newBrowser(t)
	st := b.tab(t, ann)
	st.run("open the app's login page", 2*time.Minute, chromedp.Navigate(join.authorize))
	st.waitPath("the hub asks ann to log in", time.Minute, "/hub/login")
	setupLogin(st, ann, setupCode, "correct horse battery", "class-01-setup")
	st.waitJS("the hub asks ann about the app", time.Minute, `document.querySelector("#consent-app")`)
	st.shot("class-02-consent")
	st.click("Allow", `form[action="/hub/api/oauth2/authorize"] button.primary`)
	st.waitJS("the app's page says it is logged in", time.Minute,
		`location.hostname === "127.0.0.1" && location.pathname === "/callback" && document.body.innerText.includes("You can close this tab")`)
	st.shot("class-03-app-logged-in")
	if code, o, e := join.wait(t); code != 0 || !strings.Contains(o, "joined maths ("+c.base+") as "+ann) {
		t.Fatalf("class join: %d %q %q", code, o, e)
	}

	// The app's token is on ann's token page, where she can revoke it.
	st.run("open the token page", time.Minute, chromedp.Navigate(c.base+"/hub/token"))
	st.waitJS("the page lists the app's token", time.Minute, fmt.Sprintf(`document.body.innerText.includes(%q)`, auth.AppTokenNote))
	st.shot("class-04-token-page")

	if o, e, code := learner(t, laptop, "", "class", "status"); code != 0 || !strings.Contains(o, "server: stopped") {
		t.Fatalf("class status: %d %q %q", code, o, e)
	}
	started := time.Now()
	o, e, status := learner(t, laptop, "", "class", "start")
	if status != 0 || !strings.Contains(o, "ready: "+c.base+"/user/"+ann+"/") {
		t.Fatalf("class start: %d %q %q", status, o, e)
	}
	lines := strings.Split(strings.TrimSpace(o), "\n")
	t.Logf("classhub: class start to ready in %v, %d progress lines", time.Since(started).Round(time.Millisecond), len(lines)-1)
	// A start of a few seconds may have only its last step left by the
	// time the stream is read; a slow one prints each (48–70 lines here).
	if len(lines) < 2 || !strings.Contains(o, "100% ") {
		t.Errorf("class start showed no progress: %q", o)
	}
	if o, _, _ := learner(t, laptop, "", "class", "status"); !strings.Contains(o, "server: ready at "+c.base+"/user/"+ann+"/") {
		t.Errorf("class status of the running server: %q", o)
	}

	// The app's token, as kept on the laptop, is ann's and acts on her
	// server only.
	store := classclient.OpenStore(laptop + "/classes")
	_, tok, err := store.Current()
	if err != nil || tok.User != ann || tok.ID == "" {
		t.Fatalf("the kept token: %v %v", tok, err)
	}
	adminTok := ""
	{
		teacher := c.user("teacher")
		c.classhub("users", "add", teacher, "--admin")
		adminTok = c.token(teacher)
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/hub/api/users"}, {"POST", "/hub/api/users/" + ann + "/tokens"}, {"GET", "/hub/api/users/" + c.user("teacher")},
	} {
		var body any
		if p.method == "POST" {
			body = map[string]any{}
		}
		if resp, body := c.do(p.method, p.path, tok.Secret, body); resp.StatusCode < 400 {
			t.Errorf("%s %s with the app's token = %s %s", p.method, p.path, resp.Status, body)
		}
	}
	if resp, body := c.do("GET", "/hub/api/users/"+ann+"/tokens", adminTok, nil); !strings.Contains(string(body), `"`+tok.ID+`"`) {
		t.Errorf("the app's token %s is not in ann's list: %s %s", tok.ID, resp.Status, body)
	}

	if o, e, code := learner(t, laptop, "", "class", "stop"); code != 0 {
		t.Fatalf("class stop: %d %q %q", code, o, e)
	}
	if o, e, code := learner(t, laptop, "", "class", "forget", "maths"); code != 0 || !strings.Contains(o, "revoked on the hub") {
		t.Fatalf("class forget: %d %q %q", code, o, e)
	}
	_, err = classclient.New(c.base, tok).Whoami(context.Background())
	if classclient.KindOf(err) != classclient.Refused {
		t.Errorf("the app's token after forget: %v, want Refused", err)
	}

	// Deny on the hub's page: the app says so, with its own status, and
	// keeps nothing.
	deny := startJoin(t, c.base, laptop)
	st.run("open the app's login page again", 2*time.Minute, chromedp.Navigate(deny.authorize))
	st.waitJS("the hub asks ann about the app again", time.Minute, `document.querySelector("#consent-app")`)
	st.click("Deny", `button[name="deny"]`)
	if code, o, e := deny.wait(t); code != 8 || !strings.Contains(e, "press Allow") {
		t.Errorf("class join denied: %d %q %q", code, o, e)
	}
	if o, _, _ := learner(t, laptop, "", "class", "list"); !strings.Contains(o, "no class joined") {
		t.Errorf("a denied join left a class: %q", o)
	}

	// A token pasted on stdin joins too; a revoked one is refused with its
	// own exit status.
	pasted := c.token(ann)
	if o, e, code := learner(t, laptop, pasted+"\n", "class", "join", c.base, "--token-stdin"); code != 0 || strings.Contains(o+e, pasted) {
		t.Fatalf("class join --token-stdin: %d %q %q", code, o, e)
	}
	if o, e, code := learner(t, laptop, "", "class", "forget", c.listen); code != 0 {
		t.Fatalf("class forget by address: %d %q %q", code, o, e)
	}
	if _, e, code := learner(t, laptop, pasted+"\n", "class", "join", c.base, "--token-stdin"); code != 5 || !strings.Contains(e, "Join the class again") {
		t.Errorf("class join with a revoked token: %d %q", code, e)
	}
}

// joining is a `classhub class join --no-browser` under way, and the
// authorization address it printed for the browser.
type joining struct {
	cmd       *exec.Cmd
	out, errs *bytes.Buffer
	authorize string
	// read is closed when stderr has been read to its end.
	read chan struct{}
}

// startJoin starts `classhub class join` of hub for the laptop's data dir
// and waits for the address it prints.
func startJoin(t *testing.T, hub, laptop string, args ...string) *joining {
	t.Helper()
	j := &joining{out: &bytes.Buffer{}, errs: &bytes.Buffer{}, read: make(chan struct{})}
	j.cmd = exec.Command(binary(t), append([]string{"class", "join", hub + "/hub/login", "--no-browser", "--data-dir", laptop}, args...)...)
	j.cmd.Stdout = j.out
	stderr, err := j.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		defer close(j.read)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			j.errs.WriteString(line + "\n")
			if strings.HasPrefix(line, hub+"/hub/api/oauth2/authorize?") {
				found <- line
			}
		}
	}()
	select {
	case j.authorize = <-found:
	case <-time.After(time.Minute):
		t.Fatal("class join printed no authorization address")
	}
	return j
}

// wait waits for the join to end and returns its exit status and output.
func (j *joining) wait(t *testing.T) (int, string, string) {
	t.Helper()
	select {
	case <-j.read:
	case <-time.After(time.Minute):
		t.Fatal("class join did not end after the browser came back")
	}
	code := 0
	if err := j.cmd.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return code, j.out.String(), j.errs.String()
}
