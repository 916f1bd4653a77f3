package spawner

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// aliveEngine reports every container running and logs nothing: readiness
// is tested here against HTTP servers that misbehave in ways a real
// notebook server does not on demand. Real servers are covered by the
// lifecycle tests.
type aliveEngine struct{ client.APIClient }

func (aliveEngine) ContainerInspect(context.Context, string) (container.InspectResponse, error) {
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{State: &container.State{Running: true}}}, nil
}

func (aliveEngine) ContainerLogs(context.Context, string, container.LogsOptions) (io.ReadCloser, error) {
	return nil, context.Canceled
}

// jupyterAPI is what jupyter_server answers at its base URL's api.
const jupyterAPI = `{"version": "2.15.0"}`

func TestWaitReady(t *testing.T) {
	var hits atomic.Int32
	tests := []struct {
		name    string
		handler func(n int32) (int, string)
		wantErr string
	}{
		{"ok at once", func(int32) (int, string) { return 200, jupyterAPI }, ""},
		{"503 then up", func(n int32) (int, string) {
			if n < 3 {
				return 503, ""
			}
			return 200, jupyterAPI
		}, ""},
		{"never up", func(int32) (int, string) { return 503, "" }, "HTTP 503"},
		// Ready means Jupyter answered: a login page, a server that does
		// not serve this base URL, or some other web server is not ready.
		{"a redirect is not ready", func(int32) (int, string) { return 302, "" }, "HTTP 302"},
		{"not found is not ready", func(int32) (int, string) { return 404, "" }, "HTTP 404"},
		{"200 without a version is not ready", func(int32) (int, string) { return 200, "<html>hello</html>" }, "without a Jupyter version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/user/alice/api" {
					t.Errorf("polled %s", r.URL.Path)
				}
				status, body := tt.handler(hits.Add(1))
				w.WriteHeader(status)
				io.WriteString(w, body)
			}))
			defer srv.Close()
			d := New(aliveEngine{}, Options{Config: config.Default()})
			limit := time.Minute
			if tt.wantErr != "" {
				limit = 1500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			err := d.waitReady(ctx, d.publish, "alice", "course:2026", "id", srv.URL+"/user/alice/api", limit)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("waitReady = %v, want %q", err, tt.wantErr)
			}
			for _, want := range []string{"did not answer as Jupyter", "http_timeout", "image course:2026"} {
				if tt.wantErr != "" && !strings.Contains(err.Error(), want) {
					t.Errorf("the timeout error lacks %q: %v", want, err)
				}
			}
		})
	}
}

func TestWaitReadyRefusedThenUp(t *testing.T) {
	addr, listen := refusingPort(t)
	eng := triedEngine{tried: make(chan struct{}, 1)}
	d := New(eng, Options{Config: config.Default()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	up := make(chan *http.Server, 1)
	go func() {
		// Come up only once a try was refused, as a booting server does.
		select {
		case <-eng.tried:
		case <-ctx.Done():
			up <- nil
			return
		}
		ln, err := listen()
		if err != nil {
			t.Error(err)
			up <- nil
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, jupyterAPI) })}
		go srv.Serve(ln)
		up <- srv
	}()
	err := d.waitReady(ctx, d.publish, "alice", "course:2026", "id", "http://"+addr+"/user/alice/api", time.Minute)
	if srv := <-up; srv != nil {
		srv.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// triedEngine is an aliveEngine that says when waitReady found the server
// not answering: it looks at the container after every failed try.
type triedEngine struct {
	aliveEngine
	tried chan struct{}
}

func (e triedEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	select {
	case e.tried <- struct{}{}:
	default:
	}
	return e.aliveEngine.ContainerInspect(ctx, id)
}

// refusingPort binds a loopback port without listening: connections are
// refused until listen is called. Holding the port, rather than closing a
// listener and listening again later, keeps anyone else on the machine
// from being given it in between.
func refusingPort(t *testing.T) (addr string, listen func() (net.Listener, error)) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "refusing port")
	t.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	return addr, func() (net.Listener, error) {
		if err := syscall.Listen(fd, syscall.SOMAXCONN); err != nil {
			return nil, err
		}
		return net.FileListener(f)
	}
}
