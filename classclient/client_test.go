package classclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

func TestWhoamiStartProgressStop(t *testing.T) {
	f := newFakeHub(t)
	c := New(f.srv.URL, Token{Secret: "secret-a"})
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
	f.events = []string{
		": keep-alive\n\n",
		"data: {\"progress\": 10, \"message\": \"Pulling\", \"phase\": \"pull\"}\n\n",
		"data: {\"progress\": 50, \"message\": \"Starting\"}\n\n",
		"data: {\"progress\": 100, \"ready\": true, \"message\": \"Server ready\", \"url\": \"/user/alice/\"}\n\n",
	}
	var got []Event
	if err := c.Progress(ctx, func(e Event) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Phase != "pull" || got[0].Progress != 10 || !got[2].Ready || got[2].URL != f.srv.URL+"/user/alice/" {
		t.Fatalf("events = %+v", got)
	}
	f.running = "ready"
	if s, err := c.Server(ctx); err != nil || s.State != Ready || s.URL != f.srv.URL+"/user/alice/" {
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
	f.running = "pending"
	f.events = []string{"data: {\"progress\": 100, \"failed\": true, \"message\": \"Start cancelled\", \"reason\": \"cancelled\"}\n\n"}
	err := New(f.srv.URL, Token{Secret: "secret-a", User: "alice"}).Progress(context.Background(), func(Event) {})
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

	for _, tc := range []struct {
		name  string
		c     *Client
		setup func()
		want  Kind
		say   string
	}{
		{"not a hub", New(html.URL, Token{Secret: "secret-a"}), nil, NotHub, "Check the class link"},
		{"unreachable", New(closed, Token{Secret: "secret-a"}), nil, Unreachable, "retry"},
		{"revoked", New(f.srv.URL, Token{Secret: "secret-gone"}), nil, Refused, "Join the class again"},
		{"5xx", New(f.srv.URL, Token{Secret: "secret-a"}), func() { f.status = 503 }, HubFailed, "Retry in a moment"},
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
		f.tokenID = true
		f.tokens["secret-b"] = "b2"
		if err := New(f.srv.URL, Token{Secret: "secret-b"}).Revoke(ctx); err != nil {
			t.Fatal(err)
		}
		if len(f.deleted) != 1 || f.deleted[0] != "b2" {
			t.Fatalf("deleted %v, want [b2]", f.deleted)
		}
		_, err := New(f.srv.URL, Token{Secret: "secret-b"}).Whoami(ctx)
		if KindOf(err) != Refused {
			t.Fatalf("a revoked token: %v, want Refused", err)
		}
	})
	t.Run("the only token in the list", func(t *testing.T) {
		f := newFakeHub(t)
		if err := New(f.srv.URL, Token{Secret: "secret-a"}).Revoke(ctx); err != nil || len(f.deleted) != 1 {
			t.Fatalf("Revoke = %v, deleted %v", err, f.deleted)
		}
	})
	t.Run("one of several, unnamed", func(t *testing.T) {
		f := newFakeHub(t)
		f.tokens["secret-b"] = "b2"
		err := New(f.srv.URL, Token{Secret: "secret-a"}).Revoke(ctx)
		if err == nil || !strings.Contains(err.Error(), "/hub/token") || len(f.deleted) != 0 {
			t.Fatalf("Revoke = %v, deleted %v; want no guess and a pointer to the token page", err, f.deleted)
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
