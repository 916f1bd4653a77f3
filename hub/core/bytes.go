package core

import "fmt"

// Bytes writes n bytes for people in binary units, as Docker's memory
// limits are written: whole KiB and MiB, GiB to a tenth. It is the one
// size the hub, the CLI and the app show, of memory, images and folders
// alike, so a figure reads the same wherever it appears.
func Bytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
