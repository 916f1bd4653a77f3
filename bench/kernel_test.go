package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeKernel answers execute_request as a kernel does, interleaving
// messages for other parents, and fails code that says "raise".
func fakeKernel(t *testing.T, wantToken string) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+wantToken || r.URL.Query().Get("session_id") == "" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			var req kernelMsg
			if err := c.ReadJSON(&req); err != nil {
				return
			}
			parent := req.Header
			send := func(channel, typ string, content map[string]any, p map[string]any) {
				c.WriteJSON(map[string]any{"channel": channel, "header": map[string]any{"msg_type": typ},
					"parent_header": p, "content": content})
			}
			other := map[string]any{"msg_id": "someone-else"}
			status := "ok"
			if strings.Contains(req.Content["code"].(string), "raise") {
				status = "error"
			}
			send("iopub", "status", map[string]any{"execution_state": "busy"}, parent)
			send("iopub", "status", map[string]any{"execution_state": "idle"}, other)
			send("shell", "execute_reply", map[string]any{"status": "ok"}, other)
			send("shell", "execute_reply", map[string]any{"status": status, "evalue": "boom"}, parent)
			time.Sleep(2 * time.Millisecond)
			send("iopub", "status", map[string]any{"execution_state": "idle"}, parent)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestKernelExecuteWaitsForReplyAndIdle(t *testing.T) {
	srv := fakeKernel(t, "tok")
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/kernels/k1/channels"
	k, err := DialKernel(context.Background(), ws, "tok", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for i := 0; i < 3; i++ {
		d, err := k.Execute("1", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// The fake sends idle 2 ms after the reply: a client that
		// stopped at the reply, or at another parent's idle, is faster.
		if d < 2*time.Millisecond {
			t.Errorf("round trip %v ended before the kernel went idle", d)
		}
	}
	if _, err := k.Execute("raise", 5*time.Second); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failing execute returned %v", err)
	}
}

func TestDialKernelReportsRefusal(t *testing.T) {
	srv := fakeKernel(t, "tok")
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/channels"
	if _, err := DialKernel(context.Background(), ws, "wrong", "alice"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("wrong token: %v", err)
	}
}
