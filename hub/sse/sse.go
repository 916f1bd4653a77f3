// Package sse writes server-sent events: the one way the hub streams to
// browsers and API clients, used by the REST API's spawn progress and the
// admin page's live rows. What to send and when to stop stays with each
// handler; this package owns the wire format (sse.go) and the loop of a
// stream that follows a subscription (follow.go).
package sse

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Stream is an event stream open on one response.
type Stream struct {
	w       io.Writer
	flusher http.Flusher
}

// Open answers with an event stream: its headers, which keep caches and
// buffering proxies (nginx's X-Accel-Buffering) from holding events back,
// then a flush, so the client knows at once that the stream is open.
func Open(w http.ResponseWriter) *Stream {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &Stream{w: w}
	s.flusher, _ = w.(http.Flusher)
	s.flush()
	return s
}

// Send writes v, as JSON, as the data of one event, and flushes it.
func (s *Stream) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", b); err != nil {
		return err
	}
	s.flush()
	return nil
}

// SendEvent writes v as JSON in one event named name, which a browser's
// EventSource hands to that event's listeners rather than to onmessage.
// name must be a word: it goes on the wire as it is.
func (s *Stream) SendEvent(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send event %s: %w", name, err)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return err
	}
	s.flush()
	return nil
}

// KeepAlive writes a blank line, which readers skip, so that proxies and
// browsers do not close a stream that has been quiet for a while. It is
// what JupyterHub's own progress stream sends.
func (s *Stream) KeepAlive() error {
	if _, err := io.WriteString(s.w, "\n\n"); err != nil {
		return err
	}
	s.flush()
	return nil
}

func (s *Stream) flush() {
	if s.flusher != nil {
		s.flusher.Flush()
	}
}
