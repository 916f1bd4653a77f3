package classclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// Client talks to one hub with one user's token, through JupyterHub's REST
// API only. Its methods are safe for concurrent use.
type Client struct {
	// Hub is the hub's base URL, without a trailing slash
	// ("http://10.0.0.5:8000", or "https://lab.example/jupyter").
	Hub string
	// HTTP sends the requests; New sets a client without a timeout of its
	// own (every call takes a context), which a caller may replace, e.g.
	// to trust a class's own certificate authority.
	HTTP *http.Client

	tok Token
}

// New is a client of hubURL (see Normalize) acting with tok.
func New(hubURL string, tok Token) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = AnswerTimeout
	return &Client{Hub: strings.TrimRight(hubURL, "/"), HTTP: &http.Client{Transport: t}, tok: tok}
}

// AnswerTimeout is how long a hub may take to begin its answer: one that
// took the connection and never answers is unreachable, not a tray stuck
// on "checking…". It bounds only the wait for the headers, so a progress
// stream may last as long as the start.
const AnswerTimeout = 30 * time.Second

// Token is the token the client acts with.
func (c *Client) Token() Token { return c.tok }

// Normalize is the hub's base URL in a link the learner pasted: the link to
// the hub's home, login or token page, a server's page, or the bare
// address. A link without a scheme is taken as http, as a browser would.
func Normalize(link string) (string, error) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", errors.New("the class link is empty: paste the address of the hub's page, such as https://host:8000/")
	}
	if !strings.Contains(link, "://") {
		link = "http://" + link
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not a web address: paste the address of the hub's page, such as https://host:8000/", link)
	}
	// JupyterHub's pages all live under BASE/hub/ and BASE/user/.
	p := u.Path + "/"
	for _, seg := range []string{"/hub/", "/user/"} {
		if i := strings.Index(p, seg); i >= 0 {
			p = p[:i]
		}
	}
	p = strings.TrimRight(p, "/")
	// A base path is plain segments only: an encoded slash, a backslash or
	// a dot segment is one the hub's proxy may resolve, with every API
	// path under it, to a user's server (/user%2Fmallory), which would
	// then get the app's token by the redirect there.
	if p != "" && (!basePath.MatchString(p) || path.Clean(p) != p) {
		return "", fmt.Errorf("%q is not the address of a hub's page: paste the address of the hub's home page, such as https://host:8000/hub/home", link)
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// basePath is a JupyterHub base URL's path ("/jupyter"): segments of
// letters, digits and -._~, which every client reads the same way.
var basePath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// User is GET /hub/api/user's answer, as far as the app needs it.
type User struct {
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
	// Scopes are the token's scopes, as the hub lists them.
	Scopes []string `json:"scopes"`
	// TokenID is the id of the token asking (JupyterHub 5 and classhub);
	// "" where the hub does not say it.
	TokenID string `json:"token_id"`
	// Servers are the user's servers by name ("" is the default one), when
	// the token may read them.
	Servers map[string]ServerModel `json:"servers"`
	// Server and Pending are the default server's URL and pending action in
	// JupyterHub's older fields, kept by every version.
	Server  *string `json:"server"`
	Pending *string `json:"pending"`
}

// ServerModel is one server in the user model.
type ServerModel struct {
	Ready       bool      `json:"ready"`
	Pending     *string   `json:"pending"`
	URL         string    `json:"url"`
	ProgressURL string    `json:"progress_url"`
	Started     time.Time `json:"started"`
	// Stopped is false or absent for a server that exists.
	Stopped bool `json:"stopped"`
}

// State is where the user's server is.
type State string

const (
	Stopped State = "stopped"
	Pending State = "pending"
	Ready   State = "ready"
)

// Server is the state of the user's default server.
type Server struct {
	State State
	// Pending is the action under way when State is Pending: "spawn" or
	// "stop".
	Pending string
	// URL is the server's absolute address, "" when it is stopped.
	URL string
	// Started is when it was started, zero if unknown.
	Started time.Time
}

// Whoami is who the token belongs to, and what of it the hub shows.
func (c *Client) Whoami(ctx context.Context) (User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "/hub/api/user", nil, &u); err != nil {
		return User{}, err
	}
	if u.Name == "" {
		return User{}, &Error{Kind: NotHub, Hub: c.Hub, Detail: "its /hub/api/user names nobody"}
	}
	return u, nil
}

// Server is the state of the user's default server.
func (c *Client) Server(ctx context.Context) (Server, error) {
	u, err := c.Whoami(ctx)
	if err != nil {
		return Server{}, err
	}
	return c.serverOf(u), nil
}

func (c *Client) serverOf(u User) Server {
	if m, ok := u.Servers[""]; ok && !m.Stopped {
		s := Server{State: Stopped, URL: c.abs(m.URL), Started: m.Started}
		switch {
		case m.Pending != nil && *m.Pending != "":
			s.State, s.Pending = Pending, *m.Pending
		case m.Ready:
			s.State = Ready
		default:
			s.URL = ""
		}
		return s
	}
	if u.Pending != nil && *u.Pending != "" {
		return Server{State: Pending, Pending: *u.Pending}
	}
	if u.Server != nil && *u.Server != "" {
		return Server{State: Ready, URL: c.abs(*u.Server)}
	}
	return Server{State: Stopped}
}

// abs makes a hub-relative path absolute, on the hub's own origin.
func (c *Client) abs(p string) string {
	if p == "" || strings.Contains(p, "://") {
		return p
	}
	u, err := url.Parse(c.Hub)
	if err != nil {
		return p
	}
	return u.Scheme + "://" + u.Host + p
}

// Start asks the hub to start the user's default server. A server that is
// already starting or running is no error.
func (c *Client) Start(ctx context.Context) error {
	name, err := c.name(ctx)
	if err != nil {
		return err
	}
	err = c.do(ctx, http.MethodPost, "/hub/api/users/"+url.PathEscape(name)+"/server", map[string]any{}, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest {
		// JupyterHub answers 400 for a server that is already running.
		if s, serr := c.Server(ctx); serr == nil && s.State != Stopped {
			return nil
		}
	}
	return err
}

// Stop asks the hub to stop the user's default server. A stopped server is
// no error.
func (c *Client) Stop(ctx context.Context) error {
	name, err := c.name(ctx)
	if err != nil {
		return err
	}
	err = c.do(ctx, http.MethodDelete, "/hub/api/users/"+url.PathEscape(name)+"/server", nil, nil)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusBadRequest {
		if s, serr := c.Server(ctx); serr == nil && s.State == Stopped {
			return nil
		}
	}
	return err
}

// name is the token's user, asking the hub once if the token does not say.
func (c *Client) name(ctx context.Context) (string, error) {
	if c.tok.User != "" {
		return c.tok.User, nil
	}
	u, err := c.Whoami(ctx)
	if err != nil {
		return "", err
	}
	return u.Name, nil
}

// Revoke deletes the client's own token on the hub. Its id is the one the
// token carries, else the one GET /hub/api/user tells (JupyterHub 5,
// classhub), else the only token in the user's list; a hub that tells none
// of these gets an error saying to delete it on its token page.
func (c *Client) Revoke(ctx context.Context) error {
	u, err := c.Whoami(ctx)
	if err != nil {
		return err
	}
	id := c.tok.ID
	if id == "" {
		id = u.TokenID
	}
	if id == "" {
		var list struct {
			Tokens []struct {
				ID string `json:"id"`
			} `json:"api_tokens"`
		}
		if err := c.do(ctx, http.MethodGet, "/hub/api/users/"+url.PathEscape(u.Name)+"/tokens", nil, &list); err == nil && len(list.Tokens) == 1 {
			id = list.Tokens[0].ID
		}
	}
	if id == "" {
		return &Error{Kind: Other, Hub: c.Hub, Detail: "the hub does not say which of " + u.Name + "'s tokens this app has: delete it on " + c.Hub + "/hub/token"}
	}
	return c.do(ctx, http.MethodDelete, "/hub/api/users/"+url.PathEscape(u.Name)+"/tokens/"+url.PathEscape(id), nil, nil)
}

// do sends one API request and decodes a JSON answer into out (if not nil),
// classifying every failure.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &Error{Kind: Unreachable, Hub: c.Hub, Detail: "the answer was cut off", Err: err}
	}
	if err := c.classify(resp, data); err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Kind: NotHub, Hub: c.Hub, Status: resp.StatusCode, Detail: "its API answered something that is not JSON", Err: err}
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, body any, accept string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Hub+path, rd)
	if err != nil {
		return nil, &Error{Kind: Other, Hub: c.Hub, Err: err}
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.tok.Secret != "" {
		req.Header.Set("Authorization", "token "+c.tok.Secret)
	}
	resp, err := c.roundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.netError(err)
	}
	return resp, nil
}

// netError is the *Error for a request that got no answer: Untrusted for
// a certificate this computer does not trust, else Unreachable.
func (c *Client) netError(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return &Error{Kind: Untrusted, Hub: c.Hub, Detail: netDetail(err), Err: err}
	}
	return &Error{Kind: Unreachable, Hub: c.Hub, Detail: netDetail(err), Err: err}
}

// roundTrip sends req with c.HTTP, following a redirect only for a request
// that carries no secret: Go's client takes the Authorization header, and a
// 307's body, to another port of the same host, which on a class hub is a
// learner's own server's origin. A redirect not followed is answered as it
// came, which classify makes an error.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	hc := *c.HTTP
	follow := hc.CheckRedirect
	hc.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if first := via[0]; first.Header.Get("Authorization") != "" || first.Body != nil && first.Body != http.NoBody {
			return http.ErrUseLastResponse
		}
		if follow != nil {
			return follow(next, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return hc.Do(req)
}

// netDetail is a network error's text without the request's URL, which
// url.Error repeats.
func netDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// classify is nil for a 2xx answer from a JupyterHub API, and the *Error
// that says what went wrong otherwise. JupyterHub answers every API call
// with JSON and marks every answer with X-JupyterHub-Version: an answer
// with neither comes from something else at that address.
func (c *Client) classify(resp *http.Response, data []byte) error {
	status := resp.StatusCode
	var msg struct {
		Message string `json:"message"`
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := ct == "application/json" && json.Unmarshal(data, &msg) == nil
	hubish := isJSON || resp.Header.Get("X-JupyterHub-Version") != ""
	switch {
	case status < 300:
		return nil
	case status >= 500:
		return &Error{Kind: HubFailed, Hub: c.Hub, Status: status, Detail: msg.Message}
	case status < 400:
		return &Error{Kind: NotHub, Hub: c.Hub, Status: status, Detail: "it sent the app on to " + resp.Header.Get("Location") + ", which the app does not follow with your token: join with the hub's own address"}
	case !hubish:
		return &Error{Kind: NotHub, Hub: c.Hub, Status: status, Detail: fmt.Sprintf("it answered %d with no JupyterHub API", status)}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &Error{Kind: Refused, Hub: c.Hub, Status: status, Detail: msg.Message}
	case status == http.StatusNotFound && !isJSON:
		return &Error{Kind: NotHub, Hub: c.Hub, Status: status, Detail: "it has no JupyterHub API"}
	default:
		return &Error{Kind: Other, Hub: c.Hub, Status: status, Detail: fmt.Sprintf("status %d: %s", status, msg.Message)}
	}
}

// Discover is the hub's base URL in link (see Normalize), upgraded to
// https where the hub answers plain HTTP with a redirect to the same
// address over HTTPS, as classhub's HTTPS listener does: a link typed
// without https:// would otherwise send the token, or the login's code and
// verifier, in the clear before the hub redirects them. It asks only
// GET /hub/api, with no secret; a hub it cannot reach is left as it is,
// for the next call to report.
func Discover(ctx context.Context, link string) (string, error) {
	hub, err := Normalize(link)
	if err != nil {
		return "", err
	}
	return New(hub, Token{}).discover(ctx), nil
}

func (c *Client) discover(ctx context.Context) string {
	if !strings.HasPrefix(c.Hub, "http://") {
		return c.Hub
	}
	cc := *c
	cc.tok = Token{}
	resp, err := cc.send(ctx, http.MethodGet, "/hub/api", nil, "application/json")
	if err != nil {
		return c.Hub
	}
	resp.Body.Close()
	https := "https://" + strings.TrimPrefix(c.Hub, "http://")
	if final := resp.Request.URL; final.Scheme == "https" && strings.TrimSuffix(final.String(), "/hub/api") == https {
		return https
	}
	return c.Hub
}
