package config

import (
	"strings"
	"testing"
)

func TestDataDirFollowsEachOSsConvention(t *testing.T) {
	tests := []struct {
		name   string
		goos   string
		env    map[string]string
		home   string
		exists []string
		want   string
	}{
		{"linux", "linux", nil, "/home/ada", nil, "/home/ada/.local/share/classhub"},
		{"linux XDG_DATA_HOME", "linux", map[string]string{"XDG_DATA_HOME": "/data/ada"}, "/home/ada", nil, "/data/ada/classhub"},
		{"linux XDG_DATA_HOME with a slash", "linux", map[string]string{"XDG_DATA_HOME": "/data/ada/"}, "/home/ada", nil, "/data/ada/classhub"},
		{"linux relative XDG_DATA_HOME is ignored", "linux", map[string]string{"XDG_DATA_HOME": "data"}, "/home/ada", nil, "/home/ada/.local/share/classhub"},
		{"linux keeps its existing dir", "linux", nil, "/home/ada", []string{"/home/ada/.local/share/classhub"}, "/home/ada/.local/share/classhub"},
		{"linux without a home but XDG", "linux", map[string]string{"XDG_DATA_HOME": "/data"}, "", nil, "/data/classhub"},
		{"freebsd", "freebsd", nil, "/home/ada", nil, "/home/ada/.local/share/classhub"},
		{"macos", "darwin", nil, "/Users/ada", nil, "/Users/ada/Library/Application Support/classhub"},
		{"macos ignores XDG for a new install", "darwin", map[string]string{"XDG_DATA_HOME": "/Users/ada/xdg"}, "/Users/ada", nil,
			"/Users/ada/Library/Application Support/classhub"},
		{"macos keeps an earlier classhub's dir", "darwin", nil, "/Users/ada", []string{"/Users/ada/.local/share/classhub"},
			"/Users/ada/.local/share/classhub"},
		{"macos keeps an earlier classhub's XDG dir", "darwin", map[string]string{"XDG_DATA_HOME": "/Users/ada/xdg"}, "/Users/ada",
			[]string{"/Users/ada/xdg/classhub"}, "/Users/ada/xdg/classhub"},
		{"macos prefers its own dir when both exist", "darwin", nil, "/Users/ada",
			[]string{"/Users/ada/.local/share/classhub", "/Users/ada/Library/Application Support/classhub"},
			"/Users/ada/Library/Application Support/classhub"},
		{"windows", "windows", map[string]string{"LOCALAPPDATA": `C:\Users\ada\AppData\Local`}, `C:\Users\ada`, nil,
			`C:\Users\ada\AppData\Local\classhub`},
		{"windows without LOCALAPPDATA", "windows", nil, `C:\Users\ada`, nil, `C:\Users\ada\AppData\Local\classhub`},
		{"windows on a network profile", "windows", map[string]string{"LOCALAPPDATA": `\\school\ada\Local`}, `C:\Users\ada`, nil,
			`\\school\ada\Local\classhub`},
		{"windows relative LOCALAPPDATA is ignored", "windows", map[string]string{"LOCALAPPDATA": `Local`}, `C:\Users\ada`, nil,
			`C:\Users\ada\AppData\Local\classhub`},
		{"windows keeps an earlier classhub's dir", "windows", map[string]string{"LOCALAPPDATA": `C:\Users\ada\AppData\Local`}, `C:\Users\ada`,
			[]string{`C:\Users\ada\.local\share\classhub`}, `C:\Users\ada\.local\share\classhub`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dataDirFor(platform{
				goos:   tt.goos,
				getenv: func(k string) string { return tt.env[k] },
				home:   tt.home,
				exists: func(p string) bool {
					for _, e := range tt.exists {
						if e == p {
							return true
						}
					}
					return false
				},
			})
			if err != nil || got != tt.want {
				t.Errorf("data dir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDataDirWithoutAHomeSaysToPassOne(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		_, err := dataDirFor(platform{goos: goos, getenv: func(string) string { return "" }, exists: func(string) bool { return false }})
		if err == nil || !strings.Contains(err.Error(), "--data-dir") {
			t.Errorf("%s without a home: %v, want an error saying to pass --data-dir", goos, err)
		}
	}
}
