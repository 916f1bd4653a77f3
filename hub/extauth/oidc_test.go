package extauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/extauth/oidctest"
)

const (
	oidcCallback = "https://hub.test/hub/oauth_callback"
	oidcSecret   = "client-s3cret-never-shown"
)

// school starts a provider and a classhub school login for it with
// settings edited by edit.
func school(t *testing.T, edit func(*config.OIDC)) (*oidctest.Provider, extauth.Provider) {
	t.Helper()
	idp := oidctest.New(t, "classhub", oidcSecret)
	cfg := config.OIDC{
		Issuer:         idp.Issuer,
		ClientID:       "classhub",
		ClientSecret:   oidcSecret,
		AllowedDomains: []string{"school.example"},
	}
	if edit != nil {
		edit(&cfg)
	}
	c := config.Default()
	c.OIDC = cfg
	if err := c.Validate(); err != nil {
		t.Fatalf("test settings are invalid: %v", err)
	}
	p, err := extauth.NewOIDC(context.Background(), cfg, oidcCallback)
	if err != nil {
		t.Fatal(err)
	}
	return idp, p
}

// logIn walks the browser's part of the flow: to the provider, which logs
// in the person it was told to, and back to the callback with a code.
func schoolLogIn(t *testing.T, p extauth.Provider, state, verifier string) string {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(p.AuthCodeURL(state, verifier))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := resp.Location()
	if err != nil {
		t.Fatalf("the provider did not send the browser back (%s): %v", resp.Status, err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != oidcCallback {
		t.Fatalf("sent back to %s, want %s", got, oidcCallback)
	}
	if back.Query().Get("state") != state {
		t.Fatalf("state came back as %q, want %q", back.Query().Get("state"), state)
	}
	return back.Query().Get("code")
}

func person(email string, verified bool, extra ...any) map[string]any {
	c := map[string]any{"sub": "sub-" + email, "email": email, "email_verified": verified}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

// exchange logs person in and trades the code.
func exchange(t *testing.T, idp *oidctest.Provider, p extauth.Provider, who map[string]any) (extauth.Identity, error) {
	t.Helper()
	idp.LogIn(who)
	verifier := oauth2.GenerateVerifier()
	code := schoolLogIn(t, p, "state-1", verifier)
	return p.Exchange(context.Background(), code, verifier)
}

func TestOIDCAuthCodeURLUsesPKCEAndANonce(t *testing.T) {
	_, p := school(t, nil)
	if p.ID() != "oidc" || p.Title() != "Log in with school account" {
		t.Errorf("ID %q, Title %q", p.ID(), p.Title())
	}
	verifier := oauth2.GenerateVerifier()
	u, err := url.Parse(p.AuthCodeURL("the-state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) {
		t.Errorf("no S256 PKCE challenge in %s", u)
	}
	if n := q.Get("nonce"); n == "" || n == q.Get("code_challenge") || strings.Contains(u.String(), verifier) {
		t.Errorf("nonce %q: want one derived from, but not revealing, the verifier", n)
	}
	if q.Get("redirect_uri") != oidcCallback || q.Get("state") != "the-state" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorize URL %s", u)
	}
	if strings.Contains(u.String(), oidcSecret) {
		t.Error("the authorize URL, which the browser sees, holds the client oidcSecret")
	}
}

func TestOIDCLetsInWhomTheSettingsAllow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*config.OIDC)
		who    map[string]any
		want   extauth.Identity
		tamper func(map[string]any)
	}{
		{"allowed domain, named by e-mail", nil,
			person("Alice@School.Example", true), extauth.Identity{Name: "alice@school.example"}, nil},
		{"allowed group, named by preferred_username", func(c *config.OIDC) {
			c.AllowedDomains, c.AllowedGroups, c.UsernameClaim = nil, []string{"class-7b"}, "preferred_username"
		}, person("bob@gmail.example", false, "preferred_username", "Bob", "groups", []any{"sports", "class-7b"}),
			extauth.Identity{Name: "bob"}, nil},
		{"groups under another claim, as one string", func(c *config.OIDC) {
			c.AllowedDomains, c.AllowedGroups, c.GroupsClaim, c.UsernameClaim = nil, []string{"class-7b"}, "roles", "sub"
		}, person("carol@elsewhere.example", false, "roles", "class-7b"), extauth.Identity{Name: "sub-carol@elsewhere.example"}, nil},
		{"admin by group", func(c *config.OIDC) { c.AdminGroups = []string{"staff"} },
			person("teacher@school.example", true, "groups", []any{"staff"}), extauth.Identity{Name: "teacher@school.example", Admin: true}, nil},
		{"admin by name, outside the allowed domain", func(c *config.OIDC) { c.AdminUsers = []string{"Head@Other.Example"} },
			person("head@other.example", true), extauth.Identity{Name: "head@other.example", Admin: true}, nil},
		{"token for several clients, issued to classhub", nil, person("erin@school.example", true), extauth.Identity{Name: "erin@school.example"},
			func(c map[string]any) { c["aud"], c["azp"] = []string{"other-app", "classhub"}, "classhub" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp, p := school(t, tc.edit)
			idp.Tamper(tc.tamper)
			got, err := exchange(t, idp, p, tc.who)
			if err != nil || got != tc.want {
				t.Fatalf("Exchange = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestOIDCRefusesBadAnswers plays a provider, or someone in between, that
// sends what must not let anyone in. Every refusal is a sentence; the
// ones about who the person is wrap ErrNotAllowed.
func TestOIDCRefusesBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(*config.OIDC)
		who        map[string]any
		tamper     func(map[string]any)
		forge      bool
		want       string
		notAllowed bool
	}{
		{name: "token for another client", tamper: func(c map[string]any) { c["aud"] = "other-app" },
			want: "could not be verified"},
		{name: "token for several clients, issued to another", tamper: func(c map[string]any) { c["aud"] = []string{"classhub", "other-app"} },
			want: "issued to another application"},
		{name: "token issued to another client", tamper: func(c map[string]any) { c["azp"] = "other-app" },
			want: "issued to another application"},
		{name: "token from another issuer", tamper: func(c map[string]any) { c["iss"] = "https://evil.example" },
			want: "could not be verified"},
		{name: "expired token", tamper: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
			want: "could not be verified"},
		{name: "signed with a key the provider does not publish", forge: true,
			want: "could not be verified"},
		{name: "nonce of another login", tamper: func(c map[string]any) { c["nonce"] = "another-attempt" },
			want: "belongs to another login attempt"},
		{name: "no nonce", tamper: func(c map[string]any) { delete(c, "nonce") },
			want: "belongs to another login attempt"},
		{name: "unverified e-mail at an allowed domain", who: person("mallory@school.example", false),
			want: "until the school login has verified that e-mail address", notAllowed: true},
		{name: "unverified e-mail at an allowed domain, named otherwise", edit: func(c *config.OIDC) { c.UsernameClaim = "preferred_username" },
			who:  person("mallory@school.example", false, "preferred_username", "alice"),
			want: "mallory@school.example is not allowed to log in to this hub until the school login has verified", notAllowed: true},
		{name: "e-mail_verified missing, naming by e-mail", edit: func(c *config.OIDC) { c.AllowedGroups = []string{"class-7b"} },
			who:  map[string]any{"sub": "x", "email": "mallory@school.example", "groups": []any{"class-7b"}},
			want: "until the school login has verified", notAllowed: true},
		{name: "domain not allowed", who: person("eve@gmail.example", true),
			want: "eve@gmail.example is not allowed to log in to this hub: this class lets in e-mail addresses at school.example", notAllowed: true},
		{name: "an address that is only the domain", who: person("school.example", true),
			want: "not allowed", notAllowed: true},
		{name: "look-alike domain", who: person("eve@evilschool.example", true),
			want: "not allowed", notAllowed: true},
		{name: "group not allowed", edit: func(c *config.OIDC) {
			c.AllowedDomains, c.AllowedGroups, c.UsernameClaim = nil, []string{"class-7b"}, "preferred_username"
		}, who: person("dan@school.example", true, "preferred_username", "dan", "groups", []any{"class-7a"}),
			want: "dan is not allowed to log in to this hub: this class lets in members of class-7b", notAllowed: true},
		{name: "no groups claim at all", edit: func(c *config.OIDC) { c.AllowedDomains, c.AllowedGroups = nil, []string{"class-7b"} },
			who: person("dan@school.example", true), want: "not allowed", notAllowed: true},
		{name: "missing username claim", edit: func(c *config.OIDC) { c.UsernameClaim = "preferred_username" },
			who: person("alice@school.example", true), want: `its answer has no "preferred_username"`},
		{name: "username claim not a string", edit: func(c *config.OIDC) { c.UsernameClaim = "preferred_username" },
			who: person("alice@school.example", true, "preferred_username", []any{"admin"}), want: "did not say who you are"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp, p := school(t, tc.edit)
			idp.Tamper(tc.tamper)
			idp.ForgeSignature(tc.forge)
			who := tc.who
			if who == nil {
				who = person("alice@school.example", true)
			}
			got, err := exchange(t, idp, p, who)
			if err == nil {
				t.Fatalf("Exchange let in %+v", got)
			}
			if !strings.Contains(err.Error(), tc.want) || errors.Is(err, extauth.ErrNotAllowed) != tc.notAllowed {
				t.Errorf("Exchange error %q (not allowed: %v), want %q (not allowed: %v)", err, errors.Is(err, extauth.ErrNotAllowed), tc.want, tc.notAllowed)
			}
			if got != (extauth.Identity{}) {
				t.Errorf("a refused Exchange returned %+v", got)
			}
			if strings.Contains(err.Error(), oidcSecret) {
				t.Errorf("the error shows the client oidcSecret: %v", err)
			}
		})
	}
}

// TestOIDCRefusesBadCodes tries codes the token endpoint refuses with 400:
// made up, replayed, or sent with another login's PKCE verifier, as an
// attacker who injects their own code into someone's oidcCallback would.
func TestOIDCRefusesBadCodes(t *testing.T) {
	idp, p := school(t, nil)
	idp.LogIn(person("alice@school.example", true))
	ctx := context.Background()
	want := "did not accept this login's code"

	if _, err := p.Exchange(ctx, "made-up-code", oauth2.GenerateVerifier()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("made-up code: %v", err)
	}
	verifier := oauth2.GenerateVerifier()
	code := schoolLogIn(t, p, "s", verifier)
	if _, err := p.Exchange(ctx, code, oauth2.GenerateVerifier()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("code with another login's verifier: %v", err)
	}
	code = schoolLogIn(t, p, "s", verifier)
	if id, err := p.Exchange(ctx, code, verifier); err != nil || id.Name != "alice@school.example" {
		t.Fatalf("good code: %+v, %v", id, err)
	}
	if _, err := p.Exchange(ctx, code, verifier); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("replayed code: %v", err)
	}
	if n := idp.Granted(); n != 1 {
		t.Errorf("the provider issued %d ID tokens, want only the good code's", n)
	}
}

func TestOIDCWrongClientSecretIsRefusedWithoutShowingIt(t *testing.T) {
	idp := oidctest.New(t, "classhub", "the-real-oidcSecret")
	p, err := extauth.NewOIDC(context.Background(), config.OIDC{Issuer: idp.Issuer, ClientID: "classhub", ClientSecret: oidcSecret,
		AllowedDomains: []string{"school.example"}}, oidcCallback)
	if err != nil {
		t.Fatal(err)
	}
	_, err = exchange(t, idp, p, person("alice@school.example", true))
	if err == nil || !strings.Contains(err.Error(), "did not accept") || strings.Contains(err.Error(), oidcSecret) {
		t.Errorf("wrong client oidcSecret: %v", err)
	}
}

func TestNewOIDCSaysWhatToCheckWhenTheIssuerIsDown(t *testing.T) {
	idp := oidctest.New(t, "classhub", oidcSecret)
	issuer := idp.Issuer
	idp.Close()
	_, err := extauth.NewOIDC(context.Background(), config.OIDC{Issuer: issuer, ClientID: "classhub", ClientSecret: oidcSecret}, oidcCallback)
	if err == nil {
		t.Fatal("NewOIDC succeeded with the issuer down")
	}
	for _, want := range []string{"did not answer as an OpenID Connect provider", "check the oidc issuer setting",
		issuer + "/.well-known/openid-configuration"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("NewOIDC error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), oidcSecret) {
		t.Errorf("the error shows the client oidcSecret: %v", err)
	}
}

func TestNewOIDCRefusesAnIssuerThatNamesAnother(t *testing.T) {
	idp := oidctest.New(t, "classhub", oidcSecret)
	// The discovery document says its issuer is 127.0.0.1:port; the same
	// provider reached as localhost is another issuer to OpenID Connect.
	other := strings.Replace(idp.Issuer, "127.0.0.1", "localhost", 1)
	if _, err := extauth.NewOIDC(context.Background(), config.OIDC{Issuer: other, ClientID: "classhub"}, oidcCallback); err == nil ||
		!strings.Contains(err.Error(), "check the oidc issuer setting") {
		t.Errorf("NewOIDC with a mismatched issuer: %v", err)
	}
}
