// Command classhub is a JupyterHub for a classroom, run from a laptop's
// system tray. With no arguments it opens the tray app; with a command
// (`classhub serve`, `classhub image build`, …) it runs without a display.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/classhub/classhub/app"
	"github.com/classhub/classhub/cli"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/internal/quietinit"
)

func main() {
	quietinit.Restore()
	args := os.Args[1:]
	if len(args) > 0 && (cli.IsCommand(args[0]) || !strings.HasPrefix(args[0], "-")) {
		os.Exit(cli.Main(args, cli.Env{}))
	}
	os.Exit(runApp(args))
}

// runApp opens the desktop app. Without a display Fyne would panic deep in
// GLFW, so say what to do instead.
func runApp(args []string) int {
	fs := flag.NewFlagSet("classhub", flag.ContinueOnError)
	def, _ := config.DefaultDataDir()
	dataDir := fs.String("data-dir", def, "folder for classhub's config and state")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !hasDisplay() {
		fmt.Fprintln(os.Stderr, "classhub: the tray app needs a desktop, and no display was found (DISPLAY and WAYLAND_DISPLAY are unset).\n"+
			"To host a class without a desktop, run `classhub serve`; `classhub help` lists every command.")
		return 1
	}
	if err := app.Run(app.Options{DataDir: *dataDir, Version: cli.Version}); err != nil {
		fmt.Fprintf(os.Stderr, "classhub: %v\n", err)
		return 1
	}
	return 0
}

// hasDisplay reports whether a desktop session is reachable. Only X11 and
// Wayland need checking; macOS and Windows always have one.
func hasDisplay() bool {
	if runtime.GOOS != "linux" && runtime.GOOS != "freebsd" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
