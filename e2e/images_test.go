package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image/imagetest"
	"github.com/classhub/classhub/internal/testenv"
)

// TestDockerStacksImage runs an image laid out like the Jupyter Docker
// Stacks' (imagetest.Stacks: start.sh, start-notebook.sh handing over to
// start-singleuser.sh, USER 1000, no /home/jovyan/work) as a class's
// image: classhub starts it with its own entrypoint and command, as
// DockerSpawner does, the server becomes ready through the hub, the
// student saves a file in her work folder through the proxy, and the file
// is there again in a recreated container.
func TestDockerStacksImage(t *testing.T) {
	cli := testenv.Docker(t)
	stacks := imagetest.Derive(t, cli, imagetest.Stacks(imagetest.Classic(t, cli)))
	c := newClassroom(t)
	c.useImage(stacks)
	alice, teacher := c.user("alice"), c.user("teacher")
	c.addUsers(alice)
	c.classhub("users", "add", teacher, "--admin")
	adminTok, aliceTok := c.token(teacher), c.token(alice)
	c.serve()
	hubLogOnFailure(t, c)

	c.startAndWait(adminTok, alice)
	info, err := cli.ContainerInspect(context.Background(), containerOf(alice))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Config.Entrypoint; !slices.Equal(got, []string{"tini", "-g", "--", "start.sh"}) {
		t.Errorf("the server's entrypoint is %q, want the image's", got)
	}
	if got := info.Config.Cmd; !slices.Equal(got, []string{"start-notebook.sh"}) {
		t.Errorf("the server's command is %q, want the image's", got)
	}
	if info.Config.User != "1000" {
		t.Errorf("the server runs as %q, want the image's USER 1000", info.Config.User)
	}
	if log := containerLog(t, cli, containerOf(alice)); !strings.Contains(log, imagetest.StacksStarted) {
		t.Errorf("start-notebook.sh did not hand over to start-singleuser.sh; the server's log:\n%s", log)
	}

	origin := c.origin(alice)
	notebook := origin + "/user/" + alice + "/api/contents/work/hello.txt"
	const text = "saved through the hub\n"
	if resp, body := c.do("PUT", notebook, aliceTok, map[string]string{"type": "file", "format": "text", "content": text}); resp.StatusCode != 201 {
		t.Fatalf("saving work/hello.txt: %s %s", resp.Status, body)
	}

	// Recreate the container: delete the server (the volume stays) and
	// start it again.
	if resp, body := c.do("DELETE", "/hub/api/users/"+alice+"/server", adminTok, map[string]bool{"remove": true}); resp.StatusCode != 204 {
		t.Fatalf("delete alice's server: %s %s", resp.Status, body)
	}
	c.startAndWait(adminTok, alice)
	again, err := cli.ContainerInspect(context.Background(), containerOf(alice))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == info.ID {
		t.Fatal("the container was not recreated")
	}
	resp, body := c.do("GET", c.origin(alice)+"/user/"+alice+"/api/contents/work/hello.txt", aliceTok, nil)
	var got struct{ Content string }
	json.Unmarshal(body, &got)
	if resp.StatusCode != 200 || got.Content != text {
		t.Errorf("work/hello.txt in the recreated container: %s %q, want %q", resp.Status, got.Content, text)
	}
}

// TestBadImages: an image that is not there and cannot be pulled, with
// either pull policy, and one whose command exits at once, each fail the
// student's start with a sentence that names the image and says what is
// wrong, on the API's progress stream and the student's home page; her
// files and a classmate's running server are untouched.
func TestBadImages(t *testing.T) {
	cli := testenv.Docker(t)
	exits := imagetest.Derive(t, cli, imagetest.Spec{Base: imagetest.Classic(t, cli), Script: "true",
		Cmd: []string{"sh", "-c", "echo bad config >&2; exit 3"}})
	c := newClassroom(t)
	alice, bob, teacher := c.user("alice"), c.user("bob"), c.user("teacher")
	c.addUsers(alice, bob)
	c.classhub("users", "add", teacher, "--admin")
	const password = "correct horse battery"
	c.classhubInput(password+"\n", "users", "passwd", alice)
	adminTok, aliceTok, bobTok := c.token(teacher), c.token(alice), c.token(bob)
	// Generous, so that a start that runs out a timeout cannot pass for
	// one that failed for the reason it should.
	appendConfig(t, c, "start_timeout = \"5m\"\nhttp_timeout = \"5m\"\n")
	c.serve()
	hubLogOnFailure(t, c)

	// With the class's usual image: bob works, alice saves a file.
	c.startAndWait(adminTok, bob)
	c.startAndWait(adminTok, alice)
	const text = "alice's notes\n"
	if resp, body := c.do("PUT", c.origin(alice)+"/user/"+alice+"/api/contents/work/notes.txt", aliceTok,
		map[string]string{"type": "file", "format": "text", "content": text}); resp.StatusCode != 201 {
		t.Fatalf("saving work/notes.txt: %s %s", resp.Status, body)
	}
	if resp, body := c.do("DELETE", "/hub/api/users/"+alice+"/server", adminTok, nil); resp.StatusCode != 204 {
		t.Fatalf("stop alice's server: %s %s", resp.Status, body)
	}

	for _, tt := range []struct {
		name, settings string
		want           []string
	}{
		{"not there, not pullable", `image = "example.invalid/nope:1"`,
			[]string{"example.invalid/nope:1", "could not be pulled", "check its name and that its registry is reachable"}},
		{"not there, pull_policy never", "image = \"example.invalid/nope:1\"\npull_policy = \"never\"",
			[]string{"example.invalid/nope:1", "pull_policy is never", "set pull_policy to"}},
		{"exits at once", fmt.Sprintf("image = %q", exits),
			[]string{"(image " + exits + ")", "exited while starting (exit code 3)", "bad config"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.stop(syscall.SIGTERM)
			setConfig(t, c, tt.settings)
			c.serve()
			// A start that fails within the hub's first seconds fails the
			// request itself, as JupyterHub's does (slow_spawn_timeout);
			// a later failure only the stream reports.
			resp, body := c.do("POST", "/hub/api/users/"+alice+"/server", adminTok, nil)
			switch resp.StatusCode {
			case 500:
				for _, w := range tt.want {
					if !strings.Contains(string(body), w) {
						t.Errorf("the start request's error %s lacks %q", body, w)
					}
				}
			case 201, 202:
			default:
				t.Fatalf("start alice: %s %s", resp.Status, body)
			}
			failed := progressUntilDone(t, c, alice, adminTok)
			if !failed.Failed {
				t.Fatalf("alice's start ended with %+v, want it failed", failed)
			}
			for _, w := range tt.want {
				if !strings.Contains(failed.Message, w) {
					t.Errorf("the progress stream's failure %q lacks %q", failed.Message, w)
				}
			}
			home := hubPage(t, c, "/hub/home", loginCookies(t, c.base, alice, password))
			for _, w := range tt.want {
				if !strings.Contains(home, html.EscapeString(w)) {
					t.Errorf("alice's home page does not say %q:\n%s", w, home)
				}
			}
			if resp, _ := c.do("GET", c.origin(bob)+"/user/"+bob+"/api/status", bobTok, nil); resp.StatusCode != 200 {
				t.Errorf("bob's server answers %s after alice's start failed, want 200", resp.Status)
			}
			vs, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.LabelUser+"="+alice))})
			if err != nil || len(vs.Volumes) != 1 {
				t.Errorf("alice has %d work volumes (%v), want hers kept", len(vs.Volumes), err)
			}
		})
	}

	// Back to the usual image: alice's notes are there.
	c.stop(syscall.SIGTERM)
	setConfig(t, c, "")
	c.serve()
	c.startAndWait(adminTok, alice)
	resp, body := c.do("GET", c.origin(alice)+"/user/"+alice+"/api/contents/work/notes.txt", aliceTok, nil)
	var got struct{ Content string }
	json.Unmarshal(body, &got)
	if resp.StatusCode != 200 || got.Content != text {
		t.Errorf("alice's notes after the failed starts: %s %q, want %q", resp.Status, got.Content, text)
	}
}

// setConfig replaces the image settings in the classroom's classhub.toml
// with settings, the lines the test appended before serve.
func setConfig(t *testing.T, c *classroom, settings string) {
	t.Helper()
	path := filepath.Join(c.dataDir, "classhub.toml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if !strings.HasPrefix(l, "image =") && !strings.HasPrefix(l, "pull_policy =") {
			keep = append(keep, l)
		}
	}
	if settings != "" {
		keep = append(keep, settings)
	}
	if err := os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// progressEvent is a line of the API's progress stream.
type progressEvent struct {
	Progress int    `json:"progress"`
	Message  string `json:"message"`
	Ready    bool   `json:"ready"`
	Failed   bool   `json:"failed"`
}

// progressUntilDone reads name's progress stream, as JupyterHub's spawn
// page does, until its ready or failed event.
func progressUntilDone(t *testing.T, c *classroom, name, token string) progressEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/hub/api/users/"+name+"/server/progress", nil)
	req.Header.Set("Authorization", "token "+token)
	resp, err := (&http.Client{Transport: c.transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("progress: %s %s", resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last progressEvent
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(data), &last); err != nil {
			t.Fatalf("progress line %q: %v", data, err)
		}
		if last.Ready || last.Failed {
			return last
		}
	}
	t.Fatalf("the progress stream ended without ready or failed (%v); last: %+v", sc.Err(), last)
	return last
}

// hubPage GETs a hub page with a login's cookies and returns its text.
func hubPage(t *testing.T, c *classroom, path string, cookies []*http.Cookie) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return regexp.MustCompile(`\s+`).ReplaceAllString(string(b), " ")
}
