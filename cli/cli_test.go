package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs classhub with args against a data dir and returns its output
// and exit status.
func run(t *testing.T, dataDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append(args, "--data-dir", dataDir), Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")})
	return out.String(), errb.String(), code
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
