// Package proxy is classhub's in-process proxy with configurable-http-proxy
// semantics: /user/{name}/… goes to that user's notebook server, path and
// query forwarded unchanged, websockets and event streams included;
// everything else goes to the hub. It replaces the separate CHP process of a
// JupyterHub deployment, so the hub changes routes with a method call.
//
// The one rule that matters most is in classify (paths.go): a request is
// forwarded to a user's server only when the path the client sent names
// that user, so a crafted path can never carry one user's cookies to
// another user's server. The classhub hub adds origins (origins.go): each
// server is forwarded to only on an origin of its own, so nothing it serves
// shares an origin with the hub or another server; and on the way, the
// hub's login cookie is taken out of requests and a server's cookies are
// kept under its path (cookies.go).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/limit"
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
	// Origins, when set, gives each user's server an origin of its own; nil
	// serves every server under the hub's origin, as configurable-http-proxy
	// does.
	Origins *Origins
	// HubCookies are the names of the hub's credential cookies, removed
	// from every request forwarded to a user's server; a server's
	// Set-Cookie of one of them, in any prefix or case, is dropped.
	HubCookies []string
	// MaxWebsockets caps one user's concurrent websockets; more are refused
	// with 429. Zero means DefaultMaxWebsockets.
	MaxWebsockets int
	// MaxRequests caps the requests to one user's server in flight at
	// once, websocket handshakes included; more are refused with 429.
	// Zero means DefaultMaxRequests.
	MaxRequests int
	// Guard logs visitors in for guarded routes (SetGuardedRoute), whose
	// servers log nobody in by themselves. Without it, guarded routes
	// refuse every request.
	Guard Guard
	// Tokens trades the hub tokens visitors send to every other route's
	// server. Without it, they reach the server as sent.
	Tokens Tokens
}

// Guard admits requests to a guarded route's server. Its cookies must be
// among Options.HubCookies, so that no server ever reads or sets them.
type Guard interface {
	// Admit reports whether r, a request for user's server on that
	// server's own origin, may go on to the server; when it may not,
	// Admit has answered it (a redirect to log in, a refusal, or the
	// login's own callback).
	Admit(w http.ResponseWriter, r *http.Request, user string) bool
}

// DefaultMaxWebsockets is a user's default cap on concurrent websockets: a
// notebook keeps one or two per open kernel, so this leaves room for many
// tabs while one server cannot hold thousands of the hub's connections.
const DefaultMaxWebsockets = 64

// DefaultMaxRequests is a user's default cap on requests in flight to
// their server: a browser sends at most six at once to an origin, and a
// class of tabs many times that; but a server that never answers must
// not let its owner hold thousands of the hub's connections, goroutines
// and ports open by asking it again and again.
const DefaultMaxRequests = 256

// ResponseHeaderTimeout bounds how long a user's server may take to start
// answering a request it has read. Jupyter's slowest answers (an export
// through LaTeX, a save of a large notebook) take well under a minute;
// everything long-lived (kernels, terminals, event streams) is a
// websocket or a streamed body, which this does not bound.
const ResponseHeaderTimeout = 5 * time.Minute

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
	origins          *Origins
	subdomainSuffix  string // "." + Origins.SubdomainHost, lowercase
	crossOrigin      *http.CrossOriginProtection
	hubCookies       []string
	maxWebsockets    int
	websockets       *limit.PerKey // open websockets per user
	maxRequests      int
	requests         *limit.PerKey // requests in flight per user
	guard            Guard
	tokens           Tokens

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
		origins:          opts.Origins,
		crossOrigin:      http.NewCrossOriginProtection(),
		hubCookies:       opts.HubCookies,
		maxWebsockets:    opts.MaxWebsockets,
		maxRequests:      opts.MaxRequests,
		guard:            opts.Guard,
		tokens:           opts.Tokens,
		routes:           make(map[string]*route),
	}
	if p.origins != nil && p.origins.SubdomainHost != "" {
		p.subdomainSuffix = "." + strings.ToLower(p.origins.SubdomainHost)
	}
	if p.maxWebsockets <= 0 {
		p.maxWebsockets = DefaultMaxWebsockets
	}
	p.websockets = limit.NewPerKey(p.maxWebsockets)
	if p.maxRequests <= 0 {
		p.maxRequests = DefaultMaxRequests
	}
	p.requests = limit.NewPerKey(p.maxRequests)
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
		p.transport = newTransport(p.maxRequests + p.maxWebsockets)
	}
	return p
}

// ServeHTTP answers the public listener: it routes r to the hub, to a
// redirect when its path is not canonical (see classify), or for a user's
// server to that server, or with Origins to a redirect to the server's own
// origin. With SubdomainHost, a request for a user's host name is that
// user's origin.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.subdomainSuffix != "" {
		if label, ok := p.subdomainLabel(r.Host); ok {
			p.serveSubdomain(w, r, label)
			return
		}
	}
	d := classify(r.URL)
	switch d.verdict {
	case toHub:
		p.hub.ServeHTTP(w, r)
	case toCanonical:
		notCanonical(w, r, d.location)
	case toUser:
		rt := p.lookup(d.user)
		switch {
		case rt == nil:
			p.notRunning(w, r, d.user)
		case p.origins != nil:
			p.toUserOrigin(w, r, d.user)
		default:
			p.forward(w, r, rt)
		}
	}
}

// forward sends r to rt's server. A request counts against its user's
// cap on requests until it is answered; a websocket handshake too, until
// the server switches protocols, and from then on the websocket counts
// against the cap on websockets until it closes (ReverseProxy returns
// only when the upgraded connection is done). So only websockets the
// server accepted take those places: a handshake anyone can send (it
// fails the server's login check, or hangs) holds none of them.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, rt *route) {
	if rt.guarded && !p.admit(w, r, rt) {
		return
	}
	r, ok := p.exchangeTokens(w, r, rt)
	if !ok {
		return
	}
	release, ok := p.requests.Acquire(rt.user)
	if !ok {
		w.Header().Set("Retry-After", "10")
		plain(w, http.StatusTooManyRequests, fmt.Sprintf("%s's server has %d requests waiting for an answer, the most one server may have; wait for it to answer, or restart it from the hub's home page.", rt.user, p.maxRequests))
		return
	}
	defer release()
	if isUpgrade(r) {
		// A handshake has no body (RFC 6455); one that claims one could
		// trickle it to hold the request open.
		if r.ContentLength != 0 {
			// Closing spares the server waiting for the body before it answers.
			w.Header().Set("Connection", "close")
			plain(w, http.StatusBadRequest, "A websocket handshake must not carry a body; this one did and was refused.")
			return
		}
		hs := &handshake{request: release}
		defer hs.done()
		r = r.WithContext(context.WithValue(r.Context(), handshakeKey{}, hs))
	}
	rt.rp.ServeHTTP(&forwardWriter{ResponseWriter: w, in: r}, r)
}

// handshake is a websocket handshake's places: its request's until the
// server switches protocols, then a websocket's.
type handshake struct {
	request   func()
	websocket func()
}

// done gives back the websocket's place, if it took one.
func (hs *handshake) done() {
	if hs.websocket != nil {
		hs.websocket()
	}
}

type handshakeKey struct{}

// errTooManyWebsockets refuses an upgrade the server accepted when its
// user already holds every websocket place.
var errTooManyWebsockets = errors.New("too many websockets")

// upgraded moves res's handshake from the request cap to the websocket
// cap as its server switches protocols; ModifyResponse calls it on the
// goroutine that forwards the request.
func (p *Proxy) upgraded(rt *route, res *http.Response) error {
	hs, ok := res.Request.Context().Value(handshakeKey{}).(*handshake)
	if !ok {
		return nil
	}
	hs.request()
	release, ok := p.websockets.Acquire(rt.user)
	if !ok {
		return errTooManyWebsockets
	}
	hs.websocket = release
	return nil
}

// modifyResponse is the ReverseProxy's ModifyResponse for rt: it keeps
// what the server answers to the server, counts an accepted websocket and
// records activity.
func (p *Proxy) modifyResponse(rt *route, res *http.Response) error {
	dropServerHeaders(res.Header)
	if rt.guarded {
		scrubToken(res, rt.token)
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		if err := p.upgraded(rt, res); err != nil {
			return err
		}
	}
	return p.watchResponse(rt, res)
}

// tooManyWebsockets answers an upgrade beyond rt's user's cap.
func (p *Proxy) tooManyWebsockets(w http.ResponseWriter, rt *route) {
	w.Header().Set("Retry-After", "10")
	plain(w, http.StatusTooManyRequests, fmt.Sprintf("%s's server has %d websockets open, the most one server may have; close notebook tabs you no longer use.", rt.user, p.maxWebsockets))
}

// isUpgrade reports whether r asks to switch protocols, by the test
// ReverseProxy uses to decide to splice the connection.
func isUpgrade(r *http.Request) bool {
	if r.Header.Get("Upgrade") == "" {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
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
			stripCookies(pr.Out.Header, p.hubCookies)
			if rt.guarded {
				// The visitor's own credentials stay here; the server
				// sees the one the hub keeps for it.
				pr.Out.Header.Set("Authorization", "token "+rt.token)
				// Pages come back uncompressed, so scrubToken can read them.
				pr.Out.Header.Del("Accept-Encoding")
			}
		},
		Transport:      p.transport,
		ErrorLog:       p.errorLog,
		BufferPool:     &p.buffers,
		ModifyResponse: func(res *http.Response) error { return p.modifyResponse(rt, res) },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.proxyError(rt, w, r, err)
		},
	}
}

// newTransport returns the transport to users' servers; conns bounds the
// connections to one server, which is one user's.
func newTransport(conns int) *http.Transport {
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
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: ResponseHeaderTimeout,
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
