package tlscert

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func laptop(ip string) Names {
	return Names{DNS: []string{"teacher-laptop", "localhost"}, IPs: []net.IP{net.ParseIP(ip), net.ParseIP("127.0.0.1"), net.ParseIP("::1")}}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestLoadCAMakesOneAndKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	a, err := LoadCA(dir, "teacher-laptop", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("folder mode %o, want 700", got)
	}
	if got := mode(t, filepath.Join(dir, CAKeyFile)); got != 0o600 {
		t.Errorf("%s mode %o, want 600", CAKeyFile, got)
	}
	if !a.Cert.IsCA || !a.Cert.MaxPathLenZero {
		t.Errorf("IsCA %v MaxPathLenZero %v, want an authority that cannot make others", a.Cert.IsCA, a.Cert.MaxPathLenZero)
	}
	if _, ok := a.Cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key is %T, want ECDSA", a.Cert.PublicKey)
	}
	for _, later := range []time.Duration{time.Hour, 365 * 24 * time.Hour, CAValidity - time.Hour} {
		b, err := LoadCA(dir, "other-name", t0.Add(later))
		if err != nil {
			t.Fatal(err)
		}
		if b.Fingerprint() != a.Fingerprint() {
			t.Errorf("%v later the authority changed: %s, want %s", later, b.Fingerprint(), a.Fingerprint())
		}
	}
	c, err := LoadCA(dir, "teacher-laptop", t0.Add(CAValidity+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() == a.Fingerprint() {
		t.Error("an expired authority was kept")
	}
}

func TestLoadCARefusesADamagedOne(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(dir string)
		want  string
	}{
		{"key missing", func(dir string) { os.Remove(filepath.Join(dir, CAKeyFile)) }, "delete"},
		{"certificate garbled", func(dir string) { os.WriteFile(filepath.Join(dir, CAFile), []byte("junk"), 0o644) }, "delete"},
		{"key of another authority", func(dir string) {
			other := t.TempDir()
			if _, err := LoadCA(other, "", t0); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
			os.WriteFile(filepath.Join(dir, CAKeyFile), b, 0o600)
		}, "do not belong together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := LoadCA(dir, "", t0); err != nil {
				t.Fatal(err)
			}
			tt.spoil(dir)
			_, err := LoadCA(dir, "", t0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadCA = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestServerCertCoversTheLaptop(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadCA(dir, "teacher-laptop", t0)
	if err != nil {
		t.Fatal(err)
	}
	cert, issued, err := a.ServerCert(dir, laptop("192.168.1.20"), t0)
	if err != nil || !issued {
		t.Fatalf("ServerCert = issued %v, %v", issued, err)
	}
	if got := mode(t, filepath.Join(dir, ServerKey)); got != 0o600 {
		t.Errorf("%s mode %o, want 600", ServerKey, got)
	}
	if len(cert.Certificate) != 2 || string(cert.Certificate[1]) != string(a.Cert.Raw) {
		t.Errorf("chain has %d certificates, want the server's and the authority's", len(cert.Certificate))
	}
	if _, ok := cert.Leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("server key is %T, want ECDSA", cert.Leaf.PublicKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	for _, name := range []string{"192.168.1.20", "teacher-laptop", "localhost", "127.0.0.1", "::1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0}); err != nil {
			t.Errorf("a browser trusting the authority refuses %s: %v", name, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "192.168.1.21", Roots: roots, CurrentTime: t0}); err == nil {
		t.Error("the certificate is good for an address the laptop does not have")
	}
	if life := cert.Leaf.NotAfter.Sub(t0); life > 398*24*time.Hour {
		t.Errorf("the server certificate lives %v, more than the 398 days browsers accept", life)
	}
}

func TestServerCertIsMadeAgainOnlyWhenNeeded(t *testing.T) {
	tests := []struct {
		name  string
		names Names
		at    time.Time
		again bool
	}{
		{"same laptop, same network", laptop("192.168.1.20"), t0.Add(24 * time.Hour), false},
		{"fewer names", Names{IPs: []net.IP{net.ParseIP("192.168.1.20")}}, t0, false},
		{"new LAN address", laptop("10.0.0.7"), t0, true},
		{"new host name", Names{DNS: []string{"renamed-laptop.local"}}, t0, true},
		{"near its end", laptop("192.168.1.20"), t0.Add(ServerValidity - RenewBefore + time.Hour), true},
		{"clock before it began", laptop("192.168.1.20"), t0.Add(-2 * backdate), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, err := LoadCA(dir, "teacher-laptop", t0)
			if err != nil {
				t.Fatal(err)
			}
			first, _, err := a.ServerCert(dir, laptop("192.168.1.20"), t0)
			if err != nil {
				t.Fatal(err)
			}
			got, issued, err := a.ServerCert(dir, tt.names, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if issued != tt.again || (string(got.Certificate[0]) != string(first.Certificate[0])) != tt.again {
				t.Errorf("issued = %v, want %v", issued, tt.again)
			}
			if tt.again {
				for _, ip := range tt.names.IPs {
					if err := got.Leaf.VerifyHostname(ip.String()); err != nil {
						t.Errorf("the new certificate misses %s: %v", ip, err)
					}
				}
			}
		})
	}
}

func TestServerCertOfAnotherAuthorityIsReplaced(t *testing.T) {
	dir := t.TempDir()
	old, _ := LoadCA(t.TempDir(), "", t0)
	if _, _, err := old.ServerCert(dir, laptop("192.168.1.20"), t0); err != nil {
		t.Fatal(err)
	}
	a, _ := LoadCA(dir, "", t0)
	got, issued, err := a.ServerCert(dir, laptop("192.168.1.20"), t0)
	if err != nil || !issued || got.Leaf.CheckSignatureFrom(a.Cert) != nil {
		t.Fatalf("ServerCert = issued %v, %v; want a new certificate from the current authority", issued, err)
	}
}

// TestAuthorityCannotVouchForOtherSites is what a student risks by
// installing the authority: if the laptop's key were stolen, a certificate
// it signs for a public name is still refused.
func TestAuthorityCannotVouchForOtherSites(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadCA(dir, "teacher-laptop", t0)
	if err != nil {
		t.Fatal(err)
	}
	names := Names{DNS: []string{"bank.example", "teacher-laptop", "teacher-laptop.local"}}
	cert, _, err := a.ServerCert(dir, names, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cert.Leaf.DNSNames {
		if d == "bank.example" {
			t.Fatal("the server certificate names a public site")
		}
	}
	// Forge one directly with the stolen key.
	key, _ := newKey()
	tmpl := &x509.Certificate{SerialNumber: cert.Leaf.SerialNumber, Subject: pkix.Name{CommonName: "bank.example"},
		DNSNames: []string{"bank.example"}, NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(nil, tmpl, a.Cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	if _, err := forged.Verify(x509.VerifyOptions{DNSName: "bank.example", Roots: roots, CurrentTime: t0}); err == nil {
		t.Fatal("a certificate the authority signed for bank.example verifies")
	}
}

func TestFingerprint(t *testing.T) {
	der := []byte("not really a certificate")
	sum := sha256.Sum256(der)
	got := Fingerprint(der)
	if len(got) != 32*3-1 || strings.ToUpper(got) != got {
		t.Fatalf("Fingerprint = %q, want 32 upper-case hex pairs joined by colons", got)
	}
	if strings.ReplaceAll(got, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Fatalf("Fingerprint = %q, not the SHA-256 of the certificate", got)
	}
}
