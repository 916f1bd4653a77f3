package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"1024", 1024, false},
		{"512M", 512 << 20, false},
		{"2G", 2 << 30, false},
		{"2g", 2 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"64k", 64 << 10, false},
		{"lots", 0, true},
		{"-1G", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if Default().AllowUserConfig {
		t.Error("students' own server configuration is on by default")
	}
}

func TestImageMode(t *testing.T) {
	if m := Default().ImageMode; m != ImageModeAuto {
		t.Errorf("Default().ImageMode = %q, want %q", m, ImageModeAuto)
	}
	for _, m := range []string{"", ImageModeAuto, ImageModeJupyterHub, ImageModeServer} {
		c := Default()
		c.ImageMode = m
		if err := c.Validate(); err != nil {
			t.Errorf("image_mode %q: %v", m, err)
		}
	}
	c := Default()
	c.ImageMode = "lab"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `image_mode "lab" is not known`) || !strings.Contains(err.Error(), `"server"`) {
		t.Errorf("Validate() with image_mode lab = %v, want it to name the setting and the choices", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Mode = "party"
	c.PullPolicy = "sometimes"
	c.MemoryLimit = "2G"
	c.SwapLimit = "1G"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil for three bad settings")
	}
	for _, want := range []string{`mode "party"`, `pull_policy "sometimes"`, "swap_limit 1G is below"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, missing %q", err, want)
		}
	}
}

func TestUserPortsAreARangeApartFromTheHubsPorts(t *testing.T) {
	for _, tc := range []struct {
		ports, listen string
		hubPort       int
		want          string // "" for valid
	}{
		{"8100-8399", "", 8081, ""},
		{"9000-9000", "127.0.0.1:8000", 8081, ""},
		{"8100", "", 8081, "not a port range"},
		{"8399-8100", "", 8081, "not a port range"},
		{"0-10", "", 8081, "not a port range"},
		{"60000-70000", "", 8081, "not a port range"},
		{"a-b", "", 8081, "not a port range"},
		{"8000-8100", "", 8081, "holds hub_port 8081"},
		{"7000-8000", "", 9, "holds the public port 8000"},
		{"9000-9100", "0.0.0.0:9050", 8081, "holds the public port 9050"},
	} {
		c := Default()
		c.UserPorts, c.Listen, c.HubPort = tc.ports, tc.listen, tc.hubPort
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("user_ports %q: Validate() = %v", tc.ports, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("user_ports %q, listen %q, hub_port %d: Validate() = %v, want %q", tc.ports, tc.listen, tc.hubPort, err, tc.want)
		}
	}
}

func TestSubdomainHostIsAHostName(t *testing.T) {
	for host, ok := range map[string]bool{
		"": true, "hub.example.org": true, "Hub-1.example.org": true,
		"http://hub.example.org": false, "hub.example.org:8000": false, "-hub.org": false,
		"hub..org": false, "*.hub.org": false, "hub.example.org/": false,
	} {
		c := Default()
		c.SubdomainHost = host
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("subdomain_host %q: Validate() = %v, want ok=%v", host, err, ok)
		}
	}
}

func TestMaxWebsocketsIsPositive(t *testing.T) {
	c := Default()
	c.MaxWebsockets = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max_websockets 0") {
		t.Errorf("Validate() = %v, want max_websockets refused", err)
	}
}

func TestSwapDefaultsToMemory(t *testing.T) {
	c := Default()
	c.MemoryLimit = "1G"
	swap, err := c.SwapBytes()
	if err != nil || swap != 1<<30 {
		t.Fatalf("SwapBytes() = %d, %v; want memory limit %d", swap, err, 1<<30)
	}
}

func TestListenAddrFollowsMode(t *testing.T) {
	c := Default()
	if got := c.ListenAddr(); got != "0.0.0.0:8000" {
		t.Errorf("class mode ListenAddr() = %q", got)
	}
	c.Mode = ModePersonal
	if got := c.ListenAddr(); got != "127.0.0.1:8000" {
		t.Errorf("personal mode ListenAddr() = %q", got)
	}
	c.Listen = "127.0.0.1:9999"
	if got := c.ListenAddr(); got != "127.0.0.1:9999" {
		t.Errorf("explicit ListenAddr() = %q", got)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	c := Default()
	c.Image = "example/nb:1"
	c.IdleTimeout = Duration(90 * time.Minute)
	c.Environment = map[string]string{"TZ": "Europe/Paris"}
	c.AllowUserConfig = true
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Image != c.Image || got.IdleTimeout != c.IdleTimeout || got.Environment["TZ"] != "Europe/Paris" || !got.AllowUserConfig {
		t.Fatalf("Load(Save(c)) = %+v, want %+v", got, c)
	}
}

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || c.Image != DefaultImage {
		t.Fatalf("Load(missing) = %+v, %v", c, err)
	}
}

func TestLoadRejectsUnknownAndBadSettings(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		`unknown setting "imgae"`: `imgae = "x"`,
		`idle_timeout`:            `idle_timeout = "soon"`,
		`mode "party"`:            `mode = "party"`,
	} {
		path := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load(%q) = %v, want an error mentioning %q", body, err, name)
		}
	}
}

func TestTLSModeDefaultsToHTTPSOnTheNetwork(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"class mode", func(c *Config) {}, TLSAuto},
		{"class mode on one LAN address", func(c *Config) { c.Listen = "192.168.1.20:8000" }, TLSAuto},
		{"personal mode", func(c *Config) { c.Mode = ModePersonal }, TLSOff},
		{"personal mode opened to the LAN", func(c *Config) { c.Mode = ModePersonal; c.Listen = "0.0.0.0:8000" }, TLSAuto},
		{"class mode on loopback", func(c *Config) { c.Listen = "127.0.0.1:8000" }, TLSOff},
		{"localhost", func(c *Config) { c.Listen = "localhost:8000" }, TLSOff},
		{"chosen off", func(c *Config) { c.TLS = TLSOff }, TLSOff},
		{"chosen auto on loopback", func(c *Config) { c.Mode = ModePersonal; c.TLS = TLSAuto }, TLSAuto},
		{"own files", func(c *Config) { c.TLSCert, c.TLSKey = "a.crt", "a.key" }, TLSFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			if got := c.TLSMode(); got != tt.want {
				t.Errorf("TLSMode() = %q, want %q", got, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestValidateTLSSaysWhatToWrite(t *testing.T) {
	tests := []struct {
		name           string
		tls, cert, key string
		want           string
	}{
		{"unknown", "yes", "", "", `use "auto"`},
		{"files without files", TLSFiles, "", "", "needs tls_cert and tls_key"},
		{"certificate without key", "", "a.crt", "", "set tls_key"},
		{"key without certificate", TLSFiles, "", "a.key", "set tls_cert"},
		{"files with auto", TLSAuto, "a.crt", "a.key", `set tls = "files" or remove them`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.TLS, c.TLSCert, c.TLSKey = tt.tls, tt.cert, tt.key
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want a sentence with %q", err, tt.want)
			}
		})
	}
}

func TestTLSSettingsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := Default()
	c.TLS, c.TLSCert, c.TLSKey = TLSFiles, "/etc/ssl/class.pem", "/etc/ssl/class.key"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || got.TLS != c.TLS || got.TLSCert != c.TLSCert || got.TLSKey != c.TLSKey {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// The default is not written, so it keeps following the address.
	if err := Save(path, Default()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "tls") {
		t.Errorf("the default config file mentions tls:\n%s", b)
	}
}

func TestPidsLimit(t *testing.T) {
	if Default().PidsLimit != DefaultPidsLimit || DefaultPidsLimit < MinPidsLimit {
		t.Fatalf("default pids_limit = %d, want %d", Default().PidsLimit, DefaultPidsLimit)
	}
	for n, ok := range map[int64]bool{0: true, MinPidsLimit: true, 4096: true, 10: false, -1: false} {
		c := Default()
		c.PidsLimit = n
		err := c.Validate()
		if ok && err != nil {
			t.Errorf("pids_limit %d: %v", n, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "pids_limit") || !strings.Contains(err.Error(), "0 for no limit")) {
			t.Errorf("pids_limit %d: Validate() = %v, want a sentence about pids_limit", n, err)
		}
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte("pids_limit = 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(path); err != nil || c.PidsLimit != 1000 {
		t.Fatalf("Load(pids_limit = 1000) = %d, %v", c.PidsLimit, err)
	}
}

// TestBackendSetting: "container" (also what an older file without the
// key means) and "swarm" are backends; anything else is refused with the
// choices named.
func TestBackendSetting(t *testing.T) {
	for _, b := range []string{"", BackendContainer, BackendSwarm} {
		c := Default()
		c.Backend = b
		if err := c.Validate(); err != nil {
			t.Errorf("backend %q: %v", b, err)
		}
	}
	c := Default()
	c.Backend = "kubernetes"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"swarm"`) || !strings.Contains(err.Error(), `"container"`) {
		t.Errorf("backend kubernetes: %v, want a refusal naming the backends", err)
	}
	if Default().Backend != BackendContainer {
		t.Errorf("the default backend is %q", Default().Backend)
	}
}
