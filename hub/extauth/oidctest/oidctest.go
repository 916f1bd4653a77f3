// Package oidctest is an OpenID Connect provider for tests, on loopback:
// discovery, a key set, an authorize endpoint that logs in whoever the test
// says and sends the browser back with a code, and a token endpoint that
// checks the code, the client and the PKCE verifier and answers with a
// signed ID token. Tests bend its answers to play a broken or hostile
// provider.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Provider is a running test provider. Its Issuer is the issuer URL to
// configure.
type Provider struct {
	Issuer                 string
	ClientID, ClientSecret string

	srv        *httptest.Server
	key, forge *ecdsa.PrivateKey

	mu      sync.Mutex
	person  map[string]any
	tamper  func(claims map[string]any)
	forged  bool
	grants  map[string]grant
	granted int
}

// grant is what an authorization code stands for.
type grant struct {
	person           map[string]any
	redirectURI      string
	nonce, challenge string
}

// New starts a provider for the client clientID/clientSecret; it stops
// when the test ends.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	t.Helper()
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, grants: make(map[string]grant)}
	p.key = newKey(t)
	p.forge = newKey(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.Issuer = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Close stops the provider, as a provider that is down.
func (p *Provider) Close() { p.srv.Close() }

// LogIn makes the authorize endpoint log in the person with these claims
// (at least "sub"), as if they had typed their password there.
func (p *Provider) LogIn(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = maps.Clone(claims)
}

// Tamper changes every ID token's claims (iss, aud, exp, nonce...) just
// before they are signed; nil stops tampering.
func (p *Provider) Tamper(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// ForgeSignature signs ID tokens with a key that is not in the key set.
func (p *Provider) ForgeSignature(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forged = on
}

// Granted counts the ID tokens the token endpoint has issued.
func (p *Provider) Granted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.granted
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "test", Algorithm: string(jose.ES256), Use: "sig"},
	}})
}

// authorize logs in the person LogIn set and sends the browser back to the
// client with a code, as a provider does after its own login page.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || !redirect.IsAbs():
		http.Error(w, "redirect_uri is not an absolute URL", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "only the authorization code flow with scope openid is served", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	person := p.person
	code := rand.Text()
	if person != nil {
		p.grants[code] = grant{person: person, redirectURI: redirect.String(), nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	}
	p.mu.Unlock()
	if person == nil {
		http.Error(w, "oidctest: no one logs in (call LogIn)", http.StatusForbidden)
		return
	}
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token trades a code for an ID token, once, for the client it was issued
// to, with the verifier whose challenge the authorize request carried.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.grants[r.PostFormValue("code")]
	delete(p.grants, r.PostFormValue("code"))
	tamper, forged := p.tamper, p.forged
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if r.PostFormValue("grant_type") != "authorization_code" || !found || r.PostFormValue("redirect_uri") != g.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.Issuer, "aud": p.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	maps.Copy(claims, g.person)
	if tamper != nil {
		tamper(claims)
	}
	key := p.key
	if forged {
		key = p.forge
	}
	idToken, err := sign(key, claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.granted++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
	})
}

func sign(key *ecdsa.PrivateKey, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "test"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
