package classclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/zalando/go-keyring"

	"github.com/classhub/classhub/hub/config"
)

// keyringService is the name tokens are kept under in the OS keyring.
const keyringService = "classhub class hub"

// Keyring is where secrets are kept: the OS's keyring (Secret Service on
// Linux, Keychain on macOS, Credential Manager on Windows) in OSKeyring.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (osKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// OSKeyring is the operating system's keyring.
var OSKeyring Keyring = osKeyring{}

// Hub is one class hub the learner joined, as hubs.json keeps it: no token.
type Hub struct {
	// URL is the hub's base URL, which names it.
	URL string `json:"url"`
	// Name is what the tray shows: the hub's host unless the learner named it.
	Name string `json:"name"`
	// User is who the learner is on it.
	User string `json:"user"`
}

// Hubs is the list of joined hubs and which one is current.
type Hubs struct {
	List []Hub `json:"hubs"`
	// Current is the URL of the current hub, "" for none.
	Current string `json:"current"`
}

// Find is the hub named or with the URL name, and whether there is one.
func (h Hubs) Find(name string) (Hub, bool) {
	if u, err := Normalize(name); err == nil {
		for _, x := range h.List {
			if x.URL == u {
				return x, true
			}
		}
	}
	for _, x := range h.List {
		if x.Name == name {
			return x, true
		}
	}
	return Hub{}, false
}

// Store keeps the joined hubs in Dir/hubs.json and their tokens in the
// keyring, or, where there is none that works, in Dir/tokens.json with
// mode 0600. It is safe for concurrent use within one process.
type Store struct {
	Dir     string
	Keyring Keyring
	// NewClient makes the client Forget revokes with; New when nil.
	NewClient func(hubURL string, tok Token) *Client

	mu sync.Mutex
}

// OpenStore is a store in dir using the OS keyring.
func OpenStore(dir string) *Store { return &Store{Dir: dir, Keyring: OSKeyring} }

// DefaultStore is the store in the data dir's "classes" folder.
func DefaultStore() (*Store, error) {
	d, err := config.DefaultDataDir()
	if err != nil {
		return nil, err
	}
	return OpenStore(filepath.Join(d, "classes")), nil
}

func (s *Store) hubsPath() string   { return filepath.Join(s.Dir, "hubs.json") }
func (s *Store) tokensPath() string { return filepath.Join(s.Dir, "tokens.json") }

// Hubs is the list of joined hubs; empty when none was ever joined.
func (s *Store) Hubs() (Hubs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readHubs()
}

func (s *Store) readHubs() (Hubs, error) {
	var h Hubs
	if err := readJSON(s.hubsPath(), &h); err != nil {
		return Hubs{}, err
	}
	return h, nil
}

// Current is the current hub and its token.
func (s *Store) Current() (Hub, Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.readHubs()
	if err != nil {
		return Hub{}, Token{}, err
	}
	cur, ok := h.Find(h.Current)
	if !ok || h.Current == "" {
		return Hub{}, Token{}, errors.New("no class joined yet: join one with its link (classhub class join URL)")
	}
	tok, err := s.token(cur.URL)
	return cur, tok, err
}

// Client is a client of the current hub with its token.
func (s *Store) Client() (*Client, Hub, error) {
	h, tok, err := s.Current()
	if err != nil {
		return nil, Hub{}, err
	}
	return s.newClient(h.URL, tok), h, nil
}

func (s *Store) newClient(hub string, tok Token) *Client {
	if s.NewClient != nil {
		return s.NewClient(hub, tok)
	}
	return New(hub, tok)
}

// Add keeps hub with its token, replacing one of the same URL, and makes it
// current. An empty Name becomes the URL's host.
func (s *Store) Add(hub Hub, tok Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hub.Name == "" {
		hub.Name = hostOf(hub.URL)
	}
	if hub.User == "" {
		hub.User = tok.User
	}
	h, err := s.readHubs()
	if err != nil {
		return err
	}
	for _, x := range h.List {
		if x.Name == hub.Name && x.URL != hub.URL {
			return fmt.Errorf("another class is already called %q (%s): forget it first, or name this one differently", hub.Name, x.URL)
		}
	}
	if err := s.putToken(hub.URL, tok); err != nil {
		return err
	}
	h.List = slices.DeleteFunc(h.List, func(x Hub) bool { return x.URL == hub.URL })
	h.List = append(h.List, hub)
	h.Current = hub.URL
	return writeJSON(s.hubsPath(), h, 0o644)
}

// Use makes the hub with that name or URL current; "" makes none
// current (this computer's own hub), which the next start keeps.
func (s *Store) Use(name string) (Hub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		h, err := s.readHubs()
		if err != nil {
			return Hub{}, err
		}
		h.Current = ""
		return Hub{}, writeJSON(s.hubsPath(), h, 0o644)
	}
	h, x, err := s.find(name)
	if err != nil {
		return Hub{}, err
	}
	h.Current = x.URL
	return x, writeJSON(s.hubsPath(), h, 0o644)
}

// find is the list and the hub with that name or URL in it; s.mu is held.
func (s *Store) find(name string) (Hubs, Hub, error) {
	h, err := s.readHubs()
	if err != nil {
		return Hubs{}, Hub{}, err
	}
	x, ok := h.Find(name)
	if !ok {
		return Hubs{}, Hub{}, fmt.Errorf("no class called %q: see the list (classhub class list)", name)
	}
	return h, x, nil
}

// Forget revokes the hub's token on the hub, then deletes the token and the
// hub here. A hub that cannot revoke it (unreachable, already revoked) is
// still forgotten here; the error that stopped the revoke is returned
// after, for the caller to say so. The current hub forgotten, none is
// current.
func (s *Store) Forget(ctx context.Context, name string) (Hub, error) {
	s.mu.Lock()
	_, x, err := s.find(name)
	var tok Token
	if err == nil {
		tok, err = s.token(x.URL)
	}
	s.mu.Unlock()
	if x.URL == "" {
		return Hub{}, err
	}
	// Without a token kept here there is nothing to revoke; the hub is
	// forgotten all the same. The revoke runs unlocked: it may be slow.
	var revokeErr error
	if err == nil {
		c := s.newClient(x.URL, tok)
		revokeErr = c.Revoke(ctx)
		// Refused is a token the hub no longer takes, as good as revoked,
		// unless the hub still takes it and only refused the deletion.
		if KindOf(revokeErr) == Refused {
			if _, werr := c.Whoami(ctx); werr == nil {
				revokeErr = &Error{Kind: Other, Hub: x.URL, Detail: "the hub refused to delete the token, which still works", Err: revokeErr}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.deleteToken(x.URL); err != nil {
		return x, err
	}
	h, err := s.readHubs()
	if err != nil {
		return x, err
	}
	h.List = slices.DeleteFunc(h.List, func(y Hub) bool { return y.URL == x.URL })
	if h.Current == x.URL {
		h.Current = ""
	}
	if err := writeJSON(s.hubsPath(), h, 0o644); err != nil {
		return x, err
	}
	if revokeErr != nil && KindOf(revokeErr) != Refused {
		return x, fmt.Errorf("forgot %s here, but could not revoke its token on the hub: delete it on %s/hub/token: %w", x.Name, x.URL, revokeErr)
	}
	return x, nil
}

// token is the hub's token, from the keyring or else the file.
func (s *Store) token(hub string) (Token, error) {
	if s.Keyring != nil {
		if v, err := s.Keyring.Get(keyringService, hub); err == nil {
			var t Token
			if err := json.Unmarshal([]byte(v), &t); err == nil {
				return t, nil
			}
		}
	}
	toks, err := s.fileTokens()
	if err != nil {
		return Token{}, err
	}
	t, ok := toks[hub]
	if !ok {
		return Token{}, fmt.Errorf("no token kept for %s: join it again (classhub class join %s)", hub, hub)
	}
	return t, nil
}

// putToken keeps tok in the keyring, or in the file if the keyring fails.
func (s *Store) putToken(hub string, tok Token) error {
	b, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	if s.Keyring != nil && s.Keyring.Set(keyringService, hub, string(b)) == nil {
		// A token kept before the keyring worked must not linger.
		return s.dropFileToken(hub)
	}
	toks, err := s.fileTokens()
	if err != nil {
		return err
	}
	toks[hub] = tok
	return writeJSON(s.tokensPath(), toks, 0o600)
}

func (s *Store) deleteToken(hub string) error {
	if s.Keyring != nil {
		// An error means no keyring or nothing in it: either way the
		// token is not there, and the file is next.
		_ = s.Keyring.Delete(keyringService, hub)
	}
	return s.dropFileToken(hub)
}

func (s *Store) dropFileToken(hub string) error {
	toks, err := s.fileTokens()
	if err != nil {
		return err
	}
	if _, ok := toks[hub]; !ok {
		return nil
	}
	delete(toks, hub)
	return writeJSON(s.tokensPath(), toks, 0o600)
}

func (s *Store) fileTokens() (map[string]Token, error) {
	toks := map[string]Token{}
	if err := readJSON(s.tokensPath(), &toks); err != nil {
		return nil, err
	}
	return toks, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is damaged (%v): move it away and join the classes again", path, err)
	}
	return nil
}

// writeJSON replaces path atomically with v, created with mode perm.
func writeJSON(path string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func hostOf(u string) string {
	if _, rest, ok := cutScheme(u); ok {
		return rest
	}
	return u
}

func cutScheme(u string) (string, string, bool) {
	for _, p := range []string{"https://", "http://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			return p, u[len(p):], true
		}
	}
	return "", u, false
}
