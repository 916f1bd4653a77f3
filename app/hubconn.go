package app

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

// openHub opens the hub in the background. While that fails (Docker
// missing, stopped, forbidden) the dashboard shows the doctor's advice and
// a Retry button.
func (u *ui) openHub() {
	u.gen++
	gen := u.gen
	u.st.Hub, u.st.Problem, u.st.Doctor = HubStarting, "", nil
	u.render()
	go func() {
		cfg, err := config.Load(u.d.configPath)
		if err != nil {
			u.d.do(func() { u.openFailed(gen, err, nil) })
			return
		}
		conn, err := u.d.open(u.ctx, cfg)
		if err != nil {
			rep := u.d.doctor(u.ctx, cfg)
			u.d.do(func() { u.openFailed(gen, err, &rep) })
			return
		}
		// Subscribe before listing, so no change falls between the two.
		sub := conn.Bus().Subscribe(1024, false, nil)
		list, _, lerr := conn.Users(u.ctx, hub.ListOptions{Sort: "name"})
		serveCtx, stopServe := context.WithCancel(u.ctx)
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := conn.Serve(serveCtx); err != nil && serveCtx.Err() == nil {
				u.d.do(func() { u.serveFailed(gen, err) })
			}
		}()
		u.d.do(func() {
			if gen != u.gen {
				// Quit or restarted meanwhile.
				stopServe()
				sub.Close()
				go func() { <-served; conn.Close() }()
				return
			}
			u.conn, u.sub, u.stopServe, u.served, u.cfg = conn, sub, stopServe, served, cfg
			u.st.Hub, u.st.Problem = HubRunning, ""
			u.st.Owner, u.st.ClassURL = conn.Owner(), conn.ClassURL()
			u.st.Fingerprint, u.st.Exposed = conn.TLSFingerprint(), !cfg.LoopbackOnly()
			u.st.PublicAddr, u.st.InternalAddr = conn.PublicAddr().String(), conn.InternalAddr().String()
			u.st.Network = conn.Network()
			u.st.Image = ImageStatus{Ref: cfg.Image}
			if lerr == nil {
				u.st.SetUsers(list, true)
			} else {
				u.st.Notice, u.st.NoticeFailed = "Could not list the users: "+lerr.Error(), true
			}
			u.render()
			if u.visible {
				u.startStats()
			}
			u.fetchHubLog()
		})
		go u.follow(gen, sub)
		rep := u.d.doctor(u.ctx, cfg)
		u.d.do(func() {
			if gen == u.gen {
				u.st.SetDoctor(rep)
				u.render()
			}
		})
	}()
}

func (u *ui) openFailed(gen int, err error, rep *hub.DoctorReport) {
	if gen != u.gen {
		return
	}
	u.st.Hub, u.st.Problem = HubError, err.Error()
	u.st.Doctor = rep
	u.render()
	// The hub's log says why it did not open.
	u.fetchHubLog()
}

func (u *ui) serveFailed(gen int, err error) {
	if gen != u.gen {
		return
	}
	wait := u.closeHub()
	go wait()
	u.st.Hub, u.st.Problem = HubError, "the hub stopped serving: "+err.Error()
	u.render()
}

// closeHub stops serving and returns a func that waits until the hub is
// closed. Servers keep running: the next hub adopts them.
func (u *ui) closeHub() (wait func()) {
	u.gen++
	conn, sub, stop, served := u.conn, u.sub, u.stopServe, u.served
	u.conn, u.sub, u.stopServe, u.served = nil, nil, nil, nil
	if u.st.Hub == HubRunning || u.st.Hub == HubStarting {
		u.st.Hub = HubStopped
	}
	if conn == nil {
		return func() {}
	}
	stop()
	sub.Close()
	return sync.OnceFunc(func() {
		<-served
		conn.Close()
	})
}

// restartHub reopens the hub so saved settings take effect.
func (u *ui) restartHub() {
	wait := u.closeHub()
	u.st.Hub = HubStarting
	u.render()
	go func() {
		wait()
		u.d.do(u.openHub)
	}()
}

func (u *ui) retry() {
	if u.conn == nil {
		u.openHub()
	}
}

// follow is the one loop that feeds hub events to the UI.
func (u *ui) follow(gen int, sub *hub.Subscription) {
	for e := range sub.C {
		u.d.do(func() {
			if gen == u.gen {
				u.apply(e)
			}
		})
	}
}

func (u *ui) apply(e hub.Event) {
	if e.Kind == hub.EventImageChanged {
		// The hub runs the new image with no restart (Settings, the
		// admin page): it is what Settings compares against now.
		u.cfg.Image = e.Image
		if u.settings != nil {
			u.settings.ImageChanged(e.Image)
		}
	}
	eff := u.st.Apply(e)
	if eff.Notify != nil {
		u.app.SendNotification(fyne.NewNotification(eff.Notify.Title, eff.Notify.Content))
	}
	if eff.Reload {
		u.reloadUsers(eff.Resync)
	}
	if eff.Logs {
		u.fetchLogs()
	}
	u.render()
}

// reloadUsers fetches the user list; full takes every server's state from
// it too. Reloads in flight absorb new requests.
func (u *ui) reloadUsers(full bool) {
	if u.conn == nil || u.reloading {
		return
	}
	u.reloading = true
	conn, gen := u.conn, u.gen
	go func() {
		list, _, err := conn.Users(u.ctx, hub.ListOptions{Sort: "name"})
		u.d.do(func() {
			u.reloading = false
			if gen != u.gen || err != nil {
				return
			}
			u.st.SetUsers(list, full)
			u.render()
		})
	}()
}
