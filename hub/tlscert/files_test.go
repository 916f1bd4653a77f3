package tlscert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadPair(t *testing.T) {
	dir := t.TempDir()
	a, _ := LoadCA(dir, "", t0)
	if _, _, err := a.ServerCert(dir, laptop("192.168.1.20"), t0); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, ServerFile), filepath.Join(dir, ServerKey)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("hello"), 0o600)
	tests := []struct {
		name      string
		cert, key string
		at        time.Time
		want      string // "" for no error
	}{
		{"good pair", cert, key, t0, ""},
		{"missing certificate", filepath.Join(dir, "nope.crt"), key, t0, "check the file's name"},
		{"key of another certificate", cert, filepath.Join(dir, CAKeyFile), t0, "are not a certificate and its key"},
		{"not PEM", junk, key, t0, "give the PEM certificate in tls_cert"},
		{"expired", cert, key, t0.Add(2 * ServerValidity), "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPair(tt.cert, tt.key, tt.at)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("LoadPair = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadPair = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
