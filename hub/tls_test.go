package hub

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/tlscert"
	"github.com/classhub/classhub/internal/testenv"
)

// openTLSHub opens a real hub (Docker, a network of its own) serving
// tls = "auto" on loopback and returns it serving.
func openTLSHub(t *testing.T) (h *Hub, dataDir string) {
	t.Helper()
	cli := testenv.Docker(t)
	cfg := config.Default()
	cfg.TLS = config.TLSAuto
	cfg.Listen = "127.0.0.1:0"
	cfg.HubPort = 0
	cfg.PullPolicy = config.PullNever
	cfg.Network = fmt.Sprintf("classhub-tls-test-%04d", rand.IntN(10000))
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), cfg.Network) })
	dataDir = t.TempDir()
	h, err := Open(context.Background(), Options{DataDir: dataDir, Config: cfg, Log: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close()
	})
	return h, dataDir
}

// trustingOnly is a client that trusts nothing but the PEM certificate
// authority ca.
func trustingOnly(t *testing.T, ca []byte) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		t.Fatal("the authority's certificate is not PEM")
	}
	return &http.Client{Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestHubServesHTTPSWithItsOwnAuthority(t *testing.T) {
	h, dataDir := openTLSHub(t)
	// What a student installs is the file in the data dir, and the
	// fingerprint shown is that file's.
	ca := h.CACert()
	onDisk, err := os.ReadFile(filepath.Join(dataDir, TLSDir, tlscert.CAFile))
	if err != nil || string(onDisk) != string(ca) {
		t.Fatalf("the authority offered is not the one in the data dir (%v)", err)
	}
	if h.TLSFingerprint() == "" || !strings.Contains(h.TLSFingerprint(), ":") {
		t.Errorf("TLSFingerprint() = %q", h.TLSFingerprint())
	}
	base := strings.TrimSuffix(h.ClassURL(), "/")
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("ClassURL() = %q, want https on the bound address", base)
	}
	c := trustingOnly(t, ca)

	resp, err := c.Get(base + "/hub/api")
	if err != nil {
		t.Fatalf("a client trusting only the authority: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /hub/api: %s", resp.Status)
	}

	t.Run("students can check the fingerprint and fetch the authority", func(t *testing.T) {
		resp, err := c.Get(base + "/hub/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), h.TLSFingerprint()) {
			t.Error("the login page does not show the fingerprint")
		}
		resp, err = c.Get(base + "/hub/ca.crt")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != string(ca) {
			t.Errorf("/hub/ca.crt is not the authority: %s %.80q", resp.Status, got)
		}
	})

	t.Run("cookies are Secure", func(t *testing.T) {
		link, err := h.LoginLink(context.Background(), h.Owner(), "/hub/home")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(link, "https://") {
			t.Fatalf("LoginLink = %q, want https", link)
		}
		seen := map[string]bool{}
		for _, u := range []string{base + "/hub/login", link} {
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for _, ck := range resp.Cookies() {
				seen[ck.Name] = true
				if !ck.Secure {
					t.Errorf("%s sets cookie %s without Secure", u, ck.Name)
				}
			}
		}
		if !seen[auth.HostSessionCookie] || !seen["_xsrf"] {
			t.Errorf("cookies seen: %v, want the login cookie and the form token", seen)
		}
	})

	t.Run("a client that does not trust the authority is refused", func(t *testing.T) {
		_, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/hub/api")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("GET without trusting the authority = %v, want a certificate error", err)
		}
	})

	t.Run("plain HTTP to the HTTPS port is sent to HTTPS", func(t *testing.T) {
		plain := "http" + strings.TrimPrefix(base, "https") + "/hub/login?next=%2Fhub%2Fhome"
		resp, err := c.Get(plain)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := base + "/hub/login?next=%2Fhub%2Fhome"; resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Fatalf("plain HTTP got %s to %q %q, want a redirect to %s", resp.Status, resp.Header.Get("Location"), body, want)
		}
		// The browser follows it and gets the page.
		follow := trustingOnly(t, ca)
		follow.CheckRedirect = nil
		resp, err = follow.Get(plain)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Scheme != "https" {
			t.Errorf("following the redirect: %s at %s", resp.Status, resp.Request.URL)
		}
	})

	t.Run("the internal listener stays plain HTTP", func(t *testing.T) {
		resp, err := http.Get("http://" + h.InternalAddr().String() + "/hub/api")
		if err != nil {
			t.Fatalf("containers' listener: %v", err)
		}
		resp.Body.Close()
	})
}

func TestAutoCertFollowsTheLANAddress(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlscert.LoadCA(dir, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP("192.168.1.20")
	src := &autoCert{dir: dir, ca: ca, log: log.New(io.Discard, "", 0),
		names: func() tlscert.Names { return tlscert.Names{IPs: []net.IP{ip}} }}
	first, err := src.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	ip = net.ParseIP("10.0.0.7")
	if again, _ := src.get(nil); again != first {
		t.Error("the certificate was checked again before recheckNames passed")
	}
	src.checked = src.checked.Add(-recheckNames)
	moved, err := src.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := moved.Leaf.VerifyHostname("10.0.0.7"); err != nil {
		t.Errorf("after the laptop moved: %v", err)
	}
}

// BenchmarkPublicListener is what HTTPS costs per request: a small GET
// over loopback through listenPublic with plain HTTP and with tls =
// "auto", on a kept-alive connection (what a browser does) and on a new
// connection each time (the handshake's cost).
func BenchmarkPublicListener(b *testing.B) {
	for _, bc := range []struct {
		mode      string
		keepAlive bool
	}{{config.TLSOff, true}, {config.TLSAuto, true}, {config.TLSOff, false}, {config.TLSAuto, false}} {
		name := bc.mode + "/keep-alive"
		if !bc.keepAlive {
			name = bc.mode + "/new-connection"
		}
		mode := bc.mode
		b.Run(name, func(b *testing.B) {
			h, addr := servePublic(b, mode)
			tr := &http.Transport{DisableKeepAlives: !bc.keepAlive}
			if ca := h.CACert(); ca != nil {
				roots := x509.NewCertPool()
				roots.AppendCertsFromPEM(ca)
				tr.TLSClientConfig = &tls.Config{RootCAs: roots}
			}
			defer tr.CloseIdleConnections()
			url := h.scheme() + "://" + addr + "/hub/api"
			b.ResetTimer()
			for b.Loop() {
				resp, err := tr.RoundTrip(mustRequest(b, url))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

func mustRequest(b *testing.B, url string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// servePublic serves a small handler on a public listener of a hub with
// tls = mode, without Docker.
func servePublic(tb testing.TB, mode string) (h *Hub, addr string) {
	tb.Helper()
	cfg := config.Default()
	cfg.TLS, cfg.Listen = mode, "127.0.0.1:0"
	h = &Hub{cfg: cfg, log: log.New(io.Discard, "", 0)}
	if err := h.setupTLS(tb.TempDir()); err != nil {
		tb.Fatal(err)
	}
	l, err := h.listenPublic(cfg.Listen)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"version":"3.0.0"}`)) })}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return h, l.Addr().String()
}

func TestPlainHTTPListener(t *testing.T) {
	h, addr := servePublic(t, config.TLSAuto)
	tests := []struct {
		name, send string
		want       string // the answer's first line and Location, "" for none
	}{
		{"a browser without https://", "GET /hub/login HTTP/1.1\r\nHost: 192.168.1.20:8000\r\n\r\n",
			"HTTP/1.1 302 Found|https://192.168.1.20:8000/hub/login"},
		{"HTTP/1.0 without Host", "GET /x?y=1 HTTP/1.0\r\n\r\n", "HTTP/1.1 302 Found|https://" + addr + "/x?y=1"},
		{"a host that is not one", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "HTTP/1.1 400 Bad Request|"},
		{"a host with a path", "GET / HTTP/1.1\r\nHost: evil.example/x?\r\n\r\n", "HTTP/1.1 400 Bad Request|"},
		{"garbage", "\x00\x01\x02 not http\r\n\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tt.send)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("answered %s, want the connection closed", resp.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if got := resp.Proto + " " + resp.Status + "|" + resp.Header.Get("Location"); got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
		})
	}
	// TLS still works on the same port.
	resp, err := trustingOnly(t, h.CACert()).Get("https://" + addr + "/hub/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
