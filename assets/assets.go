// Package assets holds classhub's icons, embedded in the binary. The tray
// icons are PNG because Linux trays take the bytes as they are.
package assets

import _ "embed"

// Icon is the application icon (256×256).
//
//go:embed icon.png
var Icon []byte

// Tray icons, one per hub state (64×64).
var (
	//go:embed tray-stopped.png
	TrayStopped []byte
	//go:embed tray-starting.png
	TrayStarting []byte
	//go:embed tray-running.png
	TrayRunning []byte
	//go:embed tray-error.png
	TrayError []byte
)
