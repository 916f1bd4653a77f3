package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// swapTokens is a Tokens that gives "visit-" + secret for secrets that
// start with "good", a secret that starts with "visit-" as it is, nothing
// for the rest, and fails for "broken"; it records what it was asked.
type swapTokens struct {
	mu    sync.Mutex
	asked []string
}

func (s *swapTokens) ForServer(ctx context.Context, user, secret string) (string, error) {
	s.mu.Lock()
	s.asked = append(s.asked, user+":"+secret)
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(secret, "visit-"):
		return secret, nil
	case secret == "broken":
		return "", errors.New("the database is gone")
	case strings.HasPrefix(secret, "good"):
		return "visit-" + secret, nil
	}
	return "", nil
}

// seenRequest is what a backend received of a request.
type seenRequest struct {
	auth     []string
	query    string
	referer  []string
	received bool
}

func tokenProxy(t *testing.T, tokens Tokens) (*httptest.Server, *seenRequest, *Proxy) {
	t.Helper()
	seen := &seenRequest{}
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		*seen = seenRequest{auth: r.Header.Values("Authorization"), query: r.URL.RawQuery,
			referer: r.Header.Values("Referer"), received: true}
	})
	p := New(Options{Tokens: tokens, ErrorLog: discard})
	p.SetRoute("alice", mustURL(t, backend.URL))
	return newFrontend(t, p), seen, p
}

func sendWith(t *testing.T, front *httptest.Server, query string, header http.Header) int {
	t.Helper()
	u := front.URL + "/user/alice/api/contents"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestVisitorsTokensAreExchanged: every token a request carries to a
// server that logs people in by itself reaches it only as Tokens gives it,
// in the header and in the query under any spelling of "token"; nothing
// else of the request changes.
func TestVisitorsTokensAreExchanged(t *testing.T) {
	for _, c := range []struct {
		name, query, auth, referer   string
		wantQuery, wantAuth, wantRef string
	}{
		{name: "header", auth: "token good1", wantAuth: "token visit-good1"},
		{name: "bearer", auth: "Bearer good2", wantAuth: "Bearer visit-good2"},
		{name: "header dropped", auth: "token stranger", wantAuth: ""},
		{name: "basic passes", auth: "Basic YTpi", wantAuth: "Basic YTpi"},
		{name: "query", query: "a=1&token=good3&b=%zz", wantQuery: "a=1&token=visit-good3&b=%zz"},
		{name: "query spelled", query: "%74oken=good4&x", wantQuery: "%74oken=visit-good4&x"},
		{name: "query dropped", query: "token=stranger&path=a%2Fb", wantQuery: "path=a%2Fb"},
		{name: "query untouched", query: "tokens=x&a=b+c;token=y", wantQuery: "tokens=x&a=b+c;token=y"},
		{name: "referer with token", referer: "http://hub/user/bob/lab?x=1&token=good7#f", wantRef: ""},
		{name: "referer kept", referer: "http://hub/user/bob/lab?tok=1", wantRef: "http://hub/user/bob/lab?tok=1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			front, seen, _ := tokenProxy(t, &swapTokens{})
			h := http.Header{}
			if c.auth != "" {
				h.Set("Authorization", c.auth)
			}
			if c.referer != "" {
				h.Set("Referer", c.referer)
			}
			if code := sendWith(t, front, c.query, h); code != http.StatusOK || !seen.received {
				t.Fatalf("status %d, forwarded %v", code, seen.received)
			}
			if got := strings.Join(seen.auth, ","); got != c.wantAuth {
				t.Errorf("the server got Authorization %q, want %q", got, c.wantAuth)
			}
			if seen.query != c.wantQuery {
				t.Errorf("the server got the query %q, want %q", seen.query, c.wantQuery)
			}
			if got := strings.Join(seen.referer, ","); got != c.wantRef {
				t.Errorf("the server got Referer %q, want %q", got, c.wantRef)
			}
		})
	}
}

// TestTokenExchangeRefusals: two Authorization headers, or a hub that
// cannot check a token, send nothing to the server.
func TestTokenExchangeRefusals(t *testing.T) {
	front, seen, _ := tokenProxy(t, &swapTokens{})
	if code := sendWith(t, front, "", http.Header{"Authorization": {"token good1", "token good2"}}); code != http.StatusBadRequest || seen.received {
		t.Errorf("two Authorization headers: %d, forwarded %v", code, seen.received)
	}
	if code := sendWith(t, front, "", http.Header{"Authorization": {"token broken"}}); code != http.StatusServiceUnavailable || seen.received {
		t.Errorf("a token the hub could not check: %d, forwarded %v", code, seen.received)
	}
	if code := sendWith(t, front, "token=broken", nil); code != http.StatusServiceUnavailable || seen.received {
		t.Errorf("a query token the hub could not check: %d, forwarded %v", code, seen.received)
	}
}

// TestGuardedRoutesGetNoQueryToken: a guarded route's server gets the
// hub's token for it in the header, and no visitor's token in the query,
// without Tokens being asked.
func TestGuardedRoutesGetNoQueryToken(t *testing.T) {
	tokens := &swapTokens{}
	seen := &seenRequest{}
	o := newOriginHub(t, Options{Guard: admitAll{}, Tokens: tokens}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) {
		*seen = seenRequest{auth: r.Header.Values("Authorization"), query: r.URL.RawQuery, received: true}
	})
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	req, _ := http.NewRequest("GET", o.origins["alice"].URL+"/user/alice/lab?a=1&token=good1", nil)
	req.Header.Set("Authorization", "token good2")
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !seen.received || seen.query != "a=1" || strings.Join(seen.auth, ",") != "token server-token" {
		t.Errorf("the guarded server got %+v, want a=1 and its own token", *seen)
	}
	if len(tokens.asked) != 0 {
		t.Errorf("Tokens was asked %q for a guarded route", tokens.asked)
	}
}

// TestNoTokensSendsAsIs: without Tokens, a proxy forwards what it is sent,
// as configurable-http-proxy does.
func TestNoTokensSendsAsIs(t *testing.T) {
	front, seen, _ := tokenProxy(t, nil)
	if code := sendWith(t, front, "token=x", http.Header{"Authorization": {"token y"}}); code != http.StatusOK ||
		seen.query != "token=x" || strings.Join(seen.auth, ",") != "token y" {
		t.Errorf("%d %+v", code, *seen)
	}
}

// TestTokenSpacingAsServersReadIt: jupyterhub-singleuser takes the token
// from any Authorization value matching (?i)(token|bearer)\s+(.+), and
// Python's \s, on a header it decodes as Latin-1, is a tab or a no-break
// space too: a visitor's token sent so reaches the server only as Tokens
// gives it.
func TestTokenSpacingAsServersReadIt(t *testing.T) {
	for _, c := range []struct{ auth, want string }{
		{"token\tgood1", "token visit-good1"},
		{"Bearer \t good2", "Bearer visit-good2"},
		{"token\xa0good3", "token visit-good3"},
		{"TOKEN\x85 good4", "TOKEN visit-good4"},
		{"token\tstranger", ""},
		{"tokengood5", "tokengood5"},
	} {
		front, seen, _ := tokenProxy(t, &swapTokens{})
		if code := sendWith(t, front, "", http.Header{"Authorization": {c.auth}}); code != http.StatusOK || !seen.received {
			t.Fatalf("%q: status %d, forwarded %v", c.auth, code, seen.received)
		}
		if got := strings.Join(seen.auth, ","); got != c.want {
			t.Errorf("Authorization %q reached the server as %q, want %q", c.auth, got, c.want)
		}
	}
}

// TestTokenParamsAreOneAtATime: a query may carry one token; each one
// costs the hub a look-up, so a query of thousands is refused before any.
func TestTokenParamsAreOneAtATime(t *testing.T) {
	tokens := &swapTokens{}
	front, seen, _ := tokenProxy(t, tokens)
	q := strings.Repeat("token=x&", 1000) + "token=good1"
	if code := sendWith(t, front, q, nil); code != http.StatusBadRequest || seen.received {
		t.Errorf("a query with 1001 tokens: %d, forwarded %v", code, seen.received)
	}
	if len(tokens.asked) != 0 {
		t.Errorf("the hub looked up %d tokens of a refused request", len(tokens.asked))
	}
}

// TestBrowsersOpenTheExchangedAddress: a browser opening a server's page
// with ?token= in the address is sent to the address with the token
// exchanged, not given the page: the page's scripts, which the server's
// owner wrote, read the address they were loaded from. Scripts that are
// no browser, and addresses whose token stays as it is, are forwarded.
func TestBrowsersOpenTheExchangedAddress(t *testing.T) {
	front, seen, _ := tokenProxy(t, &swapTokens{})
	for _, c := range []struct {
		name, query string
		header      http.Header
		want        string // Location; "" means forwarded
	}{
		{"navigation", "a=1&token=good1", http.Header{"Sec-Fetch-Mode": {"navigate"}}, "/user/alice/api/contents?a=1&token=visit-good1"},
		{"plain http browser", "token=good2", http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}}, "/user/alice/api/contents?token=visit-good2"},
		{"dropped", "token=stranger&b=2", http.Header{"Sec-Fetch-Mode": {"navigate"}}, "/user/alice/api/contents?b=2"},
		{"already exchanged", "token=visit-good3", http.Header{"Sec-Fetch-Mode": {"navigate"}}, ""},
		{"fetch", "token=good4", http.Header{"Sec-Fetch-Mode": {"cors"}, "Accept": {"text/html"}}, ""},
		{"script", "token=good5", nil, ""},
	} {
		*seen = seenRequest{}
		req, _ := http.NewRequest("GET", front.URL+"/user/alice/api/contents?"+c.query, nil)
		for k, v := range c.header {
			req.Header[k] = v
		}
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); got != c.want || seen.received != (c.want == "") {
			t.Errorf("%s: %d to %q, forwarded %v; want Location %q", c.name, res.StatusCode, got, seen.received, c.want)
		}
	}
}

// TestBrowsersOpenGuardedServersWithoutToken: a guarded server's page is
// its owner's too; a browser opening it with ?token= is sent to the
// address without it.
func TestBrowsersOpenGuardedServersWithoutToken(t *testing.T) {
	received := false
	o := newOriginHub(t, Options{Guard: admitAll{}, Tokens: &swapTokens{}}, "alice")
	backend := newBackend(t, "alice", func(w http.ResponseWriter, r *http.Request) { received = true })
	o.p.SetGuardedRoute("alice", mustURL(t, backend.URL), "server-token")
	req, _ := http.NewRequest("GET", o.origins["alice"].URL+"/user/alice/lab?token=good1&a=1", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Location"); got != "/user/alice/lab?a=1" || received {
		t.Errorf("%d to %q, forwarded %v; want /user/alice/lab?a=1", res.StatusCode, got, received)
	}
}

// TestFormsOpenTheExchangedAddress: a form the visitor posts to an
// address with their token opens a page of the server too, whose scripts
// read the address it was loaded from: the browser is sent to post it to
// the exchanged address instead (307 keeps the method and body), so the
// visitor's own token is never the page's address.
func TestFormsOpenTheExchangedAddress(t *testing.T) {
	front, seen, _ := tokenProxy(t, &swapTokens{})
	for _, mode := range []http.Header{{"Sec-Fetch-Mode": {"navigate"}}, {"Accept": {"text/html,*/*;q=0.8"}}} {
		*seen = seenRequest{}
		req, _ := http.NewRequest("POST", front.URL+"/user/alice/api/contents?token=good1", strings.NewReader("a=1"))
		for k, v := range mode {
			req.Header[k] = v
		}
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); res.StatusCode != http.StatusTemporaryRedirect || got != "/user/alice/api/contents?token=visit-good1" || seen.received {
			t.Errorf("a form posted with %v: %d to %q, forwarded %v; want 307 to the exchanged address", mode, res.StatusCode, got, seen.received)
		}
	}
}
