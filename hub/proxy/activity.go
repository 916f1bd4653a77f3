package proxy

import (
	"io"
	"net/http"
	"time"
)

// DefaultActivityInterval is how often, at most, the Activity hook hears
// about one user's traffic. The idle culler works in minutes, and the hub
// coalesces last_activity writes over 30 s as well.
const DefaultActivityInterval = 30 * time.Second

// touch reports activity on rt to the Activity hook unless it already did so
// within the activity interval. It costs a clock read and an atomic load on
// the common path, so it can run on every read of a proxied body.
func (p *Proxy) touch(rt *route) {
	if p.activity == nil {
		return
	}
	now := p.now()
	n := now.UnixNano()
	prev := rt.lastActivity.Load()
	if prev != 0 && n-prev < int64(p.activityInterval) {
		return
	}
	if !rt.lastActivity.CompareAndSwap(prev, n) {
		return // another goroutine is reporting this moment
	}
	p.activity(rt.user, now)
}

// watchResponse is the ReverseProxy's ModifyResponse. Like configurable-http-
// proxy, it counts successful responses and the data that flows afterwards
// (downloads, event streams, websocket frames in both directions) as
// activity, and ignores errors, so a flood of 404s or 503s does not keep a
// server alive.
func (p *Proxy) watchResponse(rt *route, res *http.Response) error {
	confineSetCookies(res.Header, rt.prefix, p.hubCookies)
	if p.activity == nil || res.StatusCode >= 300 {
		return nil
	}
	p.touch(rt)
	if res.StatusCode == http.StatusSwitchingProtocols {
		// ReverseProxy needs the body to stay writable to splice the
		// upgraded connection.
		if rwc, ok := res.Body.(io.ReadWriteCloser); ok {
			res.Body = &activityConn{ReadWriteCloser: rwc, p: p, rt: rt}
		}
		return nil
	}
	if res.Body != nil && res.Body != http.NoBody {
		res.Body = &activityBody{ReadCloser: res.Body, p: p, rt: rt}
	}
	return nil
}

// activityBody reports activity while a response body streams.
type activityBody struct {
	io.ReadCloser
	p  *Proxy
	rt *route
}

func (b *activityBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if n > 0 {
		b.p.touch(b.rt)
	}
	return n, err
}

// activityConn reports activity on an upgraded (websocket) connection.
type activityConn struct {
	io.ReadWriteCloser
	p  *Proxy
	rt *route
}

func (c *activityConn) Read(buf []byte) (int, error) {
	n, err := c.ReadWriteCloser.Read(buf)
	if n > 0 {
		c.p.touch(c.rt)
	}
	return n, err
}

func (c *activityConn) Write(buf []byte) (int, error) {
	n, err := c.ReadWriteCloser.Write(buf)
	if n > 0 {
		c.p.touch(c.rt)
	}
	return n, err
}
