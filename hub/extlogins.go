package hub

import (
	"context"
	"strings"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/extauth"
)

// OAuthCallbackURL is where GitHub or a school's accounts send people
// back to, which the instructor registers with them: /hub/oauth_callback
// on the class link's address, unless a provider's settings name another.
func (h *Hub) OAuthCallbackURL() string {
	return strings.TrimSuffix(h.ClassURL(), "/") + "/hub/oauth_callback"
}

// externalLogins are the logins with an account elsewhere that cfg turns
// on, in the login page's order.
func externalLogins(ctx context.Context, cfg config.Config, callback string) ([]extauth.Provider, error) {
	var providers []extauth.Provider
	if cfg.GitHub.Enabled() {
		providers = append(providers, extauth.NewGitHub(cfg.GitHub, callback))
	}
	if cfg.OIDC.Enabled() {
		// Discovery asks the issuer now: a hub whose school login cannot
		// work says so at start, rather than on a student's click.
		p, err := extauth.NewOIDC(ctx, cfg.OIDC, callback)
		if err != nil {
			return nil, err
		}
		providers = append(providers, p)
	}
	return providers, nil
}
