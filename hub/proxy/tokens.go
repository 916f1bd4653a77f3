package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Tokens trades the hub tokens that visitors send to a server that logs
// people in by itself (jupyterhub-singleuser, which asks the hub who a
// token belongs to). Such a server reads every byte it is sent, and its
// owner controls it: an instructor's own API token, sent to a student's
// server by a script, would be the student's to use as the instructor.
type Tokens interface {
	// ForServer is what to send user's server in place of secret, a
	// token a visitor sent it: secret itself when it is user's own or
	// was issued for that server, a token good only for visiting that
	// server when it is someone else's, and "" when nothing is to be
	// sent (a token the hub does not know, or one that may not use the
	// server).
	ForServer(ctx context.Context, user, secret string) (string, error)
}

// tokenParam is the query parameter jupyterhub-singleuser takes a token
// from, besides the Authorization header.
const tokenParam = "token"

// exchangeTokens returns r with each token it carries for rt's server (the
// Authorization header, ?token=) replaced by what tokenFor gives for it,
// and a Referer that carries one dropped. When it cannot, or a browser is
// to open the address with the tokens exchanged instead, it answers and
// returns false.
func (p *Proxy) exchangeTokens(w http.ResponseWriter, r *http.Request, rt *route) (*http.Request, bool) {
	if rt.guarded && r.URL.RawQuery == "" && r.Header.Get("Referer") == "" {
		// The Authorization header is replaced in any case (newReverseProxy).
		return r, true
	}
	if !rt.guarded && p.tokens == nil {
		return r, true
	}
	auth := r.Header.Values("Authorization")
	if rt.guarded {
		auth = nil
	}
	params := tokenParams(r.URL.RawQuery)
	hasParam := params > 0
	referer := r.Header.Get("Referer")
	leaksInReferer := referer != "" && refererHasToken(referer)
	if len(auth) == 0 && !hasParam && !leaksInReferer {
		return r, true
	}
	if len(auth) > 1 {
		// A server may join them into one value: which one counts is
		// then its choice, not the hub's.
		plain(w, http.StatusBadRequest, "This request carries more than one Authorization header; send one.")
		return nil, false
	}
	if params > 1 && !rt.guarded {
		// Each costs the hub a look-up, and the server reads one (the
		// last): a query of thousands would be thousands of look-ups.
		plain(w, http.StatusBadRequest, "This request's address has more than one token parameter; send one.")
		return nil, false
	}
	out := r.Clone(r.Context())
	if leaksInReferer {
		out.Header.Del("Referer")
	}
	if len(auth) == 1 {
		if scheme, secret, ok := hubToken(auth[0]); ok {
			sent, err := p.tokenFor(r.Context(), rt, secret)
			if err != nil {
				p.tokenError(w, rt, err)
				return nil, false
			}
			if sent == "" {
				out.Header.Del("Authorization")
			} else {
				out.Header.Set("Authorization", scheme+" "+sent)
			}
		}
	}
	if hasParam {
		q, err := p.exchangeParams(r.Context(), rt, r.URL.RawQuery)
		if err != nil {
			p.tokenError(w, rt, err)
			return nil, false
		}
		if q != r.URL.RawQuery && OpensPage(r) {
			// The page would be the server's, and its scripts read
			// the address it was loaded from: the browser opens the
			// exchanged one instead, a form's post too (redirect
			// answers it with 307, which keeps its method and body).
			location := r.URL.EscapedPath()
			if q != "" {
				location += "?" + q
			}
			redirect(w, r, location)
			return nil, false
		}
		out.URL.RawQuery = q
	}
	return out, true
}

// OpensPage reports whether r is a browser opening a page (a link, a
// typed address, a form): the browser says so in Sec-Fetch-Mode or, from
// browsers that do not say (they send Sec-Fetch-* only to secure
// origins), it accepts HTML. Scripts' fetches and API clients do not.
func OpensPage(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Navigation reports whether r is a browser opening a page by GET or
// HEAD, which a redirect (to log in, to another address) sends on as it is.
func Navigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && OpensPage(r)
}

// tokenFor is what rt's server is sent in place of secret: nothing for a
// guarded route's server, which gets the hub's token for it and logs
// nobody in by itself, else what p.tokens gives.
func (p *Proxy) tokenFor(ctx context.Context, rt *route, secret string) (string, error) {
	if rt.guarded {
		return "", nil
	}
	return p.tokens.ForServer(ctx, rt.user, secret)
}

// tokenError answers a request whose token the hub could not check (its
// store failed): nothing goes to the server, and the visitor may retry.
func (p *Proxy) tokenError(w http.ResponseWriter, rt *route, err error) {
	p.logf("proxy: the token sent to %s's server: %v", rt.user, err)
	plain(w, http.StatusServiceUnavailable, fmt.Sprintf("The hub could not check the token this request to %s's server carries; try again in a moment.", rt.user))
}

// hubToken returns the token in an Authorization value of the kinds the
// hub and jupyterhub-singleuser take ("token X", "bearer X"), as the
// server reads it: (?i)(token|bearer)\s+(.+) on the value decoded as
// Latin-1, where a tab, U+0085 and U+00A0 separate as a space does. A
// value the server would read a token from must not pass for one it
// would not.
func hubToken(value string) (scheme, secret string, ok bool) {
	value = strings.Trim(value, " \t")
	for _, s := range []string{"token", "bearer"} {
		if len(value) <= len(s) || !strings.EqualFold(value[:len(s)], s) || !isPythonSpace(value[len(s)]) {
			continue
		}
		secret = trimPythonSpace(value[len(s):])
		return value[:len(s)], secret, secret != ""
	}
	return "", "", false
}

// trimPythonSpace is s without the bytes around it that isPythonSpace
// reports, byte by byte as Latin-1 is read.
func trimPythonSpace(s string) string {
	for s != "" && isPythonSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isPythonSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isPythonSpace reports whether Python's \s matches b read as Latin-1.
func isPythonSpace(b byte) bool {
	return b == ' ' || '\t' <= b && b <= '\r' || 0x1c <= b && b <= 0x1f || b == 0x85 || b == 0xa0
}

// exchangeParams is rawQuery with each token parameter's value replaced by
// what p.tokens gives for it, or the parameter removed when that is "".
// Every other byte stays as the client sent it (see newReverseProxy).
func (p *Proxy) exchangeParams(ctx context.Context, rt *route, rawQuery string) (string, error) {
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, part := range parts {
		key, value, _ := strings.Cut(part, "=")
		if !isTokenKey(key) {
			kept = append(kept, part)
			continue
		}
		secret, err := url.QueryUnescape(value)
		if err != nil || secret == "" {
			// Not a token the hub could have issued, and nothing the
			// server should be sent in its place.
			continue
		}
		sent, err := p.tokenFor(ctx, rt, secret)
		if err != nil {
			return "", err
		}
		if sent != "" {
			kept = append(kept, key+"="+url.QueryEscape(sent))
		}
	}
	return strings.Join(kept, "&"), nil
}

// tokenParams counts rawQuery's token parameters, under any spelling a
// server's query parser reads as one.
func tokenParams(rawQuery string) int {
	if rawQuery == "" {
		return 0
	}
	n := 0
	for part := range strings.SplitSeq(rawQuery, "&") {
		if key, _, _ := strings.Cut(part, "="); isTokenKey(key) {
			n++
		}
	}
	return n
}

// isTokenKey reports whether a query key, as sent, names the token
// parameter: Python's parser decodes %XX and + in keys too. A key Go
// cannot decode keeps its bad escape under Python as well, so it is not
// "token" there either.
func isTokenKey(key string) bool {
	k, err := url.QueryUnescape(key)
	return err == nil && k == tokenParam
}

// refererHasToken reports whether a Referer names a page with a token in
// its query: the browser sends the previous page's full address to pages
// of the same origin, so a token a visitor put in one server's address
// would reach the next server they open.
func refererHasToken(referer string) bool {
	_, query, ok := strings.Cut(referer, "?")
	if !ok {
		return false
	}
	query, _, _ = strings.Cut(query, "#")
	return tokenParams(query) > 0
}
