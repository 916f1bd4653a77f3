package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// The Debian proxy starts with the bench's environment (NODE_PATH), takes
// a route as JupyterHub adds one, and forwards the whole path to it.
func TestCHPRoutesUserPrefix(t *testing.T) {
	path := testenv.Command(t, "configurable-http-proxy")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "backend saw "+r.URL.Path)
	}))
	defer backend.Close()
	ctx := context.Background()
	chp, err := StartCHP(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer chp.Stop()
	if err := chp.AddRoute(ctx, "/user/alice", backend.URL); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(chp.Public + "/user/alice/api/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "backend saw /user/alice/api/status" {
		t.Errorf("through CHP: %s %q", resp.Status, body)
	}
	resp, err = http.Get(chp.Public + "/user/bob/api/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Error("a path without a route reached the backend")
	}
	chp.token = "wrong"
	if err := chp.AddRoute(ctx, "/user/bob", backend.URL); err == nil {
		t.Error("CHP took a route with a wrong token")
	}
}
