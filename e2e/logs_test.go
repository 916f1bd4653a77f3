package e2e

import (
	"strings"
	"testing"
)

// TestLogsCommandReadsTheHubsAndAServersLog: with the hub running, `classhub
// logs` prints what the hub did (it opened, alice's server became ready)
// from the data dir, and `classhub logs alice` her notebook server's own
// output from Docker, and neither holds alice's token.
func TestLogsCommandReadsTheHubsAndAServersLog(t *testing.T) {
	c := newClassroom(t)
	alice, teacher := c.user("alice"), c.user("teacher")
	c.addUsers(alice)
	c.classhub("users", "add", teacher, "--admin")
	adminTok, aliceTok := c.token(teacher), c.token(alice)
	c.serve()
	hubLogOnFailure(t, c)
	c.startAndWait(adminTok, alice)

	hubLog := c.classhub("logs")
	for _, want := range []string{`msg="the hub is open"`, `msg="Server ready at /user/` + alice + `/" user=` + alice + ` state=running`} {
		if !strings.Contains(hubLog, want) {
			t.Errorf("classhub logs lacks %q:\n%s", want, hubLog)
		}
	}
	if tail := c.classhub("logs", "--tail", "1"); strings.Count(tail, "\n") != 1 || !strings.HasSuffix(hubLog, tail) {
		t.Errorf("classhub logs --tail 1 printed %q, want the log's last line", tail)
	}
	serverLog := c.classhub("logs", alice)
	if !strings.Contains(serverLog, "JupyterHub") && !strings.Contains(serverLog, "jupyterhub") {
		t.Errorf("classhub logs %s does not look like a singleuser server's log:\n%s", alice, serverLog)
	}
	for what, s := range map[string]string{"the hub's log": hubLog, "her server's log": serverLog} {
		if strings.Contains(s, aliceTok) || strings.Contains(s, adminTok) {
			t.Errorf("%s holds an API token:\n%s", what, s)
		}
	}
}
