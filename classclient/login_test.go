package classclient

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// browse is what a browser does with a URL: follow it, return the page.
func browse(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("browser: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLogin(t *testing.T) {
	f := newFakeHub(t)
	f.app, f.tokenID = true, true
	page := make(chan string, 1)
	tok, err := Login(context.Background(), f.srv.URL, func(u string) error {
		if !strings.HasPrefix(u, f.srv.URL+"/hub/api/oauth2/authorize?") {
			t.Errorf("opened %s, not the hub's authorize endpoint", u)
		}
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		if ru := q.Get("redirect_uri"); !strings.HasPrefix(ru, "http://127.0.0.1:") || !strings.HasSuffix(ru, "/callback") {
			t.Errorf("redirect_uri %s is not a loopback callback", ru)
		}
		if len(q.Get("state")) < 40 || len(q.Get("code_challenge")) != 43 {
			t.Errorf("state %q or challenge %q too short", q.Get("state"), q.Get("code_challenge"))
		}
		go func() { _, p := browse(t, f.authorize(u)); page <- p }()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Secret != "secret-oauth" || tok.User != "alice" || tok.ID != "o7" || tok.Expires.IsZero() {
		t.Fatalf("token = %+v", tok)
	}
	if p := <-page; !strings.Contains(p, "You can close this tab") {
		t.Errorf("the browser was shown %q", p)
	}
}

// An answer carrying another state (a page elsewhere sending the browser
// to the app's port with its own code) is refused, its code never traded,
// and the real answer still accepted.
func TestLoginRefusesAnotherState(t *testing.T) {
	f := newFakeHub(t)
	f.app = true
	exchanged := 0
	tok, err := Login(context.Background(), f.srv.URL, func(u string) error {
		go func() {
			real := f.authorize(u)
			pu, _ := url.Parse(real)
			forged := pu.Scheme + "://" + pu.Host + pu.Path + "?" + url.Values{"code": {"code-attacker"}, "state": {"guess"}}.Encode()
			if st, _ := browse(t, forged); st != http.StatusBadRequest {
				t.Errorf("a forged answer got %d, want 400", st)
			}
			f.mu.Lock()
			exchanged = len(f.codes)
			f.mu.Unlock()
			browse(t, real)
		}()
		return nil
	})
	if err != nil || tok.Secret != "secret-oauth" {
		t.Fatalf("Login = %+v, %v", tok, err)
	}
	if exchanged != 1 {
		t.Errorf("the hub held %d codes when the forged answer was refused, want the real one unspent", exchanged)
	}
}

func TestLoginWrongVerifierIsRefused(t *testing.T) {
	f := newFakeHub(t)
	f.app = true
	_, err := Login(context.Background(), f.srv.URL, func(u string) error {
		u = strings.Replace(u, "code_challenge=", "code_challenge=x", 1) // the hub keeps another challenge
		go browse(t, f.authorize(u))
		return nil
	})
	if KindOf(err) != Refused {
		t.Fatalf("Login = %v, want Refused", err)
	}
}

func TestLoginStockJupyterHub(t *testing.T) {
	f := newFakeHub(t)
	opened := false
	_, err := Login(context.Background(), f.srv.URL, func(string) error { opened = true; return nil })
	if KindOf(err) != NoAppLogin || !strings.Contains(err.Error(), f.srv.URL+"/hub/token") {
		t.Fatalf("Login = %v, want NoAppLogin pointing at the token page", err)
	}
	if opened {
		t.Error("a browser was opened for a hub that cannot log the app in")
	}
}

func TestLoginDeniedAndCancelled(t *testing.T) {
	f := newFakeHub(t)
	f.app = true
	_, err := Login(context.Background(), f.srv.URL, func(u string) error {
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		go browse(t, q.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}.Encode())
		return nil
	})
	if KindOf(err) != Denied || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("Login denied = %v, want Denied", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Login(ctx, f.srv.URL, func(string) error { return nil })
	if KindOf(err) != Denied {
		t.Fatalf("Login with no answer = %v, want Denied", err)
	}
}

func TestPaste(t *testing.T) {
	f := newFakeHub(t)
	tok, err := Paste(context.Background(), f.srv.URL, " secret-a\n")
	if err != nil || tok.User != "alice" || tok.Secret != "secret-a" {
		t.Fatalf("Paste = %+v, %v", tok, err)
	}
	if _, err := Paste(context.Background(), f.srv.URL, "nope"); KindOf(err) != Refused {
		t.Fatalf("Paste of a wrong token = %v, want Refused", err)
	}
}

// A hub that does not tell a token its id has the app make its own, for
// alice's servers and tokens only, which Revoke can then delete.
func TestPasteMintsWhereTheHubTellsNoID(t *testing.T) {
	ctx := context.Background()
	f := newFakeHub(t)
	f.mint = true
	f.tokens["secret-b"] = "b2" // two tokens: the list cannot tell which
	tok, err := Paste(ctx, f.srv.URL, "secret-a")
	if err != nil || !tok.Minted || tok.Secret != "secret-minted" || tok.ID != "m9" || tok.User != "alice" {
		t.Fatalf("Paste = %+v, %v", tok, err)
	}
	for _, s := range f.minted {
		if !strings.HasSuffix(s, "!user=alice") {
			t.Errorf("the app asked for %q", s)
		}
	}
	if err := New(f.srv.URL, tok).Revoke(ctx); err != nil || len(f.deleted) != 1 || f.deleted[0] != "m9" {
		t.Fatalf("Revoke = %v, deleted %v", err, f.deleted)
	}
	f.tokenID = true
	if tok, err := Paste(ctx, f.srv.URL, "secret-a"); err != nil || tok.Minted || tok.ID != "a1" {
		t.Errorf("Paste on a hub that tells the id = %+v, %v; want the pasted token kept", tok, err)
	}
}
