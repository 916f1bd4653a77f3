package auth

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/store"
)

// countingBody counts what is read of a request body.
type countingBody struct {
	io.Reader
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// multipartBody is a form with _xsrf = tok and a file part of size bytes.
func multipartBody(t *testing.T, tok string, size int) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_xsrf", tok)
	f, _ := mw.CreateFormFile("roster", "roster.csv")
	f.Write(bytes.Repeat([]byte("x"), size))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// The anti-forgery check runs on every cookie-authenticated call, so it
// must not be the way to make the hub read a body: it finds the token in
// the header, the query or an urlencoded form, and never parses a
// multipart body, which FormValue would read into memory and temporary
// files of tens of megabytes.
func TestCheckCSRFNeverParsesMultipart(t *testing.T) {
	const tok = "the-anti-forgery-token"
	s := store.Session{CSRFSecret: tok}
	req := func(method, target, contentType string, body []byte) (*http.Request, *countingBody) {
		r := httptest.NewRequest(method, target, nil)
		cb := &countingBody{Reader: bytes.NewReader(body)}
		r.Body, r.ContentLength = cb, int64(len(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		return r, cb
	}

	r, _ := req("GET", "/hub/api/user?_xsrf="+tok, "", nil)
	if !CheckCSRF(r, s) {
		t.Error("the token in the query was not found")
	}
	r, _ = req("POST", "/hub/admin/users", "application/x-www-form-urlencoded", []byte("action=stop&_xsrf="+tok))
	if !CheckCSRF(r, s) {
		t.Error("the token in an urlencoded form was not found")
	}

	big, ct := multipartBody(t, tok, 8<<20)
	for _, method := range []string{"GET", "POST"} {
		r, cb := req(method, "/hub/api/user", ct, big)
		if CheckCSRF(r, s) {
			t.Errorf("%s: the token was taken from a multipart body", method)
		}
		if cb.n != 0 || r.MultipartForm != nil {
			t.Errorf("%s: CheckCSRF read %d bytes of a multipart body", method, cb.n)
		}
	}

	// A handler that takes multipart forms parses its own, with its own
	// limit, and the token is found there.
	small, ct := multipartBody(t, tok, 100)
	r, _ = req("POST", "/hub/admin/import", ct, small)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	if !CheckCSRF(r, s) {
		t.Error("the token in an already parsed multipart form was not found")
	}
	if r, _ := req("POST", "/hub/admin/users", "application/x-www-form-urlencoded", []byte("_xsrf="+strings.ToUpper(tok))); CheckCSRF(r, s) {
		t.Error("a wrong token passed")
	}
}
