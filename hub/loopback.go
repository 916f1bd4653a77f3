package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/proxy"
)

// Where the engine runs in a VM (Docker Desktop), the servers' ports are
// published on this machine's loopback, 127.0.0.1, where any program of
// this machine, its browser included, reaches them without the proxy. A
// browser sends a host's cookies to every port of it, so one that had
// logged in to the hub at 127.0.0.1 or localhost would send the hub's
// login to a student's published port as soon as a page of hers, opened
// by the instructor, asked it to: the proxy, which strips that cookie,
// is not on the way. In class mode this machine's browser therefore uses
// the hub at the class link's address only: the links the hub gives it
// lead there, and its loopback addresses send a browser's pages there.

// loopbackShared reports whether servers are reached through ports
// published on this machine's loopback while the hub serves a class.
func (h *Hub) loopbackShared() bool {
	return !h.network.ContainerIPsRoutable && h.cfg.Mode == config.ModeClass
}

// errNoClassHost is a browser on a loopback address in class mode, with
// servers' ports published there, while the class link has no address
// but loopback: a login there would be sent to every student's published
// port, and there is nowhere else to log in.
var errNoClassHost = errors.New("this computer has no address on a network now, and in class mode, where Docker publishes " +
	"every student's notebook server on 127.0.0.1, the hub's pages open only at the class link's address, so that no " +
	"student's server can read your login: connect this computer to the class's network and open the hub again " +
	"from the app, or set the mode to personal to work alone")

// awayFromLoopback is the host a browser on a loopback address is sent
// to, "" when it may stay (loopback is not shared with servers), and
// errNoClassHost when it may neither stay nor go: loopback is shared and
// the class link is itself on loopback (no LAN, or a listen address on
// loopback).
func (h *Hub) awayFromLoopback() (string, error) {
	if !h.loopbackShared() {
		return "", nil
	}
	if to := h.classHosts.get(time.Now(), func() string { return classHost(h.ClassURL()) }); to != "" {
		return to, nil
	}
	return "", errNoClassHost
}

// classHostTTL is how long a class link's host found is used: finding it
// reads the routing table, which on macOS and Windows, where loopback is
// shared, runs a program (route), and anyone who reaches the hub asks for
// it with a request that names a loopback host.
const classHostTTL = 5 * time.Second

// classHostCache keeps the class link's host for classHostTTL.
type classHostCache struct {
	mu   sync.Mutex
	at   time.Time
	host string
}

// get returns the host find gave within classHostTTL before now, else
// calls find, once however many ask at the same time.
func (c *classHostCache) get(now time.Time, find func() string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= classHostTTL || now.Before(c.at) {
		c.host, c.at = find(), now
	}
	return c.host
}

// classHost is the host of classURL, "" when it is on loopback.
func classHost(classURL string) string {
	u, err := url.Parse(classURL)
	if err != nil || auth.LoopbackHost(u.Hostname()) {
		return ""
	}
	return u.Hostname()
}

// endLoopbackLogins ends, when loopback is shared with servers, the
// sessions a browser took at a loopback host: in personal mode, before
// classhub sent this machine's browser to the class link, or while it had
// no LAN address. Their cookies last two weeks and a browser keeps
// sending them to 127.0.0.1, every student's published port included;
// redirecting pages off loopback does not take them out of the browser.
// No session is taken at loopback while it is shared, so once these are
// gone, later opens end nothing: the tray logs the owner in again with
// the next link it opens, at the class link's host.
func (h *Hub) endLoopbackLogins(ctx context.Context) error {
	if !h.loopbackShared() {
		return nil
	}
	n, err := h.store.EndLoopbackSessions(ctx)
	if err != nil {
		return fmt.Errorf("end the logins browsers took at 127.0.0.1, where students' servers now listen: %w", err)
	}
	if n > 0 {
		h.slog.Info("ended the logins browsers took at 127.0.0.1, where students' servers listen", "sessions", n)
	}
	return nil
}

// offLoopback answers a browser that opens a page at a loopback host
// name with a redirect to the same address on the host away gives, when
// it gives one; everything else goes to next. Only pages are sent away:
// scripts and API clients on this machine (which hold no cookie) keep
// using loopback, and a login cookie is only ever set on a page's
// answer, which never comes from a loopback host then.
//
// A page at a loopback host while away has nowhere to send it (an error)
// is refused with the error's text, so that no login is set there.
func offLoopback(next http.Handler, scheme string, away func() (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port, err := net.SplitHostPort(r.Host)
		if err != nil {
			host, port = r.Host, ""
		}
		if auth.LoopbackHost(host) && proxy.OpensPage(r) {
			to, err := away()
			if err != nil {
				// The error reads on inside a sentence (the tray's);
				// alone on the page it starts one.
				msg := err.Error()
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, strings.ToUpper(msg[:1])+msg[1:]+".", http.StatusServiceUnavailable)
				return
			}
			if to != "" {
				if port != "" {
					to = net.JoinHostPort(to, port)
				} else if strings.Contains(to, ":") {
					to = "[" + to + "]"
				}
				w.Header().Set("Cache-Control", "no-store")
				http.Redirect(w, r, scheme+"://"+to+r.URL.RequestURI(), http.StatusFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// othersOffLoopback answers this machine's browser opening a page of
// user's server at a loopback host with a refusal, when user is not the
// owner, servers' ports are published on loopback and there is no class
// link's host to send the browser to (personal mode, or no LAN): the
// owner's login cookie is then for 127.0.0.1, and a student's page opened
// there would send the browser to her published port, which reads it.
// The owner's own server, and requests that open no page, go to next.
func (h *Hub) othersOffLoopback(user string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.network.ContainerIPsRoutable || user == h.Owner() || !auth.AtLoopback(r) || !proxy.OpensPage(r) || h.hasClassHost() {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "This browser is logged in to the hub at 127.0.0.1, where Docker also publishes every student's notebook server, "+
			"so a page of "+user+"'s server opened here could read your login. "+
			"To open it, serve the class (mode \"class\") with this computer on a network and use the class link's address.", http.StatusForbidden)
	})
}

// hasClassHost reports whether a browser at a loopback host is sent to
// the class link's host.
func (h *Hub) hasClassHost() bool {
	to, _ := h.awayFromLoopback()
	return to != ""
}
