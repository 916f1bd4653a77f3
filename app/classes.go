package app

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"github.com/classhub/classhub/classclient"
)

// The tray is a client of class hubs as well as the face of this laptop's
// own hub: one of them is current. The class hubs joined, and which is
// current, are classclient's store, which `classhub class` shares; this
// laptop's hub is current when the store names none. While a class hub is
// current this laptop's hub is closed (its servers keep running, as at
// Quit) and the tray renders the learner's server there, which watchClass
// follows by asking the hub.

// startCurrent opens whichever hub is current: a class hub the store
// names, else this laptop's own.
func (u *ui) startCurrent() {
	hubs, err := u.d.classes.Hubs()
	if err != nil {
		u.st.Notice, u.st.NoticeFailed = "Could not read the classes you joined: "+err.Error(), true
		u.openHub()
		return
	}
	u.setClasses(hubs)
	if cur, ok := hubs.Find(hubs.Current); hubs.Current != "" && ok {
		u.enterClass(cur)
		return
	}
	u.openHub()
}

func (u *ui) setClasses(hubs classclient.Hubs) {
	u.st.Classes = u.st.Classes[:0]
	for _, h := range hubs.List {
		u.st.Classes = append(u.st.Classes, ClassEntry{Name: h.Name, URL: h.URL})
	}
}

// reloadClasses reads the store's list again, after a join or a forget.
func (u *ui) reloadClasses() {
	if hubs, err := u.d.classes.Hubs(); err == nil {
		u.setClasses(hubs)
	}
}

// enterClass makes h, which the store has as current, the hub the tray
// shows, closing this laptop's hub.
func (u *ui) enterClass(h classclient.Hub) {
	u.leaveClass()
	wait := u.closeHub()
	go wait()
	u.st.Hub = HubStopped
	c := &Class{Name: h.Name, URL: h.URL, User: h.User}
	u.st.Class = c
	gen := u.classGen
	cli, _, err := u.d.classes.Client()
	if err != nil {
		// No token kept for it: the learner logs in again.
		c.Phase, c.Detail = ClassExpired, err.Error()
		u.render()
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	kick := make(chan struct{}, 1)
	u.classCli, u.classStop, u.classKick = cli, cancel, kick
	u.render()
	go u.watchClass(ctx, gen, cli, kick)
}

// leaveClass stops following the current class hub, if any.
func (u *ui) leaveClass() {
	u.classGen++
	if u.classStop != nil {
		u.classStop()
	}
	u.st.Class, u.classCli, u.classStop, u.classKick = nil, nil, nil, nil
}

// useHub makes the hub at url current, "" being this laptop's own.
func (u *ui) useHub(url string) {
	if url == "" {
		if u.st.Class == nil {
			return
		}
		// Kept, so that the next start opens this laptop's hub too.
		if _, err := u.d.classes.Use(""); err != nil {
			u.showError("Could not switch to this laptop's hub", err)
			return
		}
		u.leaveClass()
		u.openHub()
		return
	}
	if u.st.Class != nil && u.st.Class.URL == url {
		return
	}
	h, err := u.d.classes.Use(url)
	if err != nil {
		u.showError("Could not switch to that class", err)
		return
	}
	u.enterClass(h)
}

// watchClass asks the class hub where the learner's server is, every
// classPoll or at once when kicked, and follows a start's progress stream
// while one is under way: the tray renders what it finds. It ends with
// ctx, when another hub becomes current.
func (u *ui) watchClass(ctx context.Context, gen int, cli *classclient.Client, kick chan struct{}) {
	for {
		s, err := cli.Server(ctx)
		if ctx.Err() != nil {
			return
		}
		u.classDo(gen, func(c *Class) *Note {
			if err != nil {
				return c.SetError(err)
			}
			return c.SetServer(s)
		})
		if err == nil && s.State == classclient.Pending && s.Pending == "spawn" {
			err := cli.Progress(ctx, func(e classclient.Event) {
				u.classDo(gen, func(c *Class) *Note { return c.SetProgress(e) })
			})
			if ctx.Err() != nil {
				return
			}
			if k := classclient.KindOf(err); err != nil && k != classclient.Other {
				// Other: the start ended between the poll and the
				// stream; the next poll says how.
				u.classDo(gen, func(c *Class) *Note { return c.SetError(err) })
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-time.After(u.d.classPoll):
		}
	}
}

// classDo runs fold on the current class on the UI goroutine, unless
// another hub became current meanwhile, then notifies, opens a notebook
// that was waited for, and renders.
func (u *ui) classDo(gen int, fold func(c *Class) *Note) {
	u.d.do(func() {
		c := u.st.Class
		if gen != u.classGen || c == nil {
			return
		}
		if n := fold(c); n != nil && !(c.Opening && c.Phase == ClassReady) {
			u.app.SendNotification(fyne.NewNotification(n.Title, n.Content))
		}
		if c.Opening && c.Phase == ClassReady {
			c.Opening = false
			u.openClassURL(c.ServerURL)
		}
		u.render()
	})
}

// classCall runs fn against the current class hub off the UI goroutine,
// folds its error into the class, and asks the hub again at once.
func (u *ui) classCall(fn func(ctx context.Context, cli *classclient.Client) error) {
	cli, kick, gen := u.classCli, u.classKick, u.classGen
	if cli == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
		defer cancel()
		if err := fn(ctx, cli); err != nil && u.ctx.Err() == nil {
			u.classDo(gen, func(c *Class) *Note { return c.SetError(err) })
		}
		select {
		case kick <- struct{}{}:
		default:
		}
	}()
}

func (u *ui) startClass() {
	c := u.st.Class
	if c == nil {
		return
	}
	c.Stopping, c.Phase, c.Progress, c.Detail = false, ClassStarting, 0, ""
	u.render()
	u.classCall(func(ctx context.Context, cli *classclient.Client) error { return cli.Start(ctx) })
}

// stopClass stops the learner's server, or cancels its start.
func (u *ui) stopClass() {
	c := u.st.Class
	if c == nil {
		return
	}
	c.Stopping, c.Opening, c.Phase = true, false, ClassStopping
	u.render()
	u.classCall(func(ctx context.Context, cli *classclient.Client) error { return cli.Stop(ctx) })
}

// openClass opens the learner's server in the browser, starting it first
// and waiting when it is not ready. The browser is logged in to the hub
// when it joined through the browser; otherwise the hub asks it to.
func (u *ui) openClass() {
	c := u.st.Class
	if c == nil {
		return
	}
	if c.Phase == ClassReady && c.ServerURL != "" {
		u.openClassURL(c.ServerURL)
		return
	}
	c.Opening = true
	if c.Phase == ClassStopped || c.Phase == ClassFailed {
		u.startClass()
		return
	}
	u.render()
}

func (u *ui) openClassURL(url string) {
	if err := u.d.openURL(url); err != nil {
		u.showError("Could not open the browser", err)
	}
}

// retryClass is the tray's answer to trouble: a login the hub refused is
// done again, a failed start is started again, and an unreachable hub is
// asked again.
func (u *ui) retryClass() {
	c := u.st.Class
	if c == nil {
		return
	}
	switch c.Phase {
	case ClassExpired:
		u.joinClass(c.URL)
		return
	case ClassFailed:
		u.startClass()
		return
	}
	c.Phase, c.Detail = ClassChecking, ""
	u.render()
	select {
	case u.classKick <- struct{}{}:
	default:
	}
}
