package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// NotRunning is the default Options.NotRunning: 503 and a sentence.
func NotRunning(w http.ResponseWriter, r *http.Request, user string) {
	plain(w, http.StatusServiceUnavailable,
		fmt.Sprintf("No notebook server is running for %s. Open the hub home page to start it.", user))
}

// Unavailable is the default Options.Unavailable: 503 and a sentence.
func Unavailable(w http.ResponseWriter, r *http.Request, user string, err error) {
	plain(w, http.StatusServiceUnavailable,
		fmt.Sprintf("The notebook server for %s is not answering; it may be starting or stopped. Open the hub home page to restart it.", user))
}

// proxyError is the ReverseProxy's ErrorHandler for rt: the server could not
// be reached, or the exchange broke before a response started.
func (p *Proxy) proxyError(rt *route, w http.ResponseWriter, out *http.Request, err error) {
	in := out
	if fw, ok := w.(*forwardWriter); ok {
		w, in = fw.ResponseWriter, fw.in
	}
	if errors.Is(err, context.Canceled) && in.Context().Err() != nil {
		return // the client left; nobody is waiting for an answer
	}
	if errors.Is(err, errTooManyWebsockets) {
		p.tooManyWebsockets(w, rt)
		return
	}
	err = fmt.Errorf("proxy to %s at %s: %w", rt.user, rt.target.Host, err)
	p.logf("%v", err)
	p.unavailable(w, in, rt.user, err)
}

// notCanonical answers a request whose path must not be forwarded as sent
// (see classify): GET and HEAD are redirected, anything else is refused.
func notCanonical(w http.ResponseWriter, r *http.Request, location string) {
	if r.URL.RawQuery != "" {
		location += "?" + r.URL.RawQuery
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	plain(w, http.StatusBadRequest,
		fmt.Sprintf("This request's path is not in canonical form and was not forwarded; send it to %s instead.", location))
}

func plain(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
