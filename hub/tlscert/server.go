package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"time"
)

// Names are what a server certificate covers: the laptop's LAN addresses,
// its host name, localhost and loopback.
type Names struct {
	DNS []string
	IPs []net.IP
}

// ServerCert returns a server certificate for names signed by a, with a's
// certificate in its chain (so that a browser told to trust the authority's
// key, as the tests' Chromium is, finds it): the one saved in dir while it
// covers names, is a's and has more than RenewBefore left; else a new one,
// saved in dir. issued reports a new one. DNS names a may not vouch for are
// left out.
func (a *Authority) ServerCert(dir string, names Names, now time.Time) (_ tls.Certificate, issued bool, err error) {
	names = a.allowed(names)
	certPath, keyPath := filepath.Join(dir, ServerFile), filepath.Join(dir, ServerKey)
	if cur, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && a.stillGood(cur.Leaf, names, now) {
		cur.Certificate = append(cur.Certificate[:1], a.Cert.Raw)
		return cur, false, nil
	}
	key, err := newKey()
	if err != nil {
		return tls.Certificate{}, false, err
	}
	serial, err := serialNumber()
	if err != nil {
		return tls.Certificate{}, false, err
	}
	cn := "localhost"
	if len(names.DNS) > 0 {
		cn = names.DNS[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"classhub"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(ServerValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names.DNS,
		IPAddresses:  names.IPs,
	}
	der, err := x509.CreateCertificate(nil, tmpl, a.Cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("make the server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("make the server certificate: %w", err)
	}
	pemKey, err := encodeKey(key)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFile(keyPath, pemKey, 0o600); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("save the server certificate: %w", err)
	}
	if err := writeFile(certPath, encodeCert(der), 0o644); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("save the server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, a.Cert.Raw}, PrivateKey: key, Leaf: leaf}, true, nil
}

// allowed is names without duplicates and without the DNS names a may not
// vouch for.
func (a *Authority) allowed(names Names) Names {
	var out Names
	for _, d := range names.DNS {
		if d = dnsName(d); d != "" && a.permits(d) && !slices.Contains(out.DNS, d) {
			out.DNS = append(out.DNS, d)
		}
	}
	for _, ip := range names.IPs {
		if ip != nil && !slices.ContainsFunc(out.IPs, ip.Equal) {
			out.IPs = append(out.IPs, ip)
		}
	}
	return out
}

// stillGood reports whether leaf is a's, covers names and has more than
// RenewBefore left.
func (a *Authority) stillGood(leaf *x509.Certificate, names Names, now time.Time) bool {
	if leaf == nil || leaf.CheckSignatureFrom(a.Cert) != nil {
		return false
	}
	if now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) < RenewBefore {
		return false
	}
	for _, d := range names.DNS {
		if !slices.Contains(leaf.DNSNames, d) {
			return false
		}
	}
	for _, ip := range names.IPs {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}
