package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/store"
)

// run runs classhub with args against a data dir and returns its output
// and exit status.
func run(t *testing.T, dataDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append(args, "--data-dir", dataDir), Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")})
	return out.String(), errb.String(), code
}

func TestUsersAddWarnsOfExternalNames(t *testing.T) {
	dir := t.TempDir()
	cfg := "[github]\nclient_id = \"id\"\nclient_secret = \"secret\"\nadmin_users = [\"Teacher\"]\n"
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, dir, "users", "add", "teacher", "carol")
	if code != 0 || !strings.Contains(out, "added teacher") || !strings.Contains(out, "added carol") {
		t.Fatalf("users add: %d %q %q", code, out, errs)
	}
	if !strings.Contains(errs, "warning: The username teacher is kept for an external login") || strings.Contains(errs, "carol") {
		t.Errorf("users add warned %q", errs)
	}
}

func TestUsersAddListTokenWithoutAHub(t *testing.T) {
	dir := t.TempDir()
	if out, errs, code := run(t, dir, "users", "add", "alice", "Bob", "--admin"); code != 0 || !strings.Contains(out, "added bob (admin)") {
		t.Fatalf("users add: %d %q %q", code, out, errs)
	}
	if _, errs, code := run(t, dir, "users", "add", "no/slash"); code != 1 || !strings.Contains(errs, "may only hold") {
		t.Errorf("users add with a bad name: %d %q", code, errs)
	}
	out, _, code := run(t, dir, "users", "list")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Errorf("users list: %d %q", code, out)
	}
	out, _, code = run(t, dir, "token", "alice")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines[len(lines)-1]) < 32 {
		t.Errorf("token: %d %q, want a token on the last line", code, out)
	}
	if _, errs, code := run(t, dir, "token", "nobody"); code != 1 || !strings.Contains(errs, "users add nobody") {
		t.Errorf("token for a missing user: %d %q", code, errs)
	}
}

func TestUsersImport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "roster.csv")
	os.WriteFile(file, []byte("username,password\nzed\nyan,a-long-password\n"), 0o600)
	out, errs, code := run(t, dir, "users", "import", file, "--generate-passwords")
	if code != 0 || !strings.Contains(out, "imported 2 new users") || !strings.Contains(out, "zed,") || strings.Contains(out, "a-long-password") {
		t.Fatalf("users import: %d %q %q", code, out, errs)
	}
	os.WriteFile(file, []byte("username\nok\nnot ok\n"), 0o600)
	if _, errs, code := run(t, dir, "users", "import", file); code != 1 || !strings.Contains(errs, "line 3") {
		t.Errorf("bad roster: %d %q, want the line number", code, errs)
	}
}

func TestFlagsMayFollowArguments(t *testing.T) {
	dir := t.TempDir()
	if _, errs, code := run(t, dir, "users", "add", "carol", "--admin", "dave"); code != 0 {
		t.Fatalf("users add carol --admin dave: %d %q", code, errs)
	}
	out, _, _ := run(t, dir, "users", "list")
	admins := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			admins[f[0]] = f[1]
		}
	}
	if admins["carol"] != "true" || admins["dave"] != "true" {
		t.Errorf("carol and dave should both be admins:\n%s", out)
	}
}

func TestUnknownCommandAndHelp(t *testing.T) {
	if _, errs, code := run(t, t.TempDir(), "frob"); code != 2 || !strings.Contains(errs, "classhub help") {
		t.Errorf("unknown: %d %q", code, errs)
	}
	var out bytes.Buffer
	if code := Main([]string{"help"}, Env{Stdout: &out, Stderr: &out}); code != 0 || !strings.Contains(out.String(), "doctor") {
		t.Errorf("help: %d %q", code, out.String())
	}
}

func TestServeSaysWhatIsWrongWithTLSFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", "class.pem"}, "set tls_key"},
		{[]string{"--tls", "sometimes"}, `use "auto"`},
		{[]string{"--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", filepath.Join(dir, "none.key")}, "check the file's name"},
	}
	for _, tt := range tests {
		_, errs, code := run(t, dir, append([]string{"serve", "--listen", "127.0.0.1:0"}, tt.args...)...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("serve %v: %d %q, want an error saying %q", tt.args, code, errs, tt.want)
		}
	}
}

// runIn is run with stdin.
func runIn(t *testing.T, dataDir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append(args, "--data-dir", dataDir), Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin)})
	return out.String(), errb.String(), code
}

// checkLogin reports whether name logs in with password, as the login form
// checks it.
func checkLogin(t *testing.T, dir, name, password string) error {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, hub.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &auth.Authenticator{Store: st, ClaimAccounts: func() bool { return true }}
	_, _, err = a.CheckPassword(context.Background(), name, password)
	return err
}

// TestUsersAddAdminPrintsItsPassword: an instructor added on the command
// line has a generated password, printed once on a line of its own, and
// nobody can claim the account by typing its name, even where the class
// claims accounts.
func TestUsersAddAdminPrintsItsPassword(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := run(t, dir, "users", "add", "ta", "--admin")
	if code != 0 {
		t.Fatalf("users add --admin: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "password, shown only now") {
		t.Fatalf("users add --admin printed %q, want a sentence and the password on its own line", out)
	}
	if err := checkLogin(t, dir, "ta", lines[1]); err != nil {
		t.Errorf("the printed password: %v", err)
	}
	if err := checkLogin(t, dir, "ta", "chosen by a stranger"); !errors.Is(err, auth.ErrBadLogin) {
		t.Errorf("claiming the instructor = %v, want ErrBadLogin", err)
	}

	// A student gets a setup code, and cannot be claimed without it.
	out, _, code = run(t, dir, "users", "add", "alice")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "setup code") || len(lines[1]) != 14 {
		t.Fatalf("users add alice: %d %q", code, out)
	}
}

func TestUsersPasswdAndReset(t *testing.T) {
	dir := t.TempDir()
	if _, errs, code := run(t, dir, "users", "add", "owner", "--admin"); code != 0 {
		t.Fatal(errs)
	}
	// Bad input changes nothing and says so.
	for stdin, want := range map[string]string{"short\n": "too short", "": "no password on stdin"} {
		if _, errs, code := runIn(t, dir, stdin, "users", "passwd", "owner"); code != 1 || !strings.Contains(errs, want) {
			t.Errorf("passwd with %q: %d %q, want %q", stdin, code, errs, want)
		}
	}
	if _, errs, code := runIn(t, dir, "a-long-password\n", "users", "passwd", "nobody"); code != 1 || !strings.Contains(errs, "no user nobody") {
		t.Errorf("passwd nobody: %d %q", code, errs)
	}
	if err := checkLogin(t, dir, "owner", "short"); err == nil {
		t.Fatal("a refused password was set")
	}
	if out, errs, code := runIn(t, dir, "the owner's password\n", "users", "passwd", "owner"); code != 0 || strings.Contains(out+errs, "the owner's password") {
		t.Fatalf("passwd: %d %q %q", code, out, errs)
	}
	if err := checkLogin(t, dir, "owner", "the owner's password"); err != nil {
		t.Errorf("the password set from stdin: %v", err)
	}

	// A reset prints a new password for an instructor, a code for a student.
	out, errs, code := run(t, dir, "users", "reset", "owner")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "password, shown only now") {
		t.Fatalf("users reset owner: %d %q %q", code, out, errs)
	}
	if err := checkLogin(t, dir, "owner", "the owner's password"); !errors.Is(err, auth.ErrBadLogin) {
		t.Errorf("the password from before the reset = %v", err)
	}
	if err := checkLogin(t, dir, "owner", lines[2]); err != nil {
		t.Errorf("the reset's password: %v", err)
	}
	if _, errs, code := run(t, dir, "users", "reset", "nobody"); code != 1 || !strings.Contains(errs, "no user nobody") {
		t.Errorf("reset nobody: %d %q", code, errs)
	}
}

func TestLogsPrintsTheHubsLogWithoutAHub(t *testing.T) {
	dir := t.TempDir()
	if _, errs, code := run(t, dir, "logs"); code != 1 || !strings.Contains(errs, "no hub log in "+dir+" yet") {
		t.Errorf("logs before any hub ran: %d %q", code, errs)
	}
	log := "time=1 level=INFO msg=one\ntime=2 level=INFO msg=two\ntime=3 level=WARN msg=three\n"
	if err := os.WriteFile(filepath.Join(dir, hub.LogFile+".1"), []byte("time=0 level=INFO msg=zero\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hub.LogFile), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := run(t, dir, "logs"); code != 0 || out != "time=0 level=INFO msg=zero\n"+log {
		t.Errorf("logs: %d %q %q, want every generation, oldest first", code, out, errs)
	}
	if out, errs, code := run(t, dir, "logs", "--tail", "2"); code != 0 || out != "time=2 level=INFO msg=two\ntime=3 level=WARN msg=three\n" {
		t.Errorf("logs --tail 2: %d %q %q", code, out, errs)
	}
	if _, errs, code := run(t, dir, "logs", "--tail", "-1"); code != 2 || !strings.Contains(errs, "--tail") {
		t.Errorf("logs --tail -1: %d %q", code, errs)
	}
	if _, errs, code := run(t, dir, "logs", "nobody"); code != 1 || !strings.Contains(errs, "no user nobody") {
		t.Errorf("logs of a user who does not exist: %d %q", code, errs)
	}
	if _, errs, code := run(t, dir, "logs", "alice", "bob"); code != 2 || !strings.Contains(errs, "name one user") {
		t.Errorf("logs of two users: %d %q", code, errs)
	}
}

// TestImageBuildMakesTheDefaultImage: with no flags, `image build` makes
// the image a hub runs by default from the default profile: JupyterLab
// with the scientific stack as classhub/notebook:latest.
func TestImageBuildMakesTheDefaultImage(t *testing.T) {
	_, errs, code := run(t, t.TempDir(), "image", "build", "--help")
	if code != 0 {
		t.Fatalf("image build --help: %d %q", code, errs)
	}
	for _, want := range []string{`(default "` + config.DefaultImage + `")`, `(default "scipy")`} {
		if !strings.Contains(errs, want) {
			t.Errorf("image build --help lacks %s:\n%s", want, errs)
		}
	}
}
