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
	f.OfferApp(true)
	f.TellTokenIDs(true)
	page := make(chan string, 1)
	tok, err := Login(context.Background(), f.URL, func(u string) error {
		if !strings.HasPrefix(u, f.URL+"/hub/api/oauth2/authorize?") {
			t.Errorf("opened %s, not the hub's authorize endpoint", u)
		}
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		if ru := q.Get("redirect_uri"); !strings.HasPrefix(ru, "http://127.0.0.1:") || !strings.HasSuffix(ru, "/callback") {
			t.Errorf("redirect_uri %s is not a loopback callback", ru)
		}
		if len(q.Get("state")) < 40 || len(q.Get("code_challenge")) != 43 {
			t.Errorf("state %q or challenge %q too short", q.Get("state"), q.Get("code_challenge"))
		}
		go func() { _, p := browse(t, f.Authorize(u)); page <- p }()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Secret != "secret-o1" || tok.User != "alice" || tok.ID != "o1" || tok.Expires.IsZero() {
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
	f.OfferApp(true)
	exchanged := 0
	tok, err := Login(context.Background(), f.URL, func(u string) error {
		go func() {
			real := f.Authorize(u)
			pu, _ := url.Parse(real)
			forged := pu.Scheme + "://" + pu.Host + pu.Path + "?" + url.Values{"code": {"code-attacker"}, "state": {"guess"}}.Encode()
			if st, _ := browse(t, forged); st != http.StatusBadRequest {
				t.Errorf("a forged answer got %d, want 400", st)
			}
			exchanged = f.Codes()
			browse(t, real)
		}()
		return nil
	})
	if err != nil || tok.Secret != "secret-o1" {
		t.Fatalf("Login = %+v, %v", tok, err)
	}
	if exchanged != 1 {
		t.Errorf("the hub held %d codes when the forged answer was refused, want the real one unspent", exchanged)
	}
}

func TestLoginWrongVerifierIsRefused(t *testing.T) {
	f := newFakeHub(t)
	f.OfferApp(true)
	_, err := Login(context.Background(), f.URL, func(u string) error {
		u = strings.Replace(u, "code_challenge=", "code_challenge=x", 1) // the hub keeps another challenge
		go browse(t, f.Authorize(u))
		return nil
	})
	if KindOf(err) != Refused {
		t.Fatalf("Login = %v, want Refused", err)
	}
}

func TestLoginStockJupyterHub(t *testing.T) {
	f := newFakeHub(t)
	opened := false
	_, err := Login(context.Background(), f.URL, func(string) error { opened = true; return nil })
	if KindOf(err) != NoAppLogin || !strings.Contains(err.Error(), f.URL+"/hub/token") {
		t.Fatalf("Login = %v, want NoAppLogin pointing at the token page", err)
	}
	if opened {
		t.Error("a browser was opened for a hub that cannot log the app in")
	}
}

func TestLoginDeniedAndCancelled(t *testing.T) {
	f := newFakeHub(t)
	f.OfferApp(true)
	_, err := Login(context.Background(), f.URL, func(u string) error {
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		go browse(t, q.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}.Encode())
		return nil
	})
	if KindOf(err) != Denied || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("Login denied = %v, want Denied", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Login(ctx, f.URL, func(string) error { return nil })
	if KindOf(err) != Denied {
		t.Fatalf("Login with no answer = %v, want Denied", err)
	}
}

func TestPaste(t *testing.T) {
	f := newFakeHub(t)
	tok, err := Paste(context.Background(), f.URL, " secret-a\n")
	if err != nil || tok.User != "alice" || tok.Secret != "secret-a" {
		t.Fatalf("Paste = %+v, %v", tok, err)
	}
	if _, err := Paste(context.Background(), f.URL, "nope"); KindOf(err) != Refused {
		t.Fatalf("Paste of a wrong token = %v, want Refused", err)
	}
}

// A hub that does not tell a token its id has the app make its own, for
// alice's servers and tokens only, which Revoke can then delete.
func TestPasteMintsWhereTheHubTellsNoID(t *testing.T) {
	ctx := context.Background()
	f := newFakeHub(t)
	f.MintTokens(true)
	f.AddToken("secret-b", "b2") // two tokens: the list cannot tell which
	tok, err := Paste(ctx, f.URL, "secret-a")
	if err != nil || !tok.Minted || tok.Secret != "secret-m1" || tok.ID != "m1" || tok.User != "alice" {
		t.Fatalf("Paste = %+v, %v", tok, err)
	}
	for _, s := range f.MintedScopes() {
		if !strings.HasSuffix(s, "!user=alice") {
			t.Errorf("the app asked for %q", s)
		}
	}
	if err := New(f.URL, tok).Revoke(ctx); err != nil || len(f.Revoked()) != 1 || f.Revoked()[0] != "m1" {
		t.Fatalf("Revoke = %v, deleted %v", err, f.Revoked())
	}
	f.TellTokenIDs(true)
	if tok, err := Paste(ctx, f.URL, "secret-a"); err != nil || tok.Minted || tok.ID != "a1" {
		t.Errorf("Paste on a hub that tells the id = %+v, %v; want the pasted token kept", tok, err)
	}
}

// Mix-up (RFC 9207): a site the learner was told is the hub relays the
// app's login to the real hub, whose consent page is genuine; the code then
// comes back naming the real hub as its issuer, and the app trades it, with
// its verifier, at neither: the relay would redeem them itself.
func TestLoginRefusesACodeFromAnotherHub(t *testing.T) {
	f := newFakeHub(t)
	f.OfferApp(true)
	f.NameIssuer("http://10.0.0.5:8000")
	_, err := Login(context.Background(), f.URL, func(u string) error {
		go browse(t, f.Authorize(u))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "http://10.0.0.5:8000") {
		t.Fatalf("Login with a code from another hub = %v", err)
	}
	if f.Codes() != 1 {
		t.Errorf("the code was sent to the relay: %d codes left", f.Codes())
	}
}

func TestSameHub(t *testing.T) {
	for _, c := range []struct {
		iss, hub string
		same     bool
	}{
		{"http://10.0.0.5:8000", "http://10.0.0.5:8000", true},
		{"https://Lab.Example", "https://lab.example:443", true},
		{"http://lab.example:80/", "http://lab.example", true},
		{"http://10.0.0.5:8001", "http://10.0.0.5:8000", false},
		{"https://10.0.0.5:8000", "http://10.0.0.5:8000", false},
		{"http://10.0.0.6:8000", "http://10.0.0.5:8000", false},
		{"", "http://10.0.0.5:8000", false},
		{"http://10.0.0.5:8000/x", "http://10.0.0.5:8000", false},
	} {
		if got := sameHub(c.iss, c.hub); got != c.same {
			t.Errorf("sameHub(%q, %q) = %v", c.iss, c.hub, got)
		}
	}
}
