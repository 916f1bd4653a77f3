package hub

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// tlsHandshakeRecord is the first byte of every TLS connection.
const tlsHandshakeRecord = 0x16

// errPlainHTTP ends the TLS handshake of a connection that spoke plain
// HTTP and was answered with a redirect.
var errPlainHTTP = errors.New("plain HTTP request answered with a redirect to HTTPS")

// plainHTTPListener sends browsers that reach an HTTPS listener over plain
// HTTP (someone typed the address without https://) to the same address
// over HTTPS, instead of net/http's bare "400 Client sent an HTTP request
// to an HTTPS server". It looks at the first byte a connection sends, in
// the connection's own goroutine (the TLS handshake's first read), so a
// slow client never holds up Accept.
type plainHTTPListener struct{ net.Listener }

func (l plainHTTPListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c}, nil
}

// sniffConn passes a TLS connection through untouched after its first
// byte, and answers anything else as a plain HTTP request.
type sniffConn struct {
	net.Conn
	sniffed bool
	first   []byte // the first byte, until read
}

func (c *sniffConn) Read(p []byte) (int, error) {
	if !c.sniffed {
		c.sniffed = true
		b := make([]byte, 1)
		if _, err := io.ReadFull(c.Conn, b); err != nil {
			return 0, err
		}
		if b[0] != tlsHandshakeRecord {
			c.redirect(b)
			return 0, errPlainHTTP
		}
		c.first = b
	}
	if len(c.first) > 0 && len(p) > 0 {
		p[0], c.first = c.first[0], nil
		return 1, nil
	}
	return c.Conn.Read(p)
}

// redirect reads the plain HTTP request that began with first and answers
// it with a redirect to the same host and path over HTTPS. The request
// comes from the client, so it only sends itself where it asked to go.
func (c *sniffConn) redirect(first []byte) {
	c.Conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(io.LimitReader(io.MultiReader(bytes.NewReader(first), c.Conn), 16<<10))
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	host := req.Host
	if host == "" {
		host = c.Conn.LocalAddr().String()
	}
	if !plainHost(host) {
		body := "This hub speaks HTTPS only: type https:// before its address.\n"
		fmt.Fprintf(c.Conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		return
	}
	target := "https://" + host + req.URL.RequestURI()
	body := "This hub speaks HTTPS only: open " + target + "\n"
	fmt.Fprintf(c.Conn, "HTTP/1.1 %d %s\r\nLocation: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		http.StatusFound, http.StatusText(http.StatusFound), target, len(body), body)
}

// plainHost reports whether host is a host[:port] with nothing a header or
// a URL could be bent by.
func plainHost(host string) bool {
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return host != ""
}
