package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// StubHubVersion is the hub version the stub claims: the image's
// jupyterhub-singleuser is 3.0.0 and warns on a mismatch.
const StubHubVersion = "3.0.0"

// StubHub is the least hub a jupyterhub-singleuser server needs to stay up
// outside classhub: it answers the version check the server makes at
// start (GET $JUPYTERHUB_API_URL, and it exits if that fails) and accepts
// activity reports. It checks no tokens, so it serves only the floor
// containers of a benchmark, on the bridge gateway of the bench's own
// network.
type StubHub struct {
	// URL is the JUPYTERHUB_API_URL to give containers.
	URL string
	srv *http.Server
}

// StubHubHandler answers every request with 200 and the version header.
func StubHubHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-JupyterHub-Version", StubHubVersion)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"version": %q}`, StubHubVersion)
	})
}

// StartStubHub listens on ip (a free port) and serves StubHubHandler.
func StartStubHub(ip string) (*StubHub, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("stub hub on %s: %w", ip, err)
	}
	srv := &http.Server{Handler: StubHubHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return &StubHub{URL: "http://" + l.Addr().String() + "/hub/api", srv: srv}, nil
}

// Close stops the stub.
func (s *StubHub) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
