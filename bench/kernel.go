package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Kernel is a client of one kernel's websocket channels (the Jupyter
// messaging protocol over /api/kernels/{id}/channels), enough to time
// execute round trips.
type Kernel struct {
	conn    *websocket.Conn
	session string
	user    string
	seq     int
}

// DialKernel opens the channels websocket at wsURL (ws://…/channels) with
// token.
func DialKernel(ctx context.Context, wsURL, token, user string) (*Kernel, error) {
	session := fmt.Sprintf("bench-%016x", rand.Uint64())
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, Proxy: nil}
	conn, resp, err := d.DialContext(ctx, wsURL+"?session_id="+session, http.Header{"Authorization": {"token " + token}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket %s: %w (HTTP %s)", wsURL, err, resp.Status)
		}
		return nil, fmt.Errorf("websocket %s: %w", wsURL, err)
	}
	return &Kernel{conn: conn, session: session, user: user}, nil
}

// kernelMsg is the part of a Jupyter message the client reads.
type kernelMsg struct {
	Channel      string         `json:"channel"`
	Header       map[string]any `json:"header"`
	ParentHeader map[string]any `json:"parent_header"`
	Content      map[string]any `json:"content"`
}

// Execute runs code and returns the time from sending execute_request to
// having both its execute_reply and the kernel's return to idle, which is
// when a notebook shows the cell as done.
func (k *Kernel) Execute(code string, timeout time.Duration) (time.Duration, error) {
	k.seq++
	msgID := fmt.Sprintf("%s-%d", k.session, k.seq)
	req := map[string]any{
		"header": map[string]any{"msg_id": msgID, "username": k.user, "session": k.session,
			"msg_type": "execute_request", "version": "5.3", "date": time.Now().UTC().Format(time.RFC3339Nano)},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "buffers": []any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": false,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true},
	}
	deadline := time.Now().Add(timeout)
	k.conn.SetWriteDeadline(deadline)
	k.conn.SetReadDeadline(deadline)
	start := time.Now()
	if err := k.conn.WriteJSON(req); err != nil {
		return 0, fmt.Errorf("send execute_request: %w", err)
	}
	replied, idle := false, false
	for !replied || !idle {
		var m kernelMsg
		if err := k.conn.ReadJSON(&m); err != nil {
			return 0, fmt.Errorf("read from kernel (reply %v, idle %v): %w", replied, idle, err)
		}
		if m.ParentHeader["msg_id"] != msgID {
			continue
		}
		switch m.Header["msg_type"] {
		case "execute_reply":
			if st := m.Content["status"]; st != "ok" {
				return 0, fmt.Errorf("execute %q: status %v: %v", code, st, m.Content["evalue"])
			}
			replied = true
		case "status":
			if m.Content["execution_state"] == "idle" {
				idle = true
			}
		}
	}
	return time.Since(start), nil
}

// Close closes the websocket.
func (k *Kernel) Close() error {
	k.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return k.conn.Close()
}
