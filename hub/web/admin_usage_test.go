package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

func TestAdminPageShowsUsageAndCapacity(t *testing.T) {
	e, root := adminEnv(t)
	ctx := context.Background()
	e.spawner.SetStats("alice", spawner.Stats{CPUPercent: 37.4, MemoryBytes: 310 << 20, MemoryLimit: 2 << 30, ImageID: "sha256:notebook"})
	e.start("alice")
	e.hub.SampleStats(ctx, 0)
	c, err := e.hub.Capacity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := root.get("/hub/admin")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `<td class="usage" data-usage="cpu">37%</td>`, `<td class="usage" data-usage="memory">310 MiB / 2.0 GiB</td>`,
		c.Sentence(), "(1 running now)", "taken to use about", `data-start-question=""`,
		`href="/hub/admin/logs/alice"`, `href="/hub/admin/hub-log"`)
	// bob's server does not run: no figures.
	if !strings.Contains(p.Body, `data-user="bob"`) || strings.Count(p.Body, `data-usage="cpu">–`) < 1 {
		t.Errorf("bob's row has figures:\n%s", p.Body)
	}
}

func TestStartAllPastTheCapacityAsksFirst(t *testing.T) {
	e, root := adminEnv(t)
	e.addUser("carol", "carols-password", false)
	// 1.5 GiB keeps 1 GiB for the system: not 3 servers of 256 MiB.
	e.sizer.setMemory(1536 << 20)
	page := root.get("/hub/admin")
	wantBody(t, page, "This laptop holds about 1 student (0 running now).", "data-start-question=\"Start 4 servers? That makes 4 running")

	// Without the script: the post asks, with the numbers, and starts nothing.
	form := url.Values{"_xsrf": {root.csrf()}, "action": {"start-all"}}
	p := root.post("/hub/admin/action", form)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Are you sure?", "Start 4 servers? That makes 4 running, and this laptop holds about 1 student", `name="confirm" value="yes"`)
	for _, n := range []string{"root", "alice", "bob", "carol"} {
		if e.spawner.Starts(n) != 0 {
			t.Fatalf("%s's server started before the question was answered", n)
		}
	}
	// The answer starts them all.
	form.Set("confirm", "yes")
	wantStatus(t, root.post("/hub/admin/action", form), http.StatusSeeOther)
	for _, n := range []string{"root", "alice", "bob", "carol"} {
		e.waitReady(n)
	}
	// A forged post, without the page's token, neither asks nor starts.
	e.addUser("dave", "daves-password", false)
	wantStatus(t, root.post("/hub/admin/action", url.Values{"action": {"start-all"}, "confirm": {"yes"}}), http.StatusForbidden)
	if e.spawner.Starts("dave") != 0 {
		t.Error("a post without the anti-forgery token started dave's server")
	}
}

func TestAdminFeedSendsUsage(t *testing.T) {
	e, root := adminEnv(t)
	e.spawner.SetStats("alice", spawner.Stats{CPUPercent: 2.5, MemoryBytes: 120 << 20, MemoryLimit: 1 << 30, ImageID: "sha256:notebook"})
	e.start("alice")
	ts := httptest.NewServer(e.web.Handler())
	t.Cleanup(ts.Close)
	f := root.openFeed(ts)
	if f.resp.StatusCode != http.StatusOK {
		t.Fatalf("feed answered %s", f.resp.Status)
	}
	var u adminUsage
	for {
		line, err := f.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "event: usage\n" {
			data, _ := f.br.ReadString('\n')
			if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &u); err != nil {
				t.Fatalf("usage %q: %v", data, err)
			}
			break
		}
	}
	if got := u.Servers["alice"]; got != (usageCells{CPU: "2.5%", Memory: "120 MiB / 1.0 GiB"}) || len(u.Servers) != 1 {
		t.Errorf("usage servers %+v", u.Servers)
	}
	if !strings.Contains(u.Capacity, "(1 running now)") || !strings.Contains(u.Detail, "taken to use about") {
		t.Errorf("usage capacity %q, %q", u.Capacity, u.Detail)
	}
}

// TestAdminPageListsTheSwarmsNodes: with the swarm backend the page lists
// each node with its servers and free memory, and the capacity over them;
// with one machine, no list.
func TestAdminPageListsTheSwarmsNodes(t *testing.T) {
	nodes := []spawner.Node{
		{Hostname: "lab1", Role: "manager", Leader: true, Self: true, State: "ready", Availability: "active", Memory: 8 << 30, CPUs: 4,
			Servers: []string{"alice"}, Reserved: 512 << 20},
		{Hostname: "lab2", Role: "worker", State: "down", Availability: "active", Memory: 16 << 30, CPUs: 8},
	}
	// Containers run on this machine, whatever swarm its engine is in.
	e, root := adminEnv(t)
	e.sizer.nodes = nodes
	if p := root.get("/hub/admin"); strings.Contains(p.Body, `id="nodes"`) || !strings.Contains(p.Body, "This laptop holds") {
		t.Errorf("one machine, yet the page lists nodes:\n%s", p.Body)
	}

	e = newEnvWith(t, nil, func(c *config.Config) { c.Backend = config.BackendSwarm })
	e.addUser("root", "root-password", true)
	e.addUser("alice", "alice-password", false)
	e.sizer.nodes = nodes
	root = e.loggedIn("root")
	p := root.get("/hub/admin")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `<ul id="nodes"`, "The swarm&#39;s 2 machines hold about",
		"<li>lab1 (manager, leader, the hub&#39;s): ready, active; 1 server (alice); about 7.5 GiB of 8.0 GiB free; holds about",
		"<li>lab2 (worker): down, active; no server; about 16.0 GiB of 16.0 GiB free; new servers do not land here.</li>")
}
