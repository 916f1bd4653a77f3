package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

func TestAppRedirect(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:49152/callback", "http://127.0.0.1:1/callback", "http://[::1]:8080/callback"} {
		if !AppRedirect(ok) {
			t.Errorf("AppRedirect(%q) = false", ok)
		}
	}
	for _, bad := range []string{
		"http://localhost:49152/callback", "https://127.0.0.1:49152/callback", "http://127.0.0.1/callback",
		"http://127.0.0.1:49152/", "http://127.0.0.1:49152/callback/", "http://127.0.0.1:49152/other",
		"http://127.0.0.1:49152/callback?next=http://evil.test", "http://127.0.0.1:49152/callback#x",
		"http://evil.test@127.0.0.1:49152/callback", "http://127.0.0.1:49152@evil.test/callback",
		"http://127.0.0.2:49152/callback", "http://0x7f000001:49152/callback", "http://127.1:49152/callback",
		"http://[::ffff:127.0.0.1]:49152/callback", "http://127.0.0.1:049152/callback", "http://127.0.0.1:0/callback",
		"http://127.0.0.1:70000/callback", "http://evil.test/callback", "http://127.0.0.1:49152/%63allback",
		"http://127.0.0.1:49152/a/../callback", "//127.0.0.1:49152/callback", "",
	} {
		if AppRedirect(bad) {
			t.Errorf("AppRedirect(%q) = true", bad)
		}
	}
}

func TestPKCE(t *testing.T) {
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if !ValidChallenge("S256", challenge) || ValidChallenge("plain", challenge) || ValidChallenge("S256", "") || ValidChallenge("", challenge) ||
		ValidChallenge("S256", challenge+"=") {
		t.Error("ValidChallenge takes what it should not, or refuses an S256 challenge")
	}
	if !VerifierMatches(challenge, verifier) {
		t.Error("the verifier does not match its own challenge")
	}
	for _, bad := range []string{"", challenge, strings.Repeat("v", 44), strings.Repeat("v", 42)} {
		if VerifierMatches(challenge, bad) {
			t.Errorf("verifier %q matched", bad)
		}
	}
}

func TestAppScopesAreTheUsersOwnServerOnly(t *testing.T) {
	got := AppScopes("alice")
	for _, s := range got {
		if !strings.HasSuffix(s, "!user=alice") && !strings.HasSuffix(s, "!server=alice/") {
			t.Errorf("scope %q is not filtered to alice", s)
		}
		if strings.HasPrefix(s, "admin") || strings.HasPrefix(s, "tokens") || strings.HasPrefix(s, "users") {
			t.Errorf("scope %q is more than the app needs", s)
		}
	}
	if !slices.Contains(got, "servers!user=alice") {
		t.Errorf("AppScopes(alice) = %v, cannot start alice's server", got)
	}
}
