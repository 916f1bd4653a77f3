package engine

import "testing"

func TestHostFollowsEachOSsEngine(t *testing.T) {
	tests := []struct {
		name   string
		goos   string
		env    map[string]string
		home   string
		exists []string
		want   string
	}{
		{"DOCKER_HOST wins", "linux", map[string]string{"DOCKER_HOST": "tcp://10.0.0.2:2376"}, "/home/ada",
			[]string{"/var/run/docker.sock"}, "tcp://10.0.0.2:2376"},
		{"DOCKER_HOST wins on windows", "windows", map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375"}, `C:\Users\ada`, nil,
			"tcp://127.0.0.1:2375"},
		{"windows", "windows", nil, `C:\Users\ada`, nil, "npipe:////./pipe/docker_engine"},
		{"linux system engine", "linux", nil, "/home/ada", []string{"/var/run/docker.sock"}, "unix:///var/run/docker.sock"},
		{"linux rootless", "linux", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/home/ada",
			[]string{"/run/user/1000/docker.sock"}, "unix:///run/user/1000/docker.sock"},
		{"linux system engine before rootless", "linux", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/home/ada",
			[]string{"/var/run/docker.sock", "/run/user/1000/docker.sock"}, "unix:///var/run/docker.sock"},
		{"linux relative XDG_RUNTIME_DIR is ignored", "linux", map[string]string{"XDG_RUNTIME_DIR": "run"}, "/home/ada",
			[]string{"run/docker.sock"}, "unix:///var/run/docker.sock"},
		{"linux docker desktop", "linux", nil, "/home/ada", []string{"/home/ada/.docker/desktop/docker.sock"},
			"unix:///home/ada/.docker/desktop/docker.sock"},
		{"linux without an engine", "linux", nil, "/home/ada", nil, "unix:///var/run/docker.sock"},
		{"macos docker desktop", "darwin", nil, "/Users/ada", []string{"/Users/ada/.docker/run/docker.sock"},
			"unix:///Users/ada/.docker/run/docker.sock"},
		{"macos docker desktop linked to the system socket", "darwin", nil, "/Users/ada",
			[]string{"/var/run/docker.sock", "/Users/ada/.docker/run/docker.sock"}, "unix:///var/run/docker.sock"},
		{"macos ignores linux's places", "darwin", map[string]string{"XDG_RUNTIME_DIR": "/tmp/run"}, "/Users/ada",
			[]string{"/tmp/run/docker.sock", "/Users/ada/.docker/desktop/docker.sock"}, "unix:///var/run/docker.sock"},
		{"macos without a home", "darwin", nil, "", nil, "unix:///var/run/docker.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hostFor(tt.goos, func(k string) string { return tt.env[k] }, tt.home, func(p string) bool {
				for _, e := range tt.exists {
					if e == p {
						return true
					}
				}
				return false
			})
			if got != tt.want {
				t.Errorf("host = %q, want %q", got, tt.want)
			}
		})
	}
}
