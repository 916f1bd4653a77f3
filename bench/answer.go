package bench

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/classhub/classhub/hub/engine"
)

// watchAnswer splits a classhub spawn in two: it waits for the engine to
// report user's container started (events since start, so none is
// missed), then polls that server directly every 50 ms, as the floor is
// polled, and sends the time from start to its first answer. The rest of
// a spawn, up to the API saying ready, is the hub noticing. The channel
// closes without a value if ctx ends first.
func (l *lab) watchAnswer(ctx context.Context, user string, start time.Time) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		defer close(out)
		f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "start"),
			filters.Arg("label", engine.LabelUser+"="+user))
		msgs, errs := l.docker.Events(ctx, events.ListOptions{Since: strconv.FormatInt(start.Unix()-1, 10), Filters: f})
		var id string
		select {
		case m := <-msgs:
			id = m.Actor.ID
		case <-errs:
			return
		case <-ctx.Done():
			return
		}
		info, err := l.docker.ContainerInspect(ctx, id)
		if err != nil || info.NetworkSettings == nil || info.NetworkSettings.Networks[l.netw] == nil {
			return
		}
		url := "http://" + info.NetworkSettings.Networks[l.netw].IPAddress + ":" + strconv.Itoa(notebookPort) + "/user/" + user + "/api"
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		err = waitFor(ctx, spawnLimit, 50*time.Millisecond, nil, func() bool {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode < 500
		})
		if err == nil {
			out <- time.Since(start)
		}
	}()
	return out
}
