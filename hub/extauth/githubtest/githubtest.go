// Package githubtest is a stand-in for GitHub's OAuth and API endpoints,
// enough to log in: authorize (which logs in whoever the test chose and
// sends the browser straight back), the token endpoint with PKCE, /user
// and the organization and team membership checks.
package githubtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/classhub/classhub/hub/config"
)

// Client credentials of the stand-in's one OAuth app.
const (
	ClientID     = "Iv1.classhub-test"
	ClientSecret = "githubtest-client-secret"
)

// Server is the stand-in.
type Server struct {
	*httptest.Server

	mu      sync.Mutex
	as      string              // who the authorize page logs in
	members map[string][]string // "org" or "org:team" -> logins
	codes   map[string]grant
	tokens  map[string]string // access token -> login
	fail    int
	scope   string
	calls   map[string]int
}

type grant struct {
	login, challenge, redirect string
}

// New starts a stand-in; it stops with the test's cleanup.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{members: map[string][]string{}, codes: map[string]grant{}, tokens: map[string]string{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.token)
	mux.HandleFunc("GET /user", s.user)
	mux.HandleFunc("GET /orgs/{org}/members/{login}", s.member)
	mux.HandleFunc("GET /orgs/{org}/teams/{team}/members/{login}", s.member)
	s.Server = httptest.NewServer(s.failing(mux))
	t.Cleanup(s.Close)
	return s
}

// Settings are [github] settings that point at the stand-in; the
// allow-lists are the caller's.
func (s *Server) Settings() config.GitHub {
	return config.GitHub{ClientID: ClientID, ClientSecret: ClientSecret,
		AuthorizeURL: s.URL + "/login/oauth/authorize", TokenURL: s.URL + "/login/oauth/access_token", APIURL: s.URL}
}

// LogInAs makes the authorize page log in login (as GitHub spells it).
func (s *Server) LogInAs(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.as = login
}

// AddMember puts login in org ("org" or "org:team").
func (s *Server) AddMember(org, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[org] = append(s.members[org], login)
}

// Fail makes every endpoint answer status; 0 heals it.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = status
}

// Scope is the scope the last authorize request asked for.
func (s *Server) Scope() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scope
}

// Calls counts the requests to a path pattern such as
// "POST /login/oauth/access_token".
func (s *Server) Calls(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[pattern]
}

func (s *Server) failing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.Method+" "+r.URL.Path]++
		fail := s.fail
		s.mu.Unlock()
		if fail != 0 {
			http.Error(w, "stand-in failing on purpose", fail)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != ClientID || q.Get("redirect_uri") == "" || q.Get("state") == "" {
		http.Error(w, "unknown client, or no redirect_uri or state", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE with S256 expected", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.scope = q.Get("scope")
	login := s.as
	code := secret()
	s.codes[code] = grant{login: login, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	s.mu.Unlock()
	if login == "" {
		http.Error(w, "the test chose nobody to log in", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token answers as GitHub does: 200 with an error field for a bad code.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	answer := func(v url.Values) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte(v.Encode()))
	}
	if r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		answer(url.Values{"error": {"incorrect_client_credentials"}})
		return
	}
	s.mu.Lock()
	code := r.PostForm.Get("code")
	g, ok := s.codes[code]
	delete(s.codes, code) // a code works once
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		answer(url.Values{"error": {"bad_verification_code"}})
		return
	}
	tok := secret()
	s.mu.Lock()
	s.tokens[tok] = g.login
	s.mu.Unlock()
	answer(url.Values{"access_token": {tok}, "token_type": {"bearer"}, "scope": {s.Scope()}})
}

// login is the holder of the request's access token, "" for none.
func (s *Server) login(r *http.Request) string {
	kind, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(kind, "bearer") && !strings.EqualFold(kind, "token") {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	login := s.login(r)
	if login == "" {
		http.Error(w, `{"message":"Requires authentication"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"login":"` + login + `","id":1,"name":null}`))
}

func (s *Server) member(w http.ResponseWriter, r *http.Request) {
	if s.login(r) == "" {
		http.Error(w, `{"message":"Requires authentication"}`, http.StatusUnauthorized)
		return
	}
	org := r.PathValue("org")
	if team := r.PathValue("team"); team != "" {
		org += ":" + team
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.members[org] {
		if strings.EqualFold(m, r.PathValue("login")) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

func secret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
