package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// LoadPair reads an instructor's own certificate and key (PEM files, the
// certificate file may hold the chain after it) and says in a sentence what
// is wrong with them.
func LoadPair(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return pair, fmt.Errorf("tls_cert/tls_key: %w: check the file's name and that classhub may read it", err)
	case err != nil:
		return pair, fmt.Errorf("tls_cert %s and tls_key %s are not a certificate and its key (%v): give the PEM certificate in tls_cert and its private key in tls_key", certFile, keyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return pair, fmt.Errorf("tls_cert %s: %w", certFile, err)
		}
	}
	if now.After(leaf.NotAfter) {
		return pair, fmt.Errorf("tls_cert %s expired on %s: renew it, or set tls = \"auto\"", certFile, leaf.NotAfter.Format("2 Jan 2006"))
	}
	return pair, nil
}
