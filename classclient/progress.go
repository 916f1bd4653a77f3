package classclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Event is one step of a server's start, from the hub's progress stream.
type Event struct {
	// Progress is how far the start is, 0 to 100.
	Progress int `json:"progress"`
	// Message is the hub's sentence for the step.
	Message string `json:"message"`
	// Ready and Failed end the stream.
	Ready  bool `json:"ready"`
	Failed bool `json:"failed"`
	// URL is the server's address, on the ready event; made absolute.
	URL string `json:"url"`
	// Phase and Reason are classhub's: the step's phase ("pull", "create",
	// "wait", …) and why a failed start failed ("cancelled", …). Stock
	// JupyterHub leaves them "".
	Phase  string `json:"phase"`
	Reason string `json:"reason"`
}

// Progress follows the start of the user's default server, calling fn for
// each step until the stream ends. It returns nil when the server is ready
// (a server that was ready already gets one ready event), an *Error of kind
// StartFailed when the hub reports the start failed, and an error when the
// server is not starting at all or the stream breaks off.
func (c *Client) Progress(ctx context.Context, fn func(Event)) error {
	name, err := c.name(ctx)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, http.MethodGet, "/hub/api/users/"+url.PathEscape(name)+"/server/progress", nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		err := c.classify(resp, data)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusBadRequest {
			// Not starting: JupyterHub 3.0 answers 400 for a ready server
			// as well as for a stopped one.
			return c.readyNow(ctx, fn, &Error{Kind: Other, Hub: c.Hub, Status: e.Status, Detail: "your server is not starting: start it first"})
		}
		if err == nil {
			err = &Error{Kind: NotHub, Hub: c.Hub, Status: resp.StatusCode, Detail: "its progress stream answered no events"}
		}
		return err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(v, " "))
			continue
		}
		if line != "" || data.Len() == 0 {
			continue // comments (keep-alives), other fields, blank lines
		}
		var ev Event
		err := json.Unmarshal([]byte(data.String()), &ev)
		data.Reset()
		if err != nil {
			return &Error{Kind: NotHub, Hub: c.Hub, Detail: "its progress stream sent something that is not JSON", Err: err}
		}
		ev.URL = c.abs(ev.URL)
		fn(ev)
		if ev.Ready {
			return nil
		}
		if ev.Failed {
			d := ev.Message
			if ev.Reason != "" {
				d = ev.Reason + ": " + d
			}
			return &Error{Kind: StartFailed, Hub: c.Hub, Detail: d}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return &Error{Kind: Unreachable, Hub: c.Hub, Detail: "the progress stream broke off", Err: err}
	}
	// JupyterHub ends the stream without an event when a start is
	// abandoned; ask where the server is.
	return c.readyNow(ctx, fn, &Error{Kind: StartFailed, Hub: c.Hub, Detail: "the progress stream ended before the server was ready"})
}

// readyNow asks where the server is when the stream cannot tell: ready,
// fn hears one ready event and readyNow returns nil; otherwise it returns
// notReady.
func (c *Client) readyNow(ctx context.Context, fn func(Event), notReady error) error {
	s, err := c.Server(ctx)
	if err != nil {
		return err
	}
	if s.State != Ready {
		return notReady
	}
	fn(Event{Progress: 100, Ready: true, URL: s.URL, Message: "Server ready at " + s.URL})
	return nil
}
