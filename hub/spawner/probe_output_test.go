package spawner

import (
	"runtime"
	"testing"

	"github.com/classhub/classhub/hub/image/imagetest"
)

// An image whose command prints without end when asked its version (32
// MiB on one line here; an image may print gigabytes in the probe's time)
// costs the hub a bounded read of the end of it, where the version is,
// not the whole output in memory: the probe reads the last lines of the
// log, and the engine's log drivers cut a long line into 16 KiB pieces.
func TestProbeReadsABoundedOutput(t *testing.T) {
	cli := connect(t)
	img := imagetest.Derive(t, cli, imagetest.Spec{Base: imagetest.Classic(t, cli), Script: `set -e
cat > /usr/local/bin/classhub-noisy <<'END'
#!/bin/sh
head -c 33554432 /dev/zero | tr '\0' x
echo " 9.8.7"
END
chmod 755 /usr/local/bin/classhub-noisy`})
	e := newTestEnv(t)
	ins, err := cli.ImageInspect(e.ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v, ok, err := e.d.probeVersion(e.ctx, e.cfg, ins, "/usr/local/bin/classhub-noisy")
	runtime.ReadMemStats(&after)
	if err != nil || !ok || v != "9.8.7" {
		t.Fatalf("probe = %q %v %v, want the version after the noise", v, ok, err)
	}
	if read := after.TotalAlloc - before.TotalAlloc; read > 8<<20 {
		t.Errorf("the probe allocated %d MiB for a command's output", read>>20)
	}
}
