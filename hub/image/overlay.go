package image

import (
	"fmt"
	"os"
	"path/filepath"
)

// overlayJupyterPath is where the image's own kernel spec lives; JUPYTER_PATH
// puts it before the one Debian's ipykernel ships.
const overlayJupyterPath = "/usr/local/share/classhub/jupyter"

// kernelPython is the kernel's Python: a virtual environment in the work
// volume that sees Debian's packages (--system-site-packages), made at the
// first kernel start. %pip install then goes into the student's own
// environment, Debian's stay intact, and what they installed is there
// again when their container is recreated. If the environment cannot be
// made (a full volume), the kernel still starts, on the system Python.
const kernelPython = `#!/bin/sh
# classhub: the notebook kernel's Python (see hub/image/overlay.go).
venv="$HOME/work/.venv"
if [ ! -x "$venv/bin/python3" ]; then
	python3 -m venv --system-site-packages "$venv" >/dev/null 2>&1 || exec python3 "$@"
fi
exec "$venv/bin/python3" "$@"
`

const kernelSpec = `{
 "argv": ["/usr/local/bin/classhub-python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "Python 3 (ipykernel)",
 "language": "python",
 "metadata": {"debugger": true}
}
`

// writeOverlay writes the files prof adds to the root filesystem under
// work/overlay and returns that folder, or "" when prof adds none.
func writeOverlay(work string, prof Profile) (string, error) {
	if !prof.KernelVenv {
		return "", nil
	}
	dir := filepath.Join(work, "overlay")
	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{"usr/local/bin/classhub-python", kernelPython, 0o755},
		{overlayJupyterPath[1:] + "/kernels/python3/kernel.json", kernelSpec, 0o644},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("image overlay: %w", err)
		}
		if err := os.WriteFile(path, []byte(f.content), f.mode); err != nil {
			return "", fmt.Errorf("image overlay: %w", err)
		}
		// WriteFile's mode is masked by the umask; the image's is not.
		if err := os.Chmod(path, f.mode); err != nil {
			return "", fmt.Errorf("image overlay: %w", err)
		}
	}
	return dir, nil
}
