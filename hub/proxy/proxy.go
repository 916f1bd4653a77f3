// Package proxy is classhub's in-process proxy with configurable-http-proxy
// semantics: /user/{name}/… goes to that user's notebook server, path and
// query forwarded unchanged, websockets and event streams included;
// everything else goes to the hub. It replaces the separate CHP process of a
// JupyterHub deployment, so the hub changes routes with a method call.
//
// The one rule that matters most is in classify (paths.go): a request is
// forwarded to a user's server only when the path the client sent names
// that user, so a crafted path can never carry one user's cookies to
// another user's server.
package proxy

import (
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

// Options holds the hooks and dependencies of a Proxy; all are optional.
type Options struct {
	// NotRunning answers /user/{user}/… when user has no route. The hub
	// redirects browsers to its own pages here. Default: NotRunning.
	NotRunning func(w http.ResponseWriter, r *http.Request, user string)
	// Unavailable answers when user's server cannot be reached or fails
	// before sending a response. Default: Unavailable.
	Unavailable func(w http.ResponseWriter, r *http.Request, user string, err error)
	// Activity hears about successful traffic to user's server, at most once
	// per ActivityInterval per user, so the idle culler knows the server is
	// in use. It runs on the proxying goroutine and must not block.
	Activity func(user string, t time.Time)
	// ActivityInterval limits Activity calls; zero means
	// DefaultActivityInterval.
	ActivityInterval time.Duration
	// Hub serves every request that is not for a user's server. Nil answers
	// 404.
	Hub http.Handler
	// Transport carries requests to users' servers. Nil means a transport
	// that never uses an environment HTTP proxy and keeps enough idle
	// connections per server that busy notebooks do not churn ports.
	Transport http.RoundTripper
	// ErrorLog receives proxy errors; nil means the log package's standard
	// logger.
	ErrorLog *log.Logger
}

// Proxy routes requests to users' notebook servers and to the hub. It is
// safe for concurrent use.
type Proxy struct {
	notRunning       func(http.ResponseWriter, *http.Request, string)
	unavailable      func(http.ResponseWriter, *http.Request, string, error)
	activity         func(string, time.Time)
	activityInterval time.Duration
	hub              http.Handler
	transport        http.RoundTripper
	errorLog         *log.Logger
	now              func() time.Time // replaced in tests
	buffers          bufferPool

	mu     sync.RWMutex
	routes map[string]*route
}

// New returns a Proxy with an empty routing table.
func New(opts Options) *Proxy {
	p := &Proxy{
		notRunning:       opts.NotRunning,
		unavailable:      opts.Unavailable,
		activity:         opts.Activity,
		activityInterval: opts.ActivityInterval,
		hub:              opts.Hub,
		transport:        opts.Transport,
		errorLog:         opts.ErrorLog,
		now:              time.Now,
		routes:           make(map[string]*route),
	}
	if p.notRunning == nil {
		p.notRunning = NotRunning
	}
	if p.unavailable == nil {
		p.unavailable = Unavailable
	}
	if p.activityInterval <= 0 {
		p.activityInterval = DefaultActivityInterval
	}
	if p.hub == nil {
		p.hub = http.NotFoundHandler()
	}
	if p.transport == nil {
		p.transport = newTransport()
	}
	return p
}

// ServeHTTP routes r: to a user's server, to the hub, or to a redirect when
// its path is not canonical (see classify).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := classify(r.URL)
	switch d.verdict {
	case toHub:
		p.hub.ServeHTTP(w, r)
	case toCanonical:
		notCanonical(w, r, d.location)
	case toUser:
		rt := p.lookup(d.user)
		if rt == nil {
			p.notRunning(w, r, d.user)
			return
		}
		rt.rp.ServeHTTP(&forwardWriter{ResponseWriter: w, in: r}, r)
	}
}

// newReverseProxy builds the forwarding half of rt.
func (p *Proxy) newReverseProxy(rt *route) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = rt.target.Scheme
			pr.Out.URL.Host = rt.target.Host
			// ReverseProxy drops query parameters net/url cannot parse,
			// to stop a proxy and its backend from reading a query
			// differently. Routing never looks at the query, so it goes
			// to the server exactly as the client sent it.
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			setForwarded(pr.Out, pr.In)
		},
		Transport:      p.transport,
		ErrorLog:       p.errorLog,
		BufferPool:     &p.buffers,
		ModifyResponse: func(res *http.Response) error { return p.watchResponse(rt, res) },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.proxyError(rt, w, r, err)
		},
	}
}

func newTransport() *http.Transport {
	return &http.Transport{
		// Proxy stays nil: container addresses must never be sent to an
		// HTTP_PROXY from the environment.
		DialContext: (&net.Dialer{
			// A server on this machine accepts within milliseconds or
			// is not there.
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		// The default of 2 idle connections per host makes a busy
		// notebook open and close connections constantly, and hundreds
		// of users then run out of ephemeral ports (CHP #557).
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pass encodings through untouched rather than gzip on loopback.
		DisableCompression: true,
	}
}

// forwardWriter is the ResponseWriter a route's ReverseProxy writes to. It
// flushes after every write, so event streams, kernel output and large
// downloads are never held back. ReverseProxy's FlushInterval -1 would do
// the same, but it also flushes the header from a timer goroutine before
// the body is read, which doubles the writes and wakeups of every small
// response; here the header goes out with the first part of the body.
// Event streams and bodies of unknown length still get their header at
// once: ReverseProxy flushes those by itself.
//
// It also carries the client's request to the error handler, which
// ReverseProxy otherwise hands only the outbound copy.
type forwardWriter struct {
	http.ResponseWriter
	in *http.Request
}

func (f *forwardWriter) Write(b []byte) (int, error) {
	n, err := f.ResponseWriter.Write(b)
	if n > 0 {
		// A failed flush shows on the next write; ReverseProxy ignores
		// flush errors too.
		http.NewResponseController(f.ResponseWriter).Flush()
	}
	return n, err
}

// Unwrap lets ResponseController reach the connection, which ReverseProxy
// hijacks for websockets.
func (f *forwardWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// bufferPool recycles ReverseProxy's copy buffers.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.pool.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32*1024)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

func (p *Proxy) logf(format string, args ...any) {
	if p.errorLog != nil {
		p.errorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
