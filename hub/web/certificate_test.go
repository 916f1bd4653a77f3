package web

import (
	"strings"
	"testing"
)

const testFingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

func TestCertificatePagesBeforeLogin(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name        string
		fingerprint string
		ca          []byte
		login       []string // on the login page
		page        []string // on /hub/certificate
		caStatus    int
	}{
		{"local authority", testFingerprint, ca,
			[]string{"AB:CD:EF:01", `href="/hub/certificate"`},
			[]string{"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:<", ">AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89</code>", `href="/hub/ca.crt"`, "Trusted Root Certification Authorities"},
			200},
		{"own certificate", testFingerprint, nil,
			[]string{"AB:CD:EF:01"},
			[]string{"AB:CD:EF:01", "the one your browser shows"},
			404},
		{"plain HTTP", "", nil,
			nil,
			[]string{"crosses the network unencrypted", "turn on HTTPS"},
			404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.web.fingerprint, e.web.caCert = tt.fingerprint, tt.ca
			c := e.client()
			login := c.get("/hub/login")
			for _, want := range tt.login {
				if !strings.Contains(login.Body, want) {
					t.Errorf("the login page misses %q", want)
				}
			}
			if tt.fingerprint == "" && strings.Contains(login.Body, `id="fingerprint"`) {
				t.Error("the login page shows a fingerprint on plain HTTP")
			}
			p := c.get("/hub/certificate")
			if p.StatusCode != 200 {
				t.Fatalf("GET /hub/certificate: %s", p.Status)
			}
			for _, want := range tt.page {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the certificate page misses %q:\n%s", want, p.Body)
				}
			}
			if tt.ca == nil && strings.Contains(p.Body, "/hub/ca.crt") {
				t.Error("the certificate page offers an authority the hub does not have")
			}
			f := c.get("/hub/ca.crt")
			if f.StatusCode != tt.caStatus {
				t.Fatalf("GET /hub/ca.crt: %s, want %d", f.Status, tt.caStatus)
			}
			if tt.caStatus == 200 && (f.Body != string(tt.ca) || f.Header.Get("Content-Type") != "application/x-x509-ca-cert") {
				t.Errorf("GET /hub/ca.crt = %q %q", f.Header.Get("Content-Type"), f.Body)
			}
		})
	}
}
