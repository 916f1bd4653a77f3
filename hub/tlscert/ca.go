package tlscert

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Authority is the hub's local certificate authority. Students may install
// its certificate, so it can sign server certificates and nothing else, and
// only for the names a laptop on a LAN has (see localDomains): should its
// key ever leak, it cannot vouch for anyone's bank.
type Authority struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// localDomains are the DNS names the authority may vouch for besides the
// laptop's host name: names no public site has. IP addresses are not
// constrained, because a classroom LAN may use any (some schools' are
// public); nobody reaches a bank by its IP address.
var localDomains = []string{"localhost", "local", "lan", "home.arpa", "internal"}

// LoadCA returns the authority kept in dir, making it the first time and
// again only once it has expired, because a new one has a new fingerprint
// and students must install it again. host is the laptop's host name, which
// a new authority may vouch for.
func LoadCA(dir, host string, now time.Time) (*Authority, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	cert, cerr := readCert(certPath)
	key, kerr := readKey(keyPath)
	switch {
	case cerr == nil && kerr == nil:
		if !key.PublicKey.Equal(cert.PublicKey) {
			return nil, fmt.Errorf("%s and %s do not belong together: delete both to make a new certificate authority (students must then install the new one)", certPath, keyPath)
		}
		if now.Before(cert.NotAfter) {
			return &Authority{Cert: cert, key: key}, nil
		}
	case errors.Is(cerr, fs.ErrNotExist) && errors.Is(kerr, fs.ErrNotExist):
	default:
		// Half an authority, or a damaged one: making a new one silently
		// would change the fingerprint people check.
		return nil, fmt.Errorf("the certificate authority in %s cannot be read (%w): delete %s and %s to make a new one (students must then install the new one)",
			dir, errors.Join(cerr, kerr), CAFile, CAKeyFile)
	}
	return newCA(dir, host, now)
}

// newCA makes an authority and saves it in dir, the key readable by its
// owner only.
func newCA(dir, host string, now time.Time) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate folder: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	permitted := append([]string(nil), localDomains...)
	if h := dnsName(host); h != "" {
		permitted = append(permitted, h)
	}
	name := "classhub local authority"
	if h := dnsName(host); h != "" {
		name += " on " + h
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name + " " + now.UTC().Format("2006-01-02"), Organization: []string{"classhub"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// RFC 5280 asks for name constraints to be critical.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         permitted,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("make the certificate authority: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("make the certificate authority: %w", err)
	}
	pemKey, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	// The key first: a certificate without its key is not an authority.
	if err := writeFile(filepath.Join(dir, CAKeyFile), pemKey, 0o600); err != nil {
		return nil, fmt.Errorf("save the certificate authority: %w", err)
	}
	if err := writeFile(filepath.Join(dir, CAFile), encodeCert(der), 0o644); err != nil {
		return nil, fmt.Errorf("save the certificate authority: %w", err)
	}
	return &Authority{Cert: cert, key: key}, nil
}

// PEM is the authority's certificate as students download it.
func (a *Authority) PEM() []byte { return encodeCert(a.Cert.Raw) }

// Fingerprint is the SHA-256 fingerprint of the authority's certificate,
// the one people compare with the projector.
func (a *Authority) Fingerprint() string { return Fingerprint(a.Cert.Raw) }

// permits reports whether the authority may vouch for the DNS name.
func (a *Authority) permits(name string) bool {
	if len(a.Cert.PermittedDNSDomains) == 0 {
		return true
	}
	for _, d := range a.Cert.PermittedDNSDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// dnsName is host as a certificate may name it: lower case letters,
// digits, hyphens and dots; "" when host is none.
func dnsName(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if host == "" || len(host) > 253 {
		return ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return ""
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return ""
			}
		}
	}
	return host
}
