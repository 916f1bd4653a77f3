package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// dockerSockets are where the engine's socket lives; a folder holding one
// would hand every student the engine, and with it the computer.
var dockerSockets = []string{"/var/run/docker.sock", "/run/docker.sock"}

// systemDirs are never shared, nor anything inside them: they hold the
// computer's secrets (keys, password hashes) or its live state.
var systemDirs = []string{"/etc", "/root", "/boot", "/proc", "/sys", "/dev", "/run", "/var/run",
	"/private/etc", "/private/var/run", "/System", "/Library"}

// wholeDirs are shared only through a folder of their own inside them:
// each holds far more than a class needs, other people's files among it.
var wholeDirs = []string{"/usr", "/var", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/srv", "/mnt", "/media",
	"/tmp", "/home", "/Users", "/Volumes"}

// CheckMaterials says, as a sentence with what to do, why dir cannot be
// the materials folder: it must be an existing folder given by its whole
// path, neither inside classhub's data dir (passwords, keys, tokens) nor
// holding it, nor the home folder, nor a system folder, nor one holding
// the Docker socket, nor any of secrets (a config file or TLS key kept
// elsewhere). Symbolic links in dir's own path are followed first, as the
// engine follows them when it mounts the folder. An empty dir (no
// materials) is fine.
func CheckMaterials(dir, dataDir string, secrets ...string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("materials folder %q is not a full path: write the folder's whole path, or leave it empty", dir)
	}
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("materials folder %s does not exist: create it, or choose another folder", dir)
	case err != nil:
		return fmt.Errorf("materials folder %s cannot be read (%v): choose a folder you can open", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("materials folder %s is a file, not a folder: choose the folder that holds what students should see", dir)
	}
	real := resolve(dir)
	shown := dir
	if real != filepath.Clean(dir) {
		shown = fmt.Sprintf("%s (which is %s)", dir, real)
	}
	if data := resolve(dataDir); dataDir != "" {
		if within(real, data) {
			return fmt.Errorf("materials folder %s is inside classhub's data dir %s, which holds passwords and keys: choose a folder outside it", shown, data)
		}
		if within(data, real) {
			return fmt.Errorf("materials folder %s holds classhub's data dir %s, which holds passwords and keys: make a folder just for the materials and choose it", shown, data)
		}
	}
	for _, secret := range secrets {
		if secret != "" && within(resolve(secret), real) {
			return fmt.Errorf("materials folder %s holds %s, which students must not read: move it out of the folder, or choose another folder", shown, secret)
		}
	}
	for _, sock := range dockerSockets {
		if within(resolve(sock), real) || within(sock, real) {
			return fmt.Errorf("materials folder %s holds the Docker socket, with which any student could take over this computer: make a folder just for the materials and choose it", shown)
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && within(resolve(home), real) {
		return fmt.Errorf("materials folder %s is your home folder or holds it, with your keys and browser profiles: make a folder just for the materials inside it, e.g. %s, and choose that", shown, filepath.Join(home, "class-materials"))
	}
	if filepath.Dir(real) == real {
		return fmt.Errorf("materials folder %s is a whole disk: make a folder just for the materials and choose it", shown)
	}
	for _, sys := range systemDirs {
		if within(real, sys) {
			return fmt.Errorf("materials folder %s is a system folder: make a folder just for the materials and choose it", shown)
		}
	}
	if inner := mountsInside(real, readMountInfo()); len(inner) > 0 {
		// Older engines (Docker before 25) make only the folder itself
		// read-only, not disks mounted inside it.
		return fmt.Errorf("materials folder %s holds another mounted disk at %s, which students could write to: choose a folder without disks mounted inside it", shown, inner[0])
	}
	for _, whole := range wholeDirs {
		if real == whole {
			return fmt.Errorf("materials folder %s holds much more than a class needs: make a folder just for the materials inside it and choose that", shown)
		}
	}
	return nil
}

// resolve is path with its symbolic links followed, or cleaned when it
// does not exist.
func resolve(path string) string {
	if path == "" {
		return ""
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(real); err == nil {
			return abs
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return abs
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	if path == "" || dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// readMountInfo is this computer's mount table on Linux, empty elsewhere.
func readMountInfo() string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	return string(b)
}

// mountsInside lists the mount points of a mountinfo table (proc(5))
// strictly inside dir.
func mountsInside(dir, mountinfo string) []string {
	var inner []string
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		point := unescapeMount(f[4])
		if point != dir && within(point, dir) {
			inner = append(inner, point)
		}
	}
	return inner
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash ("\040").
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
