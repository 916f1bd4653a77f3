package classclient

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memKeyring is a keyring in memory; broken makes it fail as a machine
// without one does.
type memKeyring struct {
	m      map[string]string
	broken bool
}

var errNoKeyring = errors.New("no keyring here")

func (k *memKeyring) Get(s, u string) (string, error) {
	if v, ok := k.m[s+"|"+u]; ok && !k.broken {
		return v, nil
	}
	return "", errNoKeyring
}

func (k *memKeyring) Set(s, u, p string) error {
	if k.broken {
		return errNoKeyring
	}
	k.m[s+"|"+u] = p
	return nil
}

func (k *memKeyring) Delete(s, u string) error {
	if k.broken {
		return errNoKeyring
	}
	delete(k.m, s+"|"+u)
	return nil
}

func TestStoreKeepsTokensInTheKeyring(t *testing.T) {
	dir := t.TempDir()
	kr := &memKeyring{m: map[string]string{}}
	s := &Store{Dir: dir, Keyring: kr}
	if err := s.Add(Hub{URL: "http://10.0.0.5:8000"}, Token{Secret: "s3cr3t", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	h, tok, err := s.Current()
	if err != nil || h.Name != "10.0.0.5:8000" || h.User != "alice" || tok.Secret != "s3cr3t" {
		t.Fatalf("Current = %+v, %v, %v", h, tok, err)
	}
	if len(kr.m) != 1 {
		t.Errorf("keyring holds %d entries, want 1", len(kr.m))
	}
	noSecretOnDisk(t, dir, "s3cr3t")
}

func TestStoreFallsBackToA0600File(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Dir: dir, Keyring: &memKeyring{m: map[string]string{}, broken: true}}
	if err := s.Add(Hub{URL: "http://10.0.0.5:8000", Name: "maths"}, Token{Secret: "s3cr3t", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "tokens.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tokens.json: %v, mode %v; want 0600", err, fi.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hubs.json"))
	if strings.Contains(string(b), "s3cr3t") {
		t.Error("hubs.json holds the token")
	}
	if _, tok, err := s.Current(); err != nil || tok.Secret != "s3cr3t" {
		t.Fatalf("Current token = %v, %v", tok, err)
	}
}

func TestStoreAddUseForget(t *testing.T) {
	ctx := context.Background()
	f := newFakeHub(t)
	f.TellTokenIDs(true)
	f.AddToken("secret-b", "b2")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := "http://" + l.Addr().String()
	l.Close()
	s := &Store{Dir: t.TempDir(), Keyring: &memKeyring{m: map[string]string{}}}
	if err := s.Add(Hub{URL: f.URL, Name: "maths"}, Token{Secret: "secret-b", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Hub{URL: gone, Name: "physics"}, Token{Secret: "secret-c", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Hub{URL: "http://elsewhere:8000", Name: "maths"}, Token{Secret: "x"}); err == nil {
		t.Error("a second class called maths was added")
	}
	if h, _, _ := s.Current(); h.Name != "physics" {
		t.Fatalf("current = %q, want the last joined", h.Name)
	}
	if _, err := s.Use("maths"); err != nil {
		t.Fatal(err)
	}
	c, h, err := s.Client()
	if err != nil || h.Name != "maths" || c.Hub != f.URL {
		t.Fatalf("Client = %v, %+v, %v", c, h, err)
	}
	if _, err := s.Use("history"); err == nil {
		t.Error("Use of an unknown class is no error")
	}
	// None current (this computer's own hub) is kept as such.
	if _, err := s.Use(""); err != nil {
		t.Fatal(err)
	}
	if hs, err := (&Store{Dir: s.Dir, Keyring: s.Keyring}).Hubs(); err != nil || hs.Current != "" || len(hs.List) != 2 {
		t.Errorf("hubs after Use(\"\") = %+v, %v; want both kept, none current", hs, err)
	}
	if _, err := s.Use("maths"); err != nil {
		t.Fatal(err)
	}
	// Forgetting revokes on the hub, then forgets here.
	if _, err := s.Forget(ctx, "maths"); err != nil {
		t.Fatal(err)
	}
	if len(f.Revoked()) != 1 || f.Revoked()[0] != "b2" {
		t.Errorf("the hub deleted %v, want [b2]", f.Revoked())
	}
	// An unreachable hub is forgotten here all the same, with a sentence.
	_, err = s.Forget(ctx, gone)
	if err == nil || !strings.Contains(err.Error(), "forgot physics here") || KindOf(err) != Unreachable {
		t.Errorf("Forget of an unreachable hub = %v", err)
	}
	hs, _ := s.Hubs()
	if len(hs.List) != 0 || hs.Current != "" {
		t.Errorf("hubs after forgetting both = %+v", hs)
	}
	if _, _, err := s.Current(); err == nil {
		t.Error("Current with no class is no error")
	}
}

func noSecretOnDisk(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
}

// A hub that refuses to delete a token that still works (one pasted
// without the tokens scope) has not revoked it: forgetting the class says
// so, instead of telling the learner it is revoked.
func TestForgetSaysWhenTheHubRefusedToRevoke(t *testing.T) {
	f := newFakeHub(t)
	f.TellTokenIDs(true)
	f.RefuseRevoke(true)
	s := &Store{Dir: t.TempDir(), Keyring: &memKeyring{m: map[string]string{}}}
	if err := s.Add(Hub{URL: f.URL, Name: "maths"}, Token{Secret: "secret-a", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Forget(context.Background(), "maths")
	if err == nil || !strings.Contains(err.Error(), "could not revoke") {
		t.Errorf("Forget with the token still good on the hub = %v", err)
	}
	// A token the hub no longer takes is as good as revoked.
	f.AddToken("secret-b", "b2")
	if err := s.Add(Hub{URL: f.URL, Name: "maths"}, Token{Secret: "secret-b", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	f.DropToken("secret-b")
	if _, err := s.Forget(context.Background(), "maths"); err != nil {
		t.Errorf("Forget of a token the hub no longer takes = %v", err)
	}
}
