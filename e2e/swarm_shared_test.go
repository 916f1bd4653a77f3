//go:build swarmshared

package e2e

// This file holds the attack the hub as a Swarm service does not yet stop:
// its servers share the hub's overlay, so one student's server gets an
// answer from another's. It FAILS today and is kept out of the suite by
// its build tag until the hub service isolates its servers (see the
// README's "A class on a Swarm": the engine will not connect the hub's task
// to each server's own overlay, so that needs another design); run it with
// `go test -tags swarmshared ./e2e -run TestSwarmHubServiceICC`.

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/internal/testenv"
)

// TestSwarmHubServiceICC: with the hub as a service, one student's server
// gets no answer from another's port 8888, by its overlay address or its
// service's name, as on the container backend and with the hub on a
// node's host (spawner's TestSwarmICC).
func TestSwarmHubServiceICC(t *testing.T) {
	c, adminTok, _ := newHubService(t, "ann", "ben")
	cli, ctx := testenv.Docker(t), context.Background()
	ann, ben := c.user("ann"), c.user("ben")
	c.startAndWait(adminTok, ann)
	c.startAndWait(adminTok, ben)
	task := func(user string) swarm.Task {
		svc, ok := serviceOf(t, user)
		if !ok {
			t.Fatalf("%s's server is no service", user)
		}
		tasks, _ := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("desired-state", "running"))})
		if len(tasks) != 1 || tasks[0].Status.ContainerStatus == nil {
			t.Fatalf("%s's service has tasks %+v, want one running here", user, tasks)
		}
		return tasks[0]
	}
	annTask, benTask := task(ann), task(ben)
	hosts := []string{spawner.ContainerName(ben)}
	for _, a := range benTask.NetworksAttachments {
		for _, addr := range a.Addresses {
			if ip, _, err := net.ParseCIDR(addr); err == nil {
				hosts = append(hosts, ip.String())
			}
		}
	}
	// An HTTP exchange, not a bare connect: a sandbox's user-mode network
	// may accept a connection to any address off the machine.
	for _, h := range hosts {
		url := "http://" + net.JoinHostPort(h, strconv.Itoa(spawner.ServerPort)) + "/user/" + ben + "/api"
		out, code := execInContainer(t, cli, annTask.Status.ContainerStatus.ContainerID, "python3", "-c",
			"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", url)
		if code == 0 || strings.Contains(out, `"version"`) {
			t.Errorf("ann's server got an answer from ben's at %s: %s", url, out)
		}
	}
}
