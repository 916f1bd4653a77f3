package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestAdminSeesUsageAndLogs walks the admin page in Chromium against a
// real hub and engine: it says how many students the laptop holds, a
// running student's row fills in its CPU and memory from the page's feed,
// and the student's server log, into which she printed markup from her
// terminal, shows that markup as text, none of it run.
func TestAdminSeesUsageAndLogs(t *testing.T) {
	c := newClassroom(t)
	student, teacher := c.user("student"), c.user("teacher")
	c.addUsers(student)
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	c.serve()
	hubLogOnFailure(t, c)
	c.startAndWait(c.token(teacher), student)
	// What a student can do from her notebook's terminal: write to her
	// server's output, which is the log the instructor reads.
	const markup = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
	if out, code := dockerExec(t, testenv.Docker(t), spawner.ContainerName(student), "sh", "-c", "echo '"+markup+"' > /proc/1/fd/1"); code != 0 {
		t.Fatalf("print into the server's log: exit %d: %s", code, out)
	}

	b := newBrowser(t, c.browserTrust()...)
	tb := b.tab(t, teacher)
	tb.run("open the admin page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/admin"))
	tb.waitPath("the login page comes first", time.Minute, "/hub/login")
	formLogin(tb, teacher, teacherPW, "usage-00-login")
	tb.waitPath("the login leads back to the admin page", time.Minute, "/hub/admin")
	row := fmt.Sprintf(`document.querySelector('tr[data-user=%q]')`, student)
	tb.waitJS("the page says the capacity and the student's server's CPU and memory", 2*time.Minute, fmt.Sprintf(
		`/^This laptop holds about \d+ students? \(1 running now\)\.$/.test(document.querySelector("#capacity-sentence").textContent) &&
		 /^\d+(\.\d)?%% *$/.test(%[1]s.querySelector('td[data-usage="cpu"]').textContent) &&
		 / MiB \/ /.test(%[1]s.querySelector('td[data-usage="memory"]').textContent)`, row))
	tb.shot("usage-01-admin")

	tb.click("the student's log", fmt.Sprintf(`a[href="/hub/admin/logs/%s"]`, student))
	tb.waitPath("the log page", time.Minute, "/hub/admin/logs/"+student)
	tb.waitJS("the markup she printed is text, and none of it ran", time.Minute, fmt.Sprintf(
		`document.querySelector("pre.log").textContent.includes(%q) && !document.querySelector("pre.log *") &&
		 !document.querySelector("img[src='x']") && window.pwned === undefined`, markup))
	tb.shot("usage-02-log")
}
