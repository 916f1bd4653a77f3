package hub

import (
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/tlscert"
)

// TLSDir is the folder of the local certificate authority and the server
// certificate inside the data dir.
const TLSDir = "tls"

// recheckNames is how often the auto certificate checks that it still
// covers the laptop's addresses: a laptop that moves to another network
// gets a certificate for its new address within this time.
const recheckNames = time.Minute

// setupTLS prepares the public listeners' TLS as cfg says: nothing for
// plain HTTP, the instructor's files, or the local authority's
// certificate. It runs before any listener opens, so none is ever plain
// by mistake.
func (h *Hub) setupTLS(dataDir string) error {
	switch h.cfg.TLSMode() {
	case config.TLSFiles:
		pair, err := tlscert.LoadPair(h.cfg.TLSCert, h.cfg.TLSKey, time.Now())
		if err != nil {
			return err
		}
		h.tls = newTLSConfig()
		h.tls.Certificates = []tls.Certificate{pair}
		h.fingerprint = tlscert.Fingerprint(pair.Certificate[0])
	case config.TLSAuto:
		dir := filepath.Join(dataDir, TLSDir)
		host, _ := os.Hostname()
		ca, err := tlscert.LoadCA(dir, host, time.Now())
		if err != nil {
			return fmt.Errorf("HTTPS: %w", err)
		}
		src := &autoCert{dir: dir, ca: ca, names: func() tlscert.Names { return laptopNames(h.cfg.ListenAddr()) }, log: h.log}
		if _, err := src.get(nil); err != nil {
			return fmt.Errorf("HTTPS: %w", err)
		}
		h.tls = newTLSConfig()
		h.tls.GetCertificate = src.get
		h.ca = ca
		h.fingerprint = ca.Fingerprint()
	}
	return nil
}

// newTLSConfig is the public listeners' TLS. HTTP/1.1 only: the proxy's
// websockets and the event streams hijack or hold HTTP/1.1 connections,
// and the singleuser servers behind it speak nothing else.
func newTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// listenPublic opens a public listener on addr: HTTPS when the hub serves
// TLS, plain HTTP otherwise. Every listener students' browsers reach is
// opened here, so that none of them is left plain, and each counts the
// connections from one address against the hub's one cap
// (publicLimits.PerAddress). A plain HTTP request to an HTTPS listener is
// redirected to HTTPS (see plainHTTPListener).
func (h *Hub) listenPublic(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l = capPerAddress(l, h.publicConns)
	if h.tls == nil {
		return l, nil
	}
	return tls.NewListener(plainHTTPListener{l}, h.tls), nil
}

// scheme is the public listeners' URL scheme.
func (h *Hub) scheme() string {
	if h.tls != nil {
		return "https"
	}
	return "http"
}

// TLSFingerprint is the SHA-256 fingerprint people compare with the
// projector: of the local authority with tls = "auto", of the
// instructor's certificate with their own files; "" on plain HTTP.
func (h *Hub) TLSFingerprint() string { return h.fingerprint }

// CACert is the local authority's certificate (PEM) that students may
// install; nil unless tls = "auto".
func (h *Hub) CACert() []byte {
	if h.ca == nil {
		return nil
	}
	return h.ca.PEM()
}

// laptopNames are what the auto certificate covers: the address the hub
// binds, or the LAN address when it binds them all, the host name (and
// its mDNS .local name), localhost and loopback.
func laptopNames(listen string) tlscert.Names {
	names := tlscert.Names{DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if host, err := os.Hostname(); err == nil && host != "" {
		names.DNS = append(names.DNS, host, host+".local")
	}
	if h, _, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
			names.IPs = append(names.IPs, ip)
			return names
		}
	}
	if ip, err := spawner.LANAddress(); err == nil {
		names.IPs = append(names.IPs, ip)
	}
	return names
}

// autoCert hands the TLS listener the local authority's server
// certificate, checking at most every recheckNames that it still covers
// the laptop's names, and making a new one when not.
type autoCert struct {
	dir   string
	ca    *tlscert.Authority
	names func() tlscert.Names
	log   *log.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	checked time.Time
}

func (s *autoCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cert != nil && now.Sub(s.checked) < recheckNames {
		return s.cert, nil
	}
	s.checked = now
	c, issued, err := s.ca.ServerCert(s.dir, s.names(), now)
	if err != nil {
		if s.cert != nil {
			// Keep serving the one that works; the next check tries again.
			s.log.Printf("tls: renew the server certificate: %v", err)
			return s.cert, nil
		}
		return nil, err
	}
	if issued {
		s.log.Printf("tls: new server certificate for %v %v, until %s", c.Leaf.DNSNames, c.Leaf.IPAddresses, c.Leaf.NotAfter.Format(time.DateOnly))
	}
	s.cert = &c
	return s.cert, nil
}
