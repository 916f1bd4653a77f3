package extauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/extauth"
	"github.com/classhub/classhub/hub/extauth/githubtest"
)

const callback = "https://hub.test/hub/oauth_callback"

// authorize goes to the provider's login page as a browser would and
// returns the code it sends back.
func authorize(t *testing.T, p extauth.Provider, verifier string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(p.AuthCodeURL("the-state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), callback+"?") || back.Query().Get("state") != "the-state" {
		t.Fatalf("authorize: %d to %q", resp.StatusCode, back)
	}
	return back.Query().Get("code")
}

func logIn(t *testing.T, gh *githubtest.Server, settings func(*config.GitHub), as string) (extauth.Identity, error) {
	t.Helper()
	cfg := gh.Settings()
	settings(&cfg)
	p := extauth.NewGitHub(cfg, callback)
	gh.LogInAs(as)
	v := oauth2.GenerateVerifier()
	return p.Exchange(context.Background(), authorize(t, p, v), v)
}

func TestGitHubAllowLists(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddMember("maths", "Carol")
	gh.AddMember("school:year-9", "Dan")
	gh.AddMember("school", "Erin")
	lists := func(c *config.GitHub) {
		c.AllowedUsers = []string{"ALICE"}
		c.AdminUsers = []string{"Teacher"}
		c.AllowedOrganizations = []string{"maths", "school:year-9"}
	}
	tests := []struct {
		login string
		want  extauth.Identity
		deny  bool
	}{
		{"Alice", extauth.Identity{Name: "alice"}, false},
		{"teacher", extauth.Identity{Name: "teacher", Admin: true}, false},
		{"Carol", extauth.Identity{Name: "carol"}, false},
		{"Dan", extauth.Identity{Name: "dan"}, false},
		// In the organization but not in the allowed team.
		{"Erin", extauth.Identity{}, true},
		{"mallory", extauth.Identity{}, true},
	}
	for _, tt := range tests {
		id, err := logIn(t, gh, lists, tt.login)
		if tt.deny {
			if !errors.Is(err, extauth.ErrNotAllowed) || !strings.Contains(err.Error(), tt.login) {
				t.Errorf("%s: %+v, %v; want not allowed", tt.login, id, err)
			}
			continue
		}
		if err != nil || id != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.login, id, err, tt.want)
		}
	}
	if got := gh.Scope(); got != "read:user read:org" {
		t.Errorf("scope %q; want read:user read:org when organizations are allowed", got)
	}
	logIn(t, gh, func(c *config.GitHub) { c.AllowedUsers = []string{"alice"} }, "alice")
	if got := gh.Scope(); got != "read:user" {
		t.Errorf("scope %q; want read:user alone without organizations", got)
	}
}

func TestGitHubRefusesBadCodes(t *testing.T) {
	gh := githubtest.New(t)
	cfg := gh.Settings()
	cfg.AllowedUsers = []string{"alice"}
	p := extauth.NewGitHub(cfg, callback)
	gh.LogInAs("alice")
	ctx := context.Background()

	v := oauth2.GenerateVerifier()
	code := authorize(t, p, v)
	if _, err := p.Exchange(ctx, code, oauth2.GenerateVerifier()); err == nil || !strings.Contains(err.Error(), "bad_verification_code") {
		t.Errorf("another verifier: %v", err)
	}
	if _, err := p.Exchange(ctx, "made-up", v); err == nil {
		t.Error("a made-up code logged in")
	}
	code = authorize(t, p, v)
	if id, err := p.Exchange(ctx, code, v); err != nil || id.Name != "alice" {
		t.Fatalf("first use: %+v, %v", id, err)
	}
	if _, err := p.Exchange(ctx, code, v); err == nil {
		t.Error("a code worked twice")
	}

	wrong := cfg
	wrong.ClientSecret = "guessed"
	if _, err := extauth.NewGitHub(wrong, callback).Exchange(ctx, authorize(t, p, v), v); err == nil || strings.Contains(err.Error(), "guessed") {
		t.Errorf("a wrong client secret: %v", err)
	}
}

func TestGitHubDown(t *testing.T) {
	gh := githubtest.New(t)
	cfg := gh.Settings()
	cfg.AllowedOrganizations = []string{"maths"}
	gh.AddMember("maths", "alice")
	gh.LogInAs("alice")
	p := extauth.NewGitHub(cfg, callback)
	v := oauth2.GenerateVerifier()
	code := authorize(t, p, v)
	gh.Fail(http.StatusInternalServerError)
	_, err := p.Exchange(context.Background(), code, v)
	if err == nil || errors.Is(err, extauth.ErrNotAllowed) || !strings.Contains(err.Error(), "500") {
		t.Errorf("GitHub answering 500: %v", err)
	}
	gh.Close()
	if _, err := p.Exchange(context.Background(), code, v); err == nil || !strings.Contains(err.Error(), "could not be reached") {
		t.Errorf("GitHub gone: %v", err)
	}
}
