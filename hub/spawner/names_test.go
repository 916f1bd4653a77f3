package spawner

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

func TestEscape(t *testing.T) {
	tests := []struct{ user, want string }{
		{"alice", "alice"},
		{"bob42", "bob42"},
		{"Alice", "-41lice"},
		{"a-b", "a-2db"},
		{"a.b", "a-2eb"},
		{"a_b", "a-5fb"},
		{"jo@uni.edu", "jo-40uni-2eedu"},
		{"é", "-c3-a9"},
		{"-", "-2d"},
		{"2d", "2d"}, // not confused with the escape of '-'
		{"a b", "a-20b"},
	}
	for _, tt := range tests {
		if got := Escape(tt.user); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.user, got, tt.want)
		}
		if got, ok := unescape(tt.want); !ok || got != tt.user {
			t.Errorf("unescape(%q) = %q, %v", tt.want, got, ok)
		}
	}
	if ContainerName("Alice") != "classhub--41lice" || VolumeName("alice") != "classhub-alice-work" {
		t.Errorf("names: %s, %s", ContainerName("Alice"), VolumeName("alice"))
	}
}

func TestEscapeLong(t *testing.T) {
	long := strings.Repeat("a", 49)
	if got := Escape(long); got != long {
		t.Errorf("a 49-character name was shortened: %q", got)
	}
	longer := strings.Repeat("a", 50)
	got := Escape(longer)
	if len(got) > maxEscaped || !strings.Contains(got, "--") || !strings.HasPrefix(got, strings.Repeat("a", 31)) {
		t.Errorf("Escape(50 a) = %q", got)
	}
	if Escape(longer+"b") == got {
		t.Error("two long names share a shortened name")
	}
	// The cut never splits an escape: "-xx" is kept whole or dropped.
	for pad := 0; pad < 4; pad++ {
		u := strings.Repeat("a", pad) + strings.Repeat("A", 30)
		g := Escape(u)
		head, _, _ := strings.Cut(g, "--")
		if _, ok := unescape(head); !ok {
			t.Errorf("Escape(%q) = %q cuts an escape", u, g)
		}
	}
	checkName(t, strings.Repeat("Ä", 100))
}

func TestURLPathEscape(t *testing.T) {
	tests := []struct{ user, path, client string }{
		{"alice", "alice", "jupyterhub-user-alice"},
		{"jo@uni.edu", "jo@uni.edu", "jupyterhub-user-jo%40uni.edu"},
		{"a b/c", "a%20b%2Fc", "jupyterhub-user-a%20b/c"},
		{"é~_-.", "%C3%A9~_-.", "jupyterhub-user-%C3%A9~_-."},
		{"a+b?", "a%2Bb%3F", "jupyterhub-user-a%2Bb%3F"},
	}
	for _, tt := range tests {
		if got := URLPathEscape(tt.user); got != tt.path {
			t.Errorf("URLPathEscape(%q) = %q, want %q", tt.user, got, tt.path)
		}
		if got := ClientID(tt.user); got != tt.client {
			t.Errorf("ClientID(%q) = %q, want %q", tt.user, got, tt.client)
		}
	}
	if got := ServerPrefix("a b"); got != "/user/a%20b/" {
		t.Errorf("ServerPrefix = %q", got)
	}
}

// checkName asserts the properties every user's names must have.
func checkName(t *testing.T, user string) {
	t.Helper()
	esc := Escape(user)
	for _, n := range []string{ContainerName(user), VolumeName(user)} {
		if len(n) > maxDNSLabel || !dnsLabel.MatchString(n) {
			t.Fatalf("name %q for %q is not a DNS label of at most 63 characters", n, user)
		}
	}
	if strings.Contains(esc, "--") {
		if len(user) < 17 { // 17 bytes escape to at least 17 characters, at most 51
			t.Fatalf("short user %q got a shortened name %q", user, esc)
		}
		return
	}
	back, ok := unescape(esc)
	if !ok || back != user {
		t.Fatalf("Escape(%q) = %q does not decode back (%q)", user, esc, back)
	}
}

// FuzzEscape: every name is a DNS label within limits, and every name that
// is not shortened decodes back to its user, which proves injectivity.
// The seeds run in every `go test`.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "alice", "Alice", "a-b", "-2d", "a--b", "jo@uni.edu", "é", "\x00", "\xff\xfe",
		strings.Repeat("x", 49), strings.Repeat("x", 50), strings.Repeat("-", 17), strings.Repeat("Z", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, user string) {
		if user == "" {
			return // Start refuses empty usernames
		}
		checkName(t, user)
	})
}

// FuzzNamesDistinct: two different users never get the same name.
func FuzzNamesDistinct(f *testing.F) {
	pairs := [][2]string{
		{"a-b", "a_b"}, {"Alice", "-41lice"}, {"2d", "-"}, {"ab", "a-62"},
		{strings.Repeat("a", 49), strings.Repeat("a", 50)},
		{strings.Repeat("a", 60), strings.Repeat("a", 61)},
		{strings.Repeat("a", 31) + "--0000000000000000", strings.Repeat("a", 60)},
	}
	for _, p := range pairs {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == b || a == "" || b == "" {
			return
		}
		if ContainerName(a) == ContainerName(b) || VolumeName(a) == VolumeName(b) {
			t.Fatalf("%q and %q share the name %q", a, b, ContainerName(a))
		}
		if ContainerName(a) == VolumeName(b) {
			t.Fatalf("the container of %q is named like the volume of %q", a, b)
		}
	})
}

// unescape reverses Escape for names that were not shortened: the test's
// proof that Escape loses nothing.
func unescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' && i+2 < len(s) && isLowerHex(s[i+1]) && isLowerHex(s[i+2]):
			v, _ := hex.DecodeString(s[i+1 : i+3])
			b.WriteByte(v[0])
			i += 2
		default:
			return "", false
		}
	}
	return b.String(), true
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// TestAccountVolumeNamesNeverCollide: the name splits back into the
// escaped user and the key at its first "-work-", so different users or
// keys never share a volume name.
func TestAccountVolumeNamesNeverCollide(t *testing.T) {
	users := []string{"x", "x-work-1", "x-work", "X", "a.b", "work", strings.Repeat("long-", 20)}
	keys := []string{"1-abc", "12-abc", "1-work", "2-work-1"}
	seen := map[string]string{}
	for _, u := range users {
		for _, k := range keys {
			name := AccountVolumeName(u, k)
			rest := strings.TrimPrefix(name, namePrefix)
			i := strings.Index(rest, volumeSuffix+"-")
			if i < 0 || rest[:i] != Escape(u) || rest[i+len(volumeSuffix)+1:] != k {
				t.Errorf("AccountVolumeName(%q, %q) = %q does not split back", u, k, name)
			}
			if prev, ok := seen[name]; ok {
				t.Errorf("%q and %s/%s share the volume name %s", prev, u, k, name)
			}
			seen[name] = u + "/" + k
		}
	}
}

// TestNoServerIsNamedLikeTheHub: no user's server, a service on the swarm
// backend, takes the hub's service's name, "hub" and its spellings
// included.
func TestNoServerIsNamedLikeTheHub(t *testing.T) {
	for _, u := range []string{"hub", "Hub", "hub-", "hu b", "", "classhub"} {
		if ContainerName(u) == HubServiceName {
			t.Errorf("user %q's server would be named %s, the hub's own service", u, HubServiceName)
		}
	}
}
