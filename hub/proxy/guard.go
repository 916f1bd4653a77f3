package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// admit asks the Guard whether r may reach rt's guarded server. A guarded
// server is forwarded to only on its own origin: the hub's origin
// redirects there before forward, and a proxy without Origins has no
// origin of the server's own for the Guard's cookies to live on.
func (p *Proxy) admit(w http.ResponseWriter, r *http.Request, rt *route) bool {
	if p.guard == nil || p.origins == nil {
		plain(w, http.StatusServiceUnavailable, fmt.Sprintf("%s's server runs an image without JupyterHub, and this hub has no login for such servers; ask the instructor to set image_mode to jupyterhub or to use an image with jupyterhub-singleuser.", rt.user))
		return false
	}
	return p.guard.Admit(w, r, rt.user)
}

// scrubToken keeps a guarded server's token out of the pages it serves:
// JupyterLab writes its server's token into each page's configuration for
// its own API calls, which behind the proxy need none (the proxy adds it),
// and the token would then sit in the visitor's browser. Only uncompressed
// HTML is scrubbed; Jupyter servers do not compress.
func scrubToken(res *http.Response, token string) {
	if token == "" || res.Body == nil || res.Body == http.NoBody || res.Header.Get("Content-Encoding") != "" ||
		!strings.HasPrefix(strings.ToLower(res.Header.Get("Content-Type")), "text/html") {
		return
	}
	res.Body = &scrubber{rc: res.Body, token: []byte(token)}
	res.ContentLength = -1
	res.Header.Del("Content-Length")
}

// scrubber reads a body with every occurrence of token taken out. It holds
// back the last len(token)-1 bytes it has read until it knows they do not
// begin one.
type scrubber struct {
	rc           io.ReadCloser
	token        []byte
	pending, out []byte
	buf          [32 << 10]byte
	err          error
}

func (s *scrubber) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.rc.Read(s.buf[:])
		s.pending, s.err = append(s.pending, s.buf[:n]...), err
		// Pieces around one taken out could join into another only in
		// a page made by someone who already knows the token.
		s.pending = bytes.ReplaceAll(s.pending, s.token, nil)
		keep := min(len(s.pending), len(s.token)-1)
		if s.err != nil {
			keep = 0
		}
		s.out = s.pending[:len(s.pending)-keep]
		s.pending = bytes.Clone(s.pending[len(s.pending)-keep:])
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

func (s *scrubber) Close() error { return s.rc.Close() }
