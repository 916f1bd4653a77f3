//go:build unix

package spawner

import "syscall"

// DiskFree is the space free for an unprivileged writer at dir, when dir
// is on this machine and readable (Docker's own root often is not, and
// is then not known).
func DiskFree(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
