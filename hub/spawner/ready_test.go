package spawner

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

func TestWaitReady(t *testing.T) {
	var hits atomic.Int32
	tests := []struct {
		name    string
		handler func(n int32) int
		wantErr string
	}{
		{"ok at once", func(int32) int { return 200 }, ""},
		{"redirect counts", func(int32) int { return 302 }, ""},
		{"not found counts", func(int32) int { return 404 }, ""},
		{"503 then up", func(n int32) int {
			if n < 3 {
				return 503
			}
			return 200
		}, ""},
		{"never up", func(int32) int { return 503 }, "did not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/user/alice/api" {
					t.Errorf("polled %s", r.URL.Path)
				}
				w.WriteHeader(tt.handler(hits.Add(1)))
			}))
			defer srv.Close()
			d := New(aliveEngine{}, Options{Config: config.Default()})
			limit := time.Minute
			if tt.wantErr != "" {
				limit = 1500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			err := d.waitReady(ctx, "alice", "id", srv.URL+"/user/alice/api", limit)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("waitReady = %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), "http_timeout") {
				t.Errorf("the timeout error does not name the setting: %v", err)
			}
		})
	}
}

func TestWaitReadyRefusedThenUp(t *testing.T) {
	// A port nobody listens on yet, as while the server boots.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := New(aliveEngine{}, Options{Config: config.Default()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	up := make(chan *http.Server, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			up <- nil
			return
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go srv.Serve(ln)
		up <- srv
	}()
	err = d.waitReady(ctx, "alice", "id", "http://"+addr+"/user/alice/api", time.Minute)
	if srv := <-up; srv != nil {
		srv.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}
