package classclient

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classhub/classhub/classclient/classclienttest"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"http://10.0.0.5:8000":                                    "http://10.0.0.5:8000",
		"http://10.0.0.5:8000/":                                   "http://10.0.0.5:8000",
		"10.0.0.5:8000/hub/login?next=%2Fhub%2F":                  "http://10.0.0.5:8000",
		"https://lab.example/jupyter/hub/token":                   "https://lab.example/jupyter",
		"https://lab.example/jupyter/user/alice/lab/tree/a.ipynb": "https://lab.example/jupyter",
		" https://lab.example/hub ":                               "https://lab.example",
	} {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x/", "http://"} {
		if got, err := Normalize(bad); err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", bad, got)
		}
	}
}

// A classmate's link whose path hides /user/NAME/ behind an encoded slash
// or backslashes: the hub's proxy resolves it, and every API path under
// it, to NAME's server, by a redirect the client follows with its token.
// Such a link names no hub.
func TestNormalizeRefusesPathsTheProxyResolvesToAServer(t *testing.T) {
	for _, bad := range []string{
		"http://10.0.0.5:8000/user%252fmallory/",
		"http://10.0.0.5:8000/user%2Fmallory%2F",
		`http://10.0.0.5:8000/%5Cuser%5Cmallory%5C`,
		"http://10.0.0.5:8000/x/..%2Fuser%2Fmallory",
		"http://10.0.0.5:8000/./%75ser/mallory%2f",
		"http://10.0.0.5:8000//user%2fmallory",
	} {
		if got, err := Normalize(bad); err == nil && strings.Trim(got, "/") != "http://10.0.0.5:8000" {
			t.Errorf("Normalize(%q) = %q, a hub address the proxy sends to mallory's server", bad, got)
		}
	}
}

// newFakeHub is a hub for alice that takes one token, secret-a (id a1), as
// if pasted from its token page.
func newFakeHub(t *testing.T) *classclienttest.Hub {
	f := classclienttest.New(t, "alice")
	f.AddToken("secret-a", "a1")
	return f
}

func TestWhoamiStartProgressStop(t *testing.T) {
	f := newFakeHub(t)
	c := New(f.URL, Token{Secret: "secret-a"})
	ctx := context.Background()
	u, err := c.Whoami(ctx)
	if err != nil || u.Name != "alice" || u.Admin {
		t.Fatalf("Whoami = %+v, %v", u, err)
	}
	if s, err := c.Server(ctx); err != nil || s.State != Stopped || s.URL != "" {
		t.Fatalf("Server = %+v, %v; want stopped", s, err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Server(ctx); err != nil || s.State != Pending || s.Pending != "spawn" {
		t.Fatalf("Server = %+v, %v; want pending spawn", s, err)
	}
	f.Send(
		": keep-alive\n\n",
		"data: {\"progress\": 10, \"message\": \"Pulling\", \"phase\": \"pull\"}\n\n",
		"data: {\"progress\": 50, \"message\": \"Starting\"}\n\n",
		"data: {\"progress\": 100, \"ready\": true, \"message\": \"Server ready\", \"url\": \"/user/alice/\"}\n\n",
	)
	var got []Event
	if err := c.Progress(ctx, func(e Event) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Phase != "pull" || got[0].Progress != 10 || !got[2].Ready || got[2].URL != f.URL+"/user/alice/" {
		t.Fatalf("events = %+v", got)
	}
	f.SetState(classclienttest.Ready)
	if s, err := c.Server(ctx); err != nil || s.State != Ready || s.URL != f.URL+"/user/alice/" {
		t.Fatalf("Server = %+v, %v; want ready at the hub's /user/alice/", s, err)
	}
	// A ready server: Start is no error, Progress says ready at once.
	if err := c.Start(ctx); err != nil {
		t.Errorf("Start of a running server: %v", err)
	}
	got = nil
	if err := c.Progress(ctx, func(e Event) { got = append(got, e) }); err != nil || len(got) != 1 || !got[0].Ready {
		t.Errorf("Progress of a ready server = %+v, %v", got, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop of a stopped server: %v", err)
	}
	if err := c.Progress(ctx, func(Event) {}); err == nil {
		t.Error("Progress of a stopped server is no error")
	}
}

func TestProgressFailed(t *testing.T) {
	f := newFakeHub(t)
	f.SetState(classclienttest.Starting)
	f.Send("data: {\"progress\": 100, \"failed\": true, \"message\": \"Start cancelled\", \"reason\": \"cancelled\"}\n\n")
	err := New(f.URL, Token{Secret: "secret-a", User: "alice"}).Progress(context.Background(), func(Event) {})
	if KindOf(err) != StartFailed || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("Progress = %v, want StartFailed saying cancelled", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	f := newFakeHub(t)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>my blog</html>")
	}))
	t.Cleanup(html.Close)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	selfSigned := httptest.NewTLSServer(f.Config.Handler)
	t.Cleanup(selfSigned.Close)

	for _, tc := range []struct {
		name  string
		c     *Client
		setup func()
		want  Kind
		say   string
	}{
		{"not a hub", New(html.URL, Token{Secret: "secret-a"}), nil, NotHub, "Check the class link"},
		{"unreachable", New(closed, Token{Secret: "secret-a"}), nil, Unreachable, "retry"},
		{"untrusted certificate", New(selfSigned.URL, Token{Secret: "secret-a"}), nil, Untrusted, "/hub/certificate"},
		{"revoked", New(f.URL, Token{Secret: "secret-gone"}), nil, Refused, "Join the class again"},
		{"5xx", New(f.URL, Token{Secret: "secret-a"}), func() { f.Fail(503) }, HubFailed, "Retry in a moment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := tc.c.Whoami(ctx)
			if KindOf(err) != tc.want || !strings.Contains(err.Error(), tc.say) {
				t.Fatalf("Whoami = %v (%v), want %v saying %q", err, KindOf(err), tc.want, tc.say)
			}
			if strings.Contains(err.Error(), "secret-") {
				t.Errorf("the error %q shows the token", err)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	t.Run("id from whoami", func(t *testing.T) {
		f := newFakeHub(t)
		f.TellTokenIDs(true)
		f.AddToken("secret-b", "b2")
		if err := New(f.URL, Token{Secret: "secret-b"}).Revoke(ctx); err != nil {
			t.Fatal(err)
		}
		if len(f.Revoked()) != 1 || f.Revoked()[0] != "b2" {
			t.Fatalf("deleted %v, want [b2]", f.Revoked())
		}
		_, err := New(f.URL, Token{Secret: "secret-b"}).Whoami(ctx)
		if KindOf(err) != Refused {
			t.Fatalf("a revoked token: %v, want Refused", err)
		}
	})
	t.Run("the only token in the list", func(t *testing.T) {
		f := newFakeHub(t)
		if err := New(f.URL, Token{Secret: "secret-a"}).Revoke(ctx); err != nil || len(f.Revoked()) != 1 {
			t.Fatalf("Revoke = %v, deleted %v", err, f.Revoked())
		}
	})
	t.Run("one of several, unnamed", func(t *testing.T) {
		f := newFakeHub(t)
		f.AddToken("secret-b", "b2")
		err := New(f.URL, Token{Secret: "secret-a"}).Revoke(ctx)
		if err == nil || !strings.Contains(err.Error(), "/hub/token") || len(f.Revoked()) != 0 {
			t.Fatalf("Revoke = %v, deleted %v; want no guess and a pointer to the token page", err, f.Revoked())
		}
	})
}

func TestTokenNeverPrinted(t *testing.T) {
	tok := Token{Secret: "s3cr3t", ID: "a1", User: "alice"}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("%q shows the secret", s)
		}
	}
}

// A hub's answer that redirects (the proxy sends any /user/NAME/ path to
// NAME's own port on the same host) never takes the token, nor the code
// and verifier, along: Go's client forwards Authorization and a 307's body
// to another port of the same host, here a classmate's server.
func TestSecretsNeverFollowARedirect(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	classmate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("Authorization")+" "+r.PostForm.Encode())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name": "alice", "access_token": "planted"}`)
	}))
	defer classmate.Close()
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusFound
		if r.Method != http.MethodGet {
			code = http.StatusTemporaryRedirect
		}
		http.Redirect(w, r, classmate.URL+r.URL.Path, code)
	}))
	defer hub.Close()
	ctx := context.Background()
	c := New(hub.URL, Token{Secret: "secret-a", User: "alice"})
	if _, err := c.Whoami(ctx); err == nil {
		t.Error("Whoami through a redirect succeeded")
	}
	c.Stop(ctx)
	if _, err := c.exchange(ctx, "the-code", "http://127.0.0.1:5/callback", "the-verifier"); err == nil {
		t.Error("the code exchange through a redirect succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if strings.Contains(s, "secret-a") || strings.Contains(s, "the-code") || strings.Contains(s, "the-verifier") {
			t.Errorf("the classmate's server got %q", s)
		}
	}
}

// A hub that speaks HTTPS only answers plain HTTP on the same port with a
// redirect (hub/plainhttp.go), which a link without https:// reaches: the
// client learns the https address before it sends a token, a code or a
// verifier, which would otherwise cross the network in the clear first.
func TestDiscoverUpgradesToHTTPSBeforeAnySecret(t *testing.T) {
	var mu sync.Mutex
	var plain []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"version": "5.0.0", "desktop_client": "classhub-desktop", "name": "alice"}`)
	}))
	srv.StartTLS()
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tlsConns := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(tlsConns)
				return
			}
			go func() {
				br := bufio.NewReader(c)
				if b, err := br.Peek(1); err == nil && b[0] == 0x16 {
					tlsConns <- &peeked{Conn: c, r: br}
					return
				}
				req, err := http.ReadRequest(br)
				if err == nil {
					mu.Lock()
					plain = append(plain, req.Method+" "+req.RequestURI+" "+req.Header.Get("Authorization"))
					mu.Unlock()
					fmt.Fprintf(c, "HTTP/1.1 301 Moved Permanently\r\nLocation: https://%s%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", req.Host, req.URL.RequestURI())
				}
				c.Close()
			}()
		}
	}()
	go (&http.Server{Handler: srv.Config.Handler, TLSConfig: srv.TLS}).ServeTLS(chanListener{tlsConns, l.Addr()}, "", "")
	addr := l.Addr().String()
	c := New("http://"+addr, Token{})
	c.HTTP = srv.Client()
	if got := c.discover(context.Background()); got != "https://"+addr {
		t.Fatalf("discover = %q, want https://%s", got, addr)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range plain {
		if !strings.HasPrefix(p, "GET /hub/api ") || !strings.HasSuffix(p, " ") {
			t.Errorf("sent in the clear: %q", p)
		}
	}
}

type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) }

type chanListener struct {
	ch   chan net.Conn
	addr net.Addr
}

func (l chanListener) Accept() (net.Conn, error) {
	c, ok := <-l.ch
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l chanListener) Close() error   { return nil }
func (l chanListener) Addr() net.Addr { return l.addr }

// A hub that takes the connection and never answers is unreachable after
// AnswerTimeout, not a wait without end; a stream is not cut by it.
func TestASilentHubIsUnreachable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c := New(srv.URL, Token{Secret: "s", User: "ann"})
	tr := c.HTTP.Transport.(*http.Transport)
	if tr.ResponseHeaderTimeout != AnswerTimeout {
		t.Fatalf("ResponseHeaderTimeout = %v, want AnswerTimeout", tr.ResponseHeaderTimeout)
	}
	tr.ResponseHeaderTimeout = 100 * time.Millisecond
	_, err := c.Server(context.Background())
	if KindOf(err) != Unreachable {
		t.Errorf("Server of a silent hub = %v (kind %v), want Unreachable", err, KindOf(err))
	}
}
