package sse

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStream(t *testing.T) {
	rec := httptest.NewRecorder()
	s := Open(rec)
	if !rec.Flushed {
		t.Error("the stream was not flushed open")
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if err := s.Send(map[string]any{"progress": 50, "message": "line one\nline two"}); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepAlive(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(map[string]any{"ready": true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(func() {}); err == nil {
		t.Error("an event JSON cannot carry was sent")
	}
	// Read it as an EventSource does: data lines, events ended by a
	// blank line, and nothing else.
	var got []map[string]any
	sc := bufio.NewScanner(strings.NewReader(rec.Body.String()))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is no event data", line)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("data %q: %v", data, err)
		}
		got = append(got, v)
	}
	if len(got) != 2 || got[0]["message"] != "line one\nline two" || got[1]["ready"] != true {
		t.Errorf("events %v", got)
	}
}

func TestSendEventNamesIt(t *testing.T) {
	rec := httptest.NewRecorder()
	s := Open(rec)
	if err := s.SendEvent("stats", map[string]any{"note": "a\nb"}); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Body.String(), "event: stats\ndata: {\"note\":\"a\\nb\"}\n\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
