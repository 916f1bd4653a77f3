package image

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCheckStaticRefusesCgo: a binary linked against the C library (the
// desktop build) cannot run in the hub's image, and the refusal says
// which build to use; a CGO_ENABLED=0 build passes.
func TestCheckStaticRefusesCgo(t *testing.T) {
	dynamic, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls to stand in for a dynamically linked binary")
	}
	if err := checkStatic(dynamic); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("checkStatic(%s) = %v, want a refusal naming the build to use", dynamic, err)
	}
	if err := checkStatic(os.Args[0]); err != nil && os.Getenv("CGO_ENABLED") == "0" {
		t.Errorf("a CGO_ENABLED=0 test binary was refused: %v", err)
	}
	if err := checkStatic("/etc/hostname"); err == nil {
		t.Error("a file that is no executable passed")
	}
}
