package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIconsArePNG(t *testing.T) {
	for name, b := range map[string][]byte{
		"icon": Icon, "stopped": TrayStopped, "starting": TrayStarting, "running": TrayRunning, "error": TrayError,
	} {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
			continue
		}
		if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != h || w < 64 {
			t.Errorf("%s: %dx%d, want a square of at least 64", name, w, h)
		}
	}
	if bytes.Equal(TrayRunning, TrayError) {
		t.Error("running and error tray icons are the same picture")
	}
}
