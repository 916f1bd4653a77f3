package core

import (
	"context"
	"slices"
	"testing"
)

// TestServerCredentialsScopes: a server's token is JupyterHub's "server"
// role for its owner, and its OAuth client lets visitors into it alone.
func TestServerCredentialsScopes(t *testing.T) {
	f := newFixture(t, "alice")
	f.hub.Boot(context.Background())
	f.mustStart(t, "alice")
	toks := serverTokens(t, f, "alice")
	if want := []string{"users:activity!user=alice", "access:servers!user=alice"}; len(toks) != 1 || !slices.Equal(toks[0].Scopes, want) {
		t.Errorf("server tokens %+v, want one with %q", toks, want)
	}
	c, err := f.store.GetOAuthClient(context.Background(), OAuthClientID("alice"))
	if want := []string{"access:servers!server=alice/"}; err != nil || !slices.Equal(c.AllowedScopes, want) {
		t.Errorf("OAuth client %+v, %v; want allowed scopes %q", c, err, want)
	}
}
