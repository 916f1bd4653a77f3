package app

import (
	"context"
	"sync"
	"time"

	"github.com/classhub/classhub/hub"
)

// startStats samples CPU and memory every statsEvery while the dashboard
// is visible: the engine publishes no event for resource use, so this
// ticker is the UI's one timer. Each round also refreshes the user list,
// since users added through the web admin page or the CLI announce
// nothing on the bus.
func (u *ui) startStats() {
	if u.statsStop != nil || u.conn == nil || u.d.statsEvery <= 0 {
		return
	}
	stop := make(chan struct{})
	u.statsStop = stop
	go func() {
		t := time.NewTicker(u.d.statsEvery)
		defer t.Stop()
		u.d.do(u.sampleStats)
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				u.d.do(u.sampleStats)
			}
		}
	}()
}

func (u *ui) stopStats() {
	if u.statsStop != nil {
		close(u.statsStop)
		u.statsStop = nil
	}
}

// statsWorkers bounds concurrent samples: each takes the engine about a
// second.
const statsWorkers = 4

// sampleStats samples every ready server once, unless a round is still
// running.
func (u *ui) sampleStats() {
	if u.conn == nil || u.statsBusy || !u.visible {
		return
	}
	var names []string
	for _, r := range u.st.Users {
		if r.Phase == ServerReady {
			names = append(names, r.Name)
		}
	}
	u.statsBusy = true
	c, gen := u.conn, u.gen
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
		defer cancel()
		var mu sync.Mutex
		stats := make(map[string]hub.Stats, len(names))
		sampled := hub.Each(ctx, names, statsWorkers, func(ctx context.Context, n string) error {
			s, err := c.Stats(ctx, n)
			mu.Lock()
			stats[n] = s
			mu.Unlock()
			return err
		})
		list, _, lerr := c.Users(ctx, hub.ListOptions{Sort: "name"})
		// After the samples, which the hub counts the class's servers by.
		capacity, cerr := c.Capacity(ctx)
		u.d.do(func() {
			u.statsBusy = false
			if gen != u.gen {
				return
			}
			if lerr == nil {
				u.st.SetUsers(list, false)
			}
			if cerr == nil {
				u.st.Capacity, u.st.CapacityDetail, u.st.Nodes = capacity.Sentence(), capacity.Detail(), capacity.NodeLines(nil)
			}
			for _, o := range sampled {
				if r := u.st.Row(o.User); r != nil && r.Phase == ServerReady {
					r.Stats, r.HasStats = stats[o.User], o.Err == nil
				}
			}
			u.render()
		})
	}()
}

func (u *ui) selectUser(user string) {
	u.st.Selected, u.st.Logs = user, ""
	u.render()
	u.fetchLogs()
}

// fetchLogs shows the end of the selected user's server log, or of the
// hub's own log when nobody is selected.
func (u *ui) fetchLogs() {
	user := u.st.Selected
	if user == "" {
		u.fetchHubLog()
		return
	}
	if u.conn == nil {
		return
	}
	c := u.conn
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
		defer cancel()
		out, err := c.Logs(ctx, user, logTail)
		if err != nil {
			out = err.Error()
		} else if out == "" {
			out = "(the server has written nothing yet)"
		}
		u.d.do(func() {
			if u.st.Selected == user {
				u.st.Logs = out
				u.render()
			}
		})
	}()
}

// fetchHubLog shows the end of the hub's log, read from the data dir.
func (u *ui) fetchHubLog() {
	if u.d.hubLog == nil {
		return
	}
	go func() {
		out, err := u.d.hubLog(logTail)
		if err != nil {
			out = err.Error()
		}
		u.d.do(func() {
			if u.st.Selected == "" {
				u.st.Logs = out
				u.render()
			}
		})
	}()
}
