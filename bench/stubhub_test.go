package bench

import (
	"net/http"
	"strings"
	"testing"
)

func TestStubHubAnswersVersionCheckAndActivity(t *testing.T) {
	s, err := StartStubHub("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasSuffix(s.URL, "/hub/api") {
		t.Errorf("URL %s is not a hub API URL", s.URL)
	}
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-JupyterHub-Version") != StubHubVersion {
		t.Errorf("GET /hub/api: %s, version %q", resp.Status, resp.Header.Get("X-JupyterHub-Version"))
	}
	resp, err = http.Post(s.URL+"/users/alice/activity", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST activity: %s", resp.Status)
	}
	s.Close()
	if _, err := http.Get(s.URL); err == nil {
		t.Error("the stub still answers after Close")
	}
}
