package engine

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

func TestLocate(t *testing.T) {
	own := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("192.168.1.20"), net.ParseIP("fe80::1"), net.ParseIP("172.17.0.1")}
	tests := []struct {
		host    string
		remote  bool
		machine string
		ssh     bool
	}{
		{"", false, "", false}, // the client's default socket
		{"unix:///var/run/docker.sock", false, "", false},
		{"unix:///run/user/1000/docker.sock", false, "", false},         // rootless
		{"unix:///Users/ann/.docker/run/docker.sock", false, "", false}, // Docker Desktop on macOS
		{"npipe:////./pipe/docker_engine", false, "", false},            // Docker Desktop on Windows
		{"npipe:////./pipe/dockerDesktopLinuxEngine", false, "", false}, // its Linux engine
		{"tcp://127.0.0.1:2375", false, "", false},
		{"tcp://127.0.0.53:2375", false, "", false},
		{"tcp://localhost:2375", false, "", false},
		{"tcp://LOCALHOST.:2375", false, "", false},
		{"tcp://docker.localhost:2375", false, "", false},
		{"tcp://[::1]:2376", false, "", false},
		{"tcp://192.168.1.20:2376", false, "", false}, // this machine's LAN address
		{"tcp://172.17.0.1:2375", false, "", false},
		{"tcp://laptop:2376", false, "", false}, // this machine's name
		{"TCP://Laptop:2376/v1.47", false, "", false},
		{"https://127.0.0.1:2376", false, "", false},
		{"tcp://192.0.2.1:2376", true, "192.0.2.1", false},
		{"tcp://192.0.2.1", true, "192.0.2.1", false},
		{"tcp://[2001:db8::1]:2376", true, "2001:db8::1", false},
		{"tcp://fe80::2", true, "fe80::2", false},
		{"tcp://labserver.example.org:2376", true, "labserver.example.org", false},
		{"tcp://laptop.example.org:2376", true, "laptop.example.org", false}, // a name like this one's, resolved elsewhere
		{"tcp://host.docker.internal:2375", true, "host.docker.internal", false},
		{"http://192.0.2.1:2375", true, "192.0.2.1", false},
		{"tcp://:2375", false, "", false}, // no host: dialed on this machine
		{"ssh://user@example.invalid", true, "example.invalid", true},
		{"ssh://user@example.invalid:2222/path", true, "example.invalid", true},
		{"ssh://localhost", true, "localhost", true}, // here, but not over a socket classhub can use
		{"fd://3", true, "", false},                  // a daemon's, not a client's
		{"192.0.2.1:2376", true, "", false},          // no scheme
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			l := locate(tt.host, own, "laptop")
			if l.Remote != tt.remote || l.Machine != tt.machine || l.SSH != tt.ssh {
				t.Fatalf("locate(%q) = %+v, want remote %v machine %q ssh %v", tt.host, l, tt.remote, tt.machine, tt.ssh)
			}
			err := l.Refusal()
			if !tt.remote {
				if err != nil {
					t.Fatalf("a local engine is refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrRemote) {
				t.Fatalf("refusal %v is no *Error wrapping ErrRemote", err)
			}
			wants := []string{"DOCKER_HOST=" + l.Host, "unset DOCKER_HOST", "classhub serve", `backend = "swarm"`}
			if l.Unknown {
				wants = []string{"DOCKER_HOST=" + l.Host, "unset it", "tcp://127.0.0.1"}
			}
			for _, want := range wants {
				if !strings.Contains(e.Advice, want) {
					t.Errorf("advice %q does not say %q", e.Advice, want)
				}
			}
		})
	}
	if l := locate("", own, "laptop"); l.Host != client.DefaultDockerHost {
		t.Errorf("the default host is %q, want the client's %q", l.Host, client.DefaultDockerHost)
	}
}

// TestConnectRefusesRemoteBeforeDialing points DOCKER_HOST at a remote
// engine and the client's proxy at a listener of the test's: a client that
// tried the engine would connect there (DOCKER_HOST's TCP goes through
// HTTP_PROXY), so no connection proves nothing was sent anywhere.
func TestConnectRefusesRemoteBeforeDialing(t *testing.T) {
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	dialed := make(chan struct{}, 1)
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			c.Close()
			dialed <- struct{}{}
		}
	}()
	// Every case sets the same proxy: http.ProxyFromEnvironment reads the
	// environment once.
	proxy := "http://" + trap.Addr().String()
	for _, host := range []string{"tcp://192.0.2.1:2376", "ssh://user@example.invalid", "https://labserver.example.invalid:2376"} {
		t.Run(host, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", host)
			t.Setenv("HTTP_PROXY", proxy)
			t.Setenv("HTTPS_PROXY", proxy)
			t.Setenv("NO_PROXY", "")
			_, err := Connect(t.Context())
			if !errors.Is(err, ErrRemote) {
				t.Fatalf("Connect = %v, want the remote engine refused", err)
			}
			select {
			case <-dialed:
				t.Fatal("Connect reached for the remote engine before refusing it")
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
	// The trap catches: a client made the same way, asked to ping, does
	// connect to it.
	t.Setenv("DOCKER_HOST", "tcp://192.0.2.1:2376")
	t.Setenv("HTTP_PROXY", proxy)
	t.Setenv("NO_PROXY", "")
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cli.Ping(t.Context())
	select {
	case <-dialed:
	case <-time.After(5 * time.Second):
		t.Fatal("the trap missed a client's ping: the test above proves nothing")
	}
}
