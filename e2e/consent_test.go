package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestInstructorOpensAStudentsServer: the instructor opening a student's
// notebook, served by the unmodified jupyterhub-singleuser the student
// controls, goes through the hub's consent page, and nothing that works
// as the instructor reaches the student's container: the singleuser logs
// the model the hub gives it, and that log is the student's to read.
func TestInstructorOpensAStudentsServer(t *testing.T) {
	c := newClassroom(t)
	student, teacher := c.user("student"), c.user("teacher")
	c.classhub("users", "add", student)
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	adminTok := c.token(teacher)
	c.serve()
	hubLogOnFailure(t, c)
	c.startAndWait(adminTok, student)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	send := func(method, target string, form url.Values) (*http.Response, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == "POST" {
			resp, err = browser.PostForm(target, form)
		} else {
			resp, err = browser.Get(target)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, page := send("GET", c.base+"/hub/login", nil)
	resp, _ := send("POST", c.base+"/hub/login", url.Values{"username": {teacher}, "password": {teacherPW},
		"_xsrf": {hiddenValue(t, page, "_xsrf")}})
	if strings.HasPrefix(resp.Request.URL.Path, "/hub/login") {
		t.Fatalf("the teacher's login ended at %s", resp.Request.URL)
	}
	var cookie string
	for _, ck := range jar.Cookies(&url.URL{Scheme: "http", Host: c.listen, Path: "/hub/"}) {
		if ck.Name == auth.SessionCookie {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		t.Fatal("no login cookie after logging in")
	}

	// Opening the student's server asks first, and lets nothing in yet.
	resp, page = send("GET", c.base+"/user/"+student+"/tree", nil)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/hub/api/oauth2/authorize" || !strings.Contains(page, "Allow") {
		t.Fatalf("opening %s's server ended at %s with %s, want the consent page:\n%.600s", student, resp.Request.URL, resp.Status, page)
	}
	form := url.Values{}
	for _, name := range []string{"client_id", "redirect_uri", "response_type", "state", "_xsrf"} {
		form.Set(name, hiddenValue(t, page, name))
	}
	xsrf := form.Get("_xsrf")

	// Allowing it opens the notebook, as the teacher.
	resp, page = send("POST", c.base+"/hub/api/oauth2/authorize", form)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/user/"+student+"/tree" || !strings.Contains(page, "notebook") {
		t.Fatalf("after allowing, the browser is at %s with %s:\n%.400s", resp.Request.URL, resp.Status, page)
	}

	// The student's container never saw a secret of the teacher's login.
	cli := testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs, err := cli.ContainerLogs(ctx, spawner.ContainerName(student), container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "oauth_callback") {
		t.Errorf("the server's log does not show the teacher's visit, so this test shows nothing:\n%s", out.String())
	}
	for what, secret := range map[string]string{"login cookie": cookie, "anti-forgery token": xsrf, "API token": adminTok} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the teacher's %s is in %s's container log", what, student)
		}
	}
}
