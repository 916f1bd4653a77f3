package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// TestDoctorSaysWhatTheSwarmSettingsLack: `classhub doctor` with a
// volume_driver the engine lacks fails on it with what to do, and `serve`
// refuses with the same sentence.
func TestDoctorSaysWhatTheSwarmSettingsLack(t *testing.T) {
	testenv.Docker(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "classhub.toml")
	if err := os.WriteFile(cfg, []byte("volume_driver = \"classhub-test/no-such-driver\"\nmode = \"personal\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const sentence = "volume_driver = \"classhub-test/no-such-driver\" is not installed in this engine"
	stdout, stderr, code := run(t, nil, "doctor", "--config", cfg)
	if code == 0 || !strings.Contains(stdout, "FAIL  volume driver  "+sentence) || !strings.Contains(stdout, "docker plugin install classhub-test/no-such-driver") {
		t.Errorf("doctor: code %d, want the volume driver's failure with what to do:\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = run(t, nil, "serve", "--config", cfg, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(stderr, sentence) {
		t.Errorf("serve: code %d, want the same sentence:\n%s%s", code, stdout, stderr)
	}
}
