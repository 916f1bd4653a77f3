package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// Debian's JupyterHub starts from the throwaway config, answers its REST
// API through the proxy it started, and Stop leaves neither running.
func TestJupyterHubStartsAndStops(t *testing.T) {
	path := testenv.Command(t, "jupyterhub")
	testenv.Command(t, "configurable-http-proxy")
	j, err := NewJupyterHub(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := j.Start(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Stop()
	if d <= 0 {
		t.Errorf("start took %v", d)
	}
	resp, err := http.Get(j.Base + "/hub/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"version"`) || !strings.HasPrefix(resp.Header.Get("X-JupyterHub-Version"), "3.") {
		t.Errorf("/hub/api: %s %s", resp.Status, body)
	}
	mem, pids, err := TreeMem(j.Proc.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) < 2 {
		t.Errorf("JupyterHub's process tree %v lacks its proxy", pids)
	}
	if mem.RSS < 10<<20 {
		t.Errorf("JupyterHub and its proxy use %d bytes", mem.RSS)
	}
	j.Stop()
	for _, p := range pids {
		if alive(p) {
			t.Errorf("process %d of JupyterHub's tree runs after Stop", p)
		}
	}
}
