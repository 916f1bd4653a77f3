package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/classhub/classhub/classclient/classclienttest"
)

// newClassHub answers as JupyterHub 3.0 does for a user "ann" with token
// "tok-ann" (id a3), whose server starts at once: the CLI's start then
// hears of the ready server from the user model, as the progress stream
// answers 400.
func newClassHub(t *testing.T) *classclienttest.Hub {
	hub := classclienttest.New(t, "ann")
	hub.AddToken("tok-ann", "a3")
	hub.StartAtOnce(true)
	return hub
}

func TestClassJoinWithAPastedTokenStartStopForget(t *testing.T) {
	t.Setenv(noKeyringEnv, "1")
	dir := t.TempDir()
	hub := newClassHub(t)
	out, errs, code := runIn(t, dir, "tok-ann\n", "class", "join", hub.URL+"/hub/token", "--token-stdin", "--name", "maths")
	if code != 0 || !strings.Contains(out, "joined maths ("+hub.URL+") as ann") {
		t.Fatalf("join: %d %q %q", code, out, errs)
	}
	fi, err := os.Stat(filepath.Join(dir, "classes", "tokens.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("tokens.json: %v %v, want mode 0600", err, fi)
	}
	if out, _, _ := runIn(t, dir, "", "class", "list"); !strings.Contains(out, "*  maths  ann") {
		t.Errorf("list: %q", out)
	}
	if out, errs, code := runIn(t, dir, "", "class", "status"); code != 0 || !strings.Contains(out, "server: stopped") {
		t.Errorf("status: %d %q %q", code, out, errs)
	}
	if out, errs, code := runIn(t, dir, "", "class", "start"); code != 0 || !strings.Contains(out, "100% ") || !strings.Contains(out, "ready: "+hub.URL+"/user/ann/") {
		t.Errorf("start: %d %q %q", code, out, errs)
	}
	if out, _, _ := runIn(t, dir, "", "class", "status"); !strings.Contains(out, "server: ready at "+hub.URL+"/user/ann/") {
		t.Errorf("status of a running server: %q", out)
	}
	if _, errs, code := runIn(t, dir, "", "class", "open", "--no-browser"); code != 0 || !strings.Contains(errs, "\n"+hub.URL+"/user/ann/\n") {
		t.Errorf("open: %d %q", code, errs)
	}
	if out, errs, code := runIn(t, dir, "", "class", "stop"); code != 0 || !strings.Contains(out, "stopping") {
		t.Errorf("stop: %d %q %q", code, out, errs)
	}
	if s := hub.State(); s != classclienttest.Stopped {
		t.Errorf("after stop the server is %s", s)
	}
	if out, errs, code := runIn(t, dir, "", "class", "forget", "maths"); code != 0 || !strings.Contains(out, "revoked on the hub") {
		t.Errorf("forget: %d %q %q", code, out, errs)
	}
	if got := hub.Revoked(); !slices.Equal(got, []string{"a3"}) {
		t.Errorf("forget revoked %v on the hub, want [a3]", got)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "classes", "tokens.json"))
	if strings.Contains(string(b), "tok-ann") {
		t.Errorf("the forgotten token is still kept: %s", b)
	}
	if _, errs, code := runIn(t, dir, "", "class", "status"); code != 1 || !strings.Contains(errs, "classhub class join") {
		t.Errorf("status with no class: %d %q", code, errs)
	}
}

func TestClassBadInput(t *testing.T) {
	t.Setenv(noKeyringEnv, "1")
	dir := t.TempDir()
	hub := newClassHub(t)
	blog := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>my blog</p>")
	}))
	t.Cleanup(blog.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(502)
		fmt.Fprint(w, `{"status": 502, "message": "proxy error"}`)
	}))
	t.Cleanup(broken.Close)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := "http://" + l.Addr().String()
	l.Close()
	selfSigned := httptest.NewTLSServer(hub.Config.Handler)
	t.Cleanup(selfSigned.Close)

	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		say         string
	}{
		{"not a hub", "tok\n", []string{"class", "join", blog.URL, "--token-stdin"}, exitNotHub, "is not a class hub"},
		{"unreachable", "tok\n", []string{"class", "join", gone, "--token-stdin"}, exitUnreachable, "does not answer"},
		{"refused", "wrong\n", []string{"class", "join", hub.URL, "--token-stdin"}, exitRefused, "Join the class again"},
		{"untrusted certificate", "tok\n", []string{"class", "join", selfSigned.URL, "--token-stdin"}, exitUntrusted, selfSigned.URL + "/hub/certificate"},
		{"5xx", "tok\n", []string{"class", "join", broken.URL, "--token-stdin"}, exitHubFailed, "status 502"},
		{"stock JupyterHub, browser login", "", []string{"class", "join", hub.URL, "--no-browser"}, exitNoAppLogin, "/hub/token"},
		{"no token on stdin", "", []string{"class", "join", hub.URL, "--token-stdin"}, 2, "no token on stdin"},
		{"bad link", "", []string{"class", "join", "ftp://x"}, 2, "not a web address"},
		{"no link", "", []string{"class", "join"}, 2, "name the one class link"},
		{"unknown class", "", []string{"class", "use", "history"}, 1, "no class called"},
		{"unknown subcommand", "", []string{"class", "dance"}, 2, "unknown class command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runIn(t, dir, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.say) {
				t.Errorf("%v: %d %q %q; want %d saying %q", tc.args, code, out, errs, tc.code, tc.say)
			}
			if strings.Contains(errs+out, "tok\n") {
				t.Error("the token was printed")
			}
		})
	}
	if hs, _ := classStore(&globals{dataDir: dir}).Hubs(); len(hs.List) != 0 {
		t.Errorf("failed joins left classes behind: %+v", hs)
	}
}

// A revoked token (the learner revoked it on the hub's page) is told apart.
func TestClassRevokedToken(t *testing.T) {
	t.Setenv(noKeyringEnv, "1")
	dir := t.TempDir()
	hub := newClassHub(t)
	if _, errs, code := runIn(t, dir, "tok-ann\n", "class", "join", hub.URL, "--token-stdin"); code != 0 {
		t.Fatalf("join: %d %q", code, errs)
	}
	runIn(t, dir, "", "class", "forget", hub.URL) // revokes
	if _, errs, code := runIn(t, dir, "tok-ann\n", "class", "join", hub.URL, "--token-stdin"); code != exitRefused {
		t.Fatalf("join with the revoked token: %d %q", code, errs)
	}
}
