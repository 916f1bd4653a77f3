package extauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/classhub/classhub/hub/config"
)

// GitHub's own endpoints, used when the settings name none.
const (
	gitHubAuthorizeURL = "https://github.com/login/oauth/authorize"
	gitHubTokenURL     = "https://github.com/login/oauth/access_token"
	gitHubAPIURL       = "https://api.github.com"
)

// gitHubTimeout bounds one login's calls to GitHub, so a slow GitHub
// holds no request for long.
const gitHubTimeout = 15 * time.Second

// gitHub logs people in with GitHub as JupyterHub's GitHubOAuthenticator
// does: the login from /user, lower-cased, is the name; allowed_users,
// admin_users and the members of allowed_organizations get in.
type gitHub struct {
	oauth  oauth2.Config
	api    string
	users  []string // lower-cased, allowed_users and admin_users
	admins []string // lower-cased
	orgs   []string // "org" or "org:team"
	client *http.Client
}

// NewGitHub returns the GitHub login of cfg, whose callback is callbackURL
// (the hub's /hub/oauth_callback unless cfg names one).
func NewGitHub(cfg config.GitHub, callbackURL string) Provider {
	g := &gitHub{
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: string(cfg.ClientSecret),
			Endpoint: oauth2.Endpoint{AuthURL: cmp.Or(cfg.AuthorizeURL, gitHubAuthorizeURL), TokenURL: cmp.Or(cfg.TokenURL, gitHubTokenURL),
				AuthStyle: oauth2.AuthStyleInParams},
			RedirectURL: cmp.Or(cfg.CallbackURL, callbackURL),
			// read:user is enough for /user; read:org lets the membership
			// check see private members, not only public ones.
			Scopes: []string{"read:user"},
		},
		api:    strings.TrimSuffix(cmp.Or(cfg.APIURL, gitHubAPIURL), "/"),
		orgs:   cfg.AllowedOrganizations,
		client: &http.Client{Timeout: gitHubTimeout},
	}
	if len(g.orgs) > 0 {
		g.oauth.Scopes = append(g.oauth.Scopes, "read:org")
	}
	for _, u := range cfg.AdminUsers {
		g.admins = append(g.admins, strings.ToLower(u))
	}
	for _, u := range cfg.AllowedUsers {
		g.users = append(g.users, strings.ToLower(u))
	}
	g.users = append(g.users, g.admins...)
	return g
}

func (g *gitHub) ID() string    { return "github" }
func (g *gitHub) Title() string { return "Log in with GitHub" }

func (g *gitHub) AuthCodeURL(state, verifier string) string {
	return g.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

func (g *gitHub) Exchange(ctx context.Context, code, verifier string) (Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, gitHubTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, g.client)
	tok, err := g.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("GitHub did not accept this login (%s): start again from the login page", oauthReason(err))
	}
	client := g.oauth.Client(ctx, tok)
	var user struct {
		Login string `json:"login"`
	}
	if status, err := g.get(client, "/user", &user); err != nil || status != http.StatusOK || user.Login == "" {
		return Identity{}, fmt.Errorf("GitHub did not say who you are (%s): try again in a minute", reason(status, err))
	}
	login := strings.ToLower(user.Login)
	id := Identity{Name: login, Admin: slices.Contains(g.admins, login)}
	if slices.Contains(g.users, login) {
		return id, nil
	}
	for _, org := range g.orgs {
		ok, err := g.member(client, org, user.Login)
		if err != nil {
			return Identity{}, err
		}
		if ok {
			return id, nil
		}
	}
	return Identity{}, fmt.Errorf("the GitHub account %s is %w: ask your teacher to add it", user.Login, ErrNotAllowed)
}

// member reports whether login belongs to org ("org" or "org:team"): GitHub
// answers 204 for a member and 404 (or 302 to the public list) otherwise.
func (g *gitHub) member(client *http.Client, org, login string) (bool, error) {
	path := "/orgs/" + url.PathEscape(org) + "/members/" + url.PathEscape(login)
	if o, team, ok := strings.Cut(org, ":"); ok {
		path = "/orgs/" + url.PathEscape(o) + "/teams/" + url.PathEscape(team) + "/members/" + url.PathEscape(login)
	}
	status, err := g.get(client, path, nil)
	switch {
	case err != nil || status >= 500:
		return false, fmt.Errorf("GitHub did not say whether you belong to %s (%s): try again in a minute", org, reason(status, err))
	case status == http.StatusNoContent:
		return true, nil
	}
	return false, nil
}

// get calls GitHub's API and decodes a JSON answer into v when v is not nil.
// Redirects are not followed: a membership answer of 302 means "no".
func (g *gitHub) get(client *http.Client, path string, v any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, g.api+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	if v == nil || resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, body)
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(body).Decode(v)
}

// reason says in a few words why a call to GitHub failed, without the
// URL (which can carry the code).
func reason(status int, err error) string {
	var uerr *url.Error
	switch {
	case errors.As(err, &uerr) && uerr.Timeout():
		return "it did not answer in time"
	case errors.As(err, &uerr):
		return "it could not be reached"
	case err != nil:
		return "its answer was not understood"
	case status != 0:
		return fmt.Sprintf("it answered %d %s", status, http.StatusText(status))
	}
	return "its answer had no login"
}

// oauthReason says why the token endpoint refused the code: GitHub sends
// "bad_verification_code" for a code that is wrong, used or expired.
func oauthReason(err error) string {
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		if rerr.ErrorCode != "" {
			return "it said " + rerr.ErrorCode
		}
		return reason(rerr.Response.StatusCode, nil)
	}
	return reason(0, err)
}
