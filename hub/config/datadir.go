package config

import (
	"errors"
	"os"
	"runtime"
	"strings"
)

// appName is the data dir's own folder inside the OS's place for it.
const appName = "classhub"

// DefaultDataDir is where classhub keeps its config and state unless
// --data-dir says otherwise, by the convention of the OS it runs on
// (dataDirFor says which).
func DefaultDataDir() (string, error) {
	home, _ := os.UserHomeDir()
	return dataDirFor(platform{goos: runtime.GOOS, getenv: os.Getenv, home: home, exists: dirExists})
}

// platform is what the data dir depends on, a parameter so that every
// OS's rule is tested on any of them.
type platform struct {
	goos   string
	getenv func(string) string
	// home is the home folder, "" when it is unknown.
	home string
	// exists reports whether a folder is there.
	exists func(path string) bool
}

// dataDirFor is the data dir by the convention of p's OS:
//   - Linux and the other Unixes: the XDG base directory spec's data
//     home, $XDG_DATA_HOME/classhub, else ~/.local/share/classhub. A
//     relative $XDG_DATA_HOME is ignored, as the spec says.
//   - macOS: ~/Library/Application Support/classhub.
//   - Windows: %LOCALAPPDATA%\classhub. Local, not Roaming: the state is
//     this machine's (its Docker engine's servers, a certificate for its
//     address, its authority's key), which a roaming profile would copy
//     to other machines.
//
// Every classhub before this one kept its data in the XDG place on every
// OS; where that folder exists and the OS's own does not, it stays in use,
// so an upgrade never loses a class.
func dataDirFor(p platform) (string, error) {
	xdg := ""
	if d := p.getenv("XDG_DATA_HOME"); isAbs(p.goos, d) {
		xdg = join(p.goos, d, appName)
	} else if p.home != "" {
		xdg = join(p.goos, p.home, ".local", "share", appName)
	}
	var native string
	switch p.goos {
	case "darwin":
		if p.home != "" {
			native = join(p.goos, p.home, "Library", "Application Support", appName)
		}
	case "windows":
		if d := p.getenv("LOCALAPPDATA"); isAbs(p.goos, d) {
			native = join(p.goos, d, appName)
		} else if p.home != "" {
			native = join(p.goos, p.home, "AppData", "Local", appName)
		}
	default:
		native = xdg
	}
	switch {
	case native == "" && xdg == "":
		return "", errors.New("classhub cannot find your home folder to keep its data in: pass --data-dir DIR")
	case native == "":
		return xdg, nil
	case xdg != "" && xdg != native && !p.exists(native) && p.exists(xdg):
		return xdg, nil
	}
	return native, nil
}

// join joins path elements with goos's separator, whatever the OS this
// runs on.
func join(goos string, elem ...string) string {
	sep := "/"
	if goos == "windows" {
		sep = `\`
	}
	out := strings.TrimRight(elem[0], `/\`)
	for _, e := range elem[1:] {
		out += sep + e
	}
	return out
}

// isAbs reports whether path is absolute on goos: an environment variable
// holding anything else is not a place to keep data.
func isAbs(goos, path string) bool {
	if goos == "windows" {
		// C:\… or \\server\share\…
		return len(path) >= 3 && path[1] == ':' && (path[2] == '\\' || path[2] == '/') || strings.HasPrefix(path, `\\`)
	}
	return strings.HasPrefix(path, "/")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
