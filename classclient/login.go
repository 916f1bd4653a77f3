package classclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// AppClientID is the OAuth client id a class hub registers the desktop app
// under: a public client (no secret), loopback redirects only, PKCE S256.
const AppClientID = "classhub-desktop"

// LoginTimeout bounds a browser login whose context has no deadline: long
// enough to type a password, short enough that a forgotten tab does not
// keep a port open.
const LoginTimeout = 5 * time.Minute

// Login logs the app in to the hub of link (see Normalize) through the
// browser, as native apps do (RFC 8252, with PKCE S256 from RFC 7636); see
// (*Client).Login.
func Login(ctx context.Context, link string, open func(url string) error) (Token, error) {
	hub, err := Normalize(link)
	if err != nil {
		return Token{}, err
	}
	return New(hub, Token{}).Login(ctx, open)
}

// Paste checks a token the learner pasted from the token page of the hub
// of link (see Normalize); see (*Client).Paste.
func Paste(ctx context.Context, link, secret string) (Token, error) {
	hub, err := Normalize(link)
	if err != nil {
		return Token{}, err
	}
	return New(hub, Token{}).Paste(ctx, secret)
}

// Paste checks secret against the hub and returns it as a Token with its
// user, scopes and, where the hub tells it, its id. It is how a stock
// JupyterHub, which has no client for the app, is joined. A hub that does
// not tell a token its own id (JupyterHub before 5) could not be asked to
// revoke it later: there Paste has the hub make the app a token of its own
// (note "classhub app"), for the user's own servers and tokens only, and
// returns that one with Minted set; the pasted token is no longer needed.
// Where the pasted token may not make tokens, it is returned as it is.
func (c *Client) Paste(ctx context.Context, secret string) (Token, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Token{}, &Error{Kind: Other, Hub: c.Hub, Detail: "the pasted token is empty: copy it from " + c.Hub + "/hub/token"}
	}
	tok, err := c.adopt(ctx, Token{Secret: secret})
	if err != nil || tok.ID != "" {
		return tok, err
	}
	cc := *c
	cc.tok = tok
	var made struct {
		Token  string   `json:"token"`
		ID     string   `json:"id"`
		Scopes []string `json:"scopes"`
	}
	n := tok.User
	body := map[string]any{"note": MintNote, "scopes": []string{"servers!user=" + n, "read:servers!user=" + n,
		"access:servers!user=" + n, "tokens!user=" + n}}
	if err := cc.do(ctx, http.MethodPost, "/hub/api/users/"+url.PathEscape(n)+"/tokens", body, &made); err != nil || made.Token == "" || made.ID == "" {
		return tok, nil
	}
	return Token{Secret: made.Token, ID: made.ID, User: n, Scopes: made.Scopes, Minted: true}, nil
}

// MintNote is the note on the token Paste has a hub make for the app.
const MintNote = "classhub app"

// adopt fills tok's user, id and scopes from the hub's answer to it.
func (c *Client) adopt(ctx context.Context, tok Token) (Token, error) {
	cc := *c
	cc.tok = tok
	u, err := cc.Whoami(ctx)
	if err != nil {
		return Token{}, err
	}
	tok.User, tok.Scopes = u.Name, u.Scopes
	if tok.ID == "" {
		tok.ID = u.TokenID
	}
	return tok, nil
}

// Login logs the app in through the browser. It listens on a free port of
// 127.0.0.1, calls open with the hub's authorization page for AppClientID,
// with a random state and a PKCE S256 challenge, and waits for the hub to
// send the browser back to http://127.0.0.1:PORT/callback. It then trades
// the code, with the verifier only the app knows, for a token at the hub's
// token endpoint. An answer whose state is not this login's is refused and
// the wait goes on. A hub that does not offer the app's client (a stock
// JupyterHub) is an error of kind NoAppLogin, before any browser opens; a
// denial, a closed tab (after LoginTimeout, when ctx has no deadline of
// its own) or a cancelled ctx is one of kind Denied.
func (c *Client) Login(ctx context.Context, open func(url string) error) (Token, error) {
	if err := c.offersApp(ctx); err != nil {
		return Token{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, LoginTimeout)
		defer cancel()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Token{}, fmt.Errorf("log in to %s: listen for the browser's answer on this computer: %w", c.Hub, err)
	}
	defer l.Close()
	redirect := "http://" + l.Addr().String() + "/callback"
	state, verifier := randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {AppClientID},
		"response_type":         {"code"},
		"redirect_uri":          {redirect},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	type answer struct{ code, err string }
	answers := make(chan answer, 1)
	var answered atomic.Bool
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		f := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(f.Get("state")), []byte(state)) != 1 {
			// Not this login's answer: a page elsewhere may have sent the
			// browser here with a code of its own choosing.
			donePage(w, http.StatusBadRequest, "This answer does not belong to the login the classhub app started. Go back to the app.")
			return
		}
		a := answer{code: f.Get("code"), err: f.Get("error")}
		if a.code == "" && a.err == "" {
			a.err = "no code"
		}
		if !answered.CompareAndSwap(false, true) {
			donePage(w, http.StatusConflict, "The classhub app already has its answer. You can close this tab.")
			return
		}
		// The page first: Login shuts this server down once it has the
		// answer.
		if a.err != "" {
			donePage(w, http.StatusOK, "The classhub app was not let in. You can close this tab.")
		} else {
			donePage(w, http.StatusOK, "The classhub app is logged in. You can close this tab.")
		}
		answers <- a
	})}
	go srv.Serve(l)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := open(c.Hub + "/hub/api/oauth2/authorize?" + q.Encode()); err != nil {
		return Token{}, fmt.Errorf("log in to %s: open the browser: %w", c.Hub, err)
	}
	var a answer
	select {
	case a = <-answers:
	case <-ctx.Done():
		return Token{}, &Error{Kind: Denied, Hub: c.Hub, Detail: "no answer came from the browser", Err: ctx.Err()}
	}
	if a.err != "" {
		return Token{}, &Error{Kind: Denied, Hub: c.Hub, Detail: "the hub answered " + a.err}
	}
	tok, err := c.exchange(ctx, a.code, redirect, verifier)
	if err != nil {
		return Token{}, err
	}
	return c.adopt(ctx, tok)
}

// offersApp is nil if the hub says it has the app's OAuth client: classhub
// names it in GET /hub/api; JupyterHub's answer has only its version.
func (c *Client) offersApp(ctx context.Context) error {
	var root struct {
		Version       string `json:"version"`
		DesktopClient string `json:"desktop_client"`
	}
	cc := *c
	cc.tok = Token{}
	if err := cc.do(ctx, http.MethodGet, "/hub/api", nil, &root); err != nil {
		return err
	}
	if root.Version == "" {
		return &Error{Kind: NotHub, Hub: c.Hub, Detail: "its API names no version"}
	}
	if root.DesktopClient != AppClientID {
		return &Error{Kind: NoAppLogin, Hub: c.Hub, Detail: "it is JupyterHub " + root.Version + ", which has no client for the app"}
	}
	return nil
}

// exchange trades an authorization code and its verifier for a token.
func (c *Client) exchange(ctx context.Context, code, redirect, verifier string) (Token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirect},
		"client_id":     {AppClientID},
		"code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Hub+"/hub/api/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, &Error{Kind: Other, Hub: c.Hub, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Token{}, &Error{Kind: Unreachable, Hub: c.Hub, Detail: netDetail(err), Err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(data, &out) != nil {
		return Token{}, c.classify(resp, data)
	}
	if resp.StatusCode >= 500 {
		return Token{}, &Error{Kind: HubFailed, Hub: c.Hub, Status: resp.StatusCode, Detail: out.Description}
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return Token{}, &Error{Kind: Refused, Hub: c.Hub, Status: resp.StatusCode, Detail: strings.TrimSpace(out.Error + ": " + out.Description)}
	}
	tok := Token{Secret: out.AccessToken, Scopes: strings.Fields(out.Scope)}
	if out.ExpiresIn > 0 {
		tok.Expires = time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)
	}
	return tok, nil
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// donePage answers the browser at the end of a login with a sentence.
func donePage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>classhub</title><p style=\"font:1.2em sans-serif;margin:3em\">%s</p>\n", msg)
}
