package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/url"
	"regexp"
	"strconv"

	"github.com/classhub/classhub/hub/scopes"
)

// AppClientID is the OAuth client of the classhub app on a learner's
// computer: a public client (RFC 8252), which has no secret, may be sent
// back only to a loopback address, and proves with PKCE S256 (RFC 7636)
// that the token request comes from whoever started the login.
const AppClientID = "classhub-desktop"

// AppRedirect reports whether uri is one the app may be sent back to:
// http://127.0.0.1:PORT/callback or http://[::1]:PORT/callback, any port
// (RFC 8252 §7.3: the app listens on whatever port is free), nothing else.
// Not the name localhost, which a hosts file or resolver can point
// elsewhere (§8.3); no user info, query or fragment that could smuggle the
// code somewhere else.
func AppRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery ||
		u.Opaque != "" || u.Path != "/callback" || u.RawPath != "" {
		return false
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || (host != "127.0.0.1" && host != "::1") {
		return false
	}
	// The host as written: "127.0.0.1" or "[::1]", never another spelling
	// of either.
	if u.Host != net.JoinHostPort(host, port) {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536 && strconv.Itoa(n) == port
}

// challengeForm is an S256 challenge: base64url of 32 bytes, no padding.
var challengeForm = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ValidChallenge reports whether method and challenge are a PKCE request
// the hub takes: S256 only, since plain would hand the verifier to
// whoever sees the authorization request.
func ValidChallenge(method, challenge string) bool {
	return method == "S256" && challengeForm.MatchString(challenge)
}

// VerifierMatches reports whether verifier is the one challenge was made
// from (RFC 7636 §4.6).
func VerifierMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// AppScopes is what the app's token for user may do: start, stop and read
// the state of user's own servers, use their default server, and know who
// they are. Nothing else, whoever user is: no admin scope even for an
// admin, no other user, no tokens (but its own deletion, which the API
// allows every token).
func AppScopes(user string) []string {
	return append([]string{"servers!user=" + user, "read:servers!user=" + user, scopes.ServerAccessScope(user, "")},
		scopes.IdentifyScopes(user)...)
}
