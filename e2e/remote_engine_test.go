package e2e

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRemoteEngineRefusedBeforeDialing runs `classhub serve` and `classhub
// doctor` with DOCKER_HOST naming another machine's engine. Both refuse
// with what to do instead, and nothing is sent to the engine: the
// client's TCP would go through HTTP_PROXY, a listener of the test's,
// which no connection reaches.
func TestRemoteEngineRefusedBeforeDialing(t *testing.T) {
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	var dialed atomic.Int32
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			dialed.Add(1)
			c.Close()
		}
	}()
	proxy := "http://" + trap.Addr().String()
	for _, host := range []string{"tcp://192.0.2.1:2376", "ssh://user@example.invalid"} {
		env := []string{"DOCKER_HOST=" + host, "DOCKER_TLS_VERIFY=", "HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy,
			"http_proxy=" + proxy, "https_proxy=" + proxy, "NO_PROXY=", "no_proxy="}
		for _, args := range [][]string{{"serve", "--listen", "127.0.0.1:0"}, {"doctor"}} {
			stdout, stderr, code := run(t, env, args...)
			out := stdout + stderr
			if code == 0 {
				t.Errorf("DOCKER_HOST=%s classhub %s: exit code 0, want a refusal:\n%s", host, args[0], out)
			}
			for _, want := range []string{"DOCKER_HOST=" + host, "run classhub on", "unset DOCKER_HOST"} {
				if !strings.Contains(out, want) {
					t.Errorf("DOCKER_HOST=%s classhub %s does not say %q:\n%s", host, args[0], want, out)
				}
			}
			if strings.Contains(out, "panic") {
				t.Errorf("classhub %s crashed:\n%s", args[0], out)
			}
		}
	}
	if n := dialed.Load(); n != 0 {
		t.Errorf("classhub connected %d times towards the remote engine before refusing it", n)
	}
}
