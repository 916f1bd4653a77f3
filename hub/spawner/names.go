package spawner

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Name limits. A DNS label holds 63 characters; the volume name is the
// longest name built from a user, so it sets the escaped part's budget.
const (
	namePrefix   = "classhub-"
	volumeSuffix = "-work"
	maxDNSLabel  = 63
	// maxEscaped is the longest escaped username kept whole.
	maxEscaped = maxDNSLabel - len(namePrefix) - len(volumeSuffix) // 49
	// hashHex is how many hex digits of SHA-256 end a shortened name:
	// 64 bits, so a collision needs about 2^32 long usernames.
	hashHex = 16
	// longSep joins a shortened name to its hash. Escape never writes
	// "--", so shortened names cannot equal whole ones.
	longSep = "--"
)

// Escape turns a username into a DNS-safe, lowercase name part that no
// other username shares. Bytes a-z and 0-9 stay; every other byte
// (uppercase, '-', '.', '@', UTF-8 …) becomes '-' and two lowercase hex
// digits, as DockerSpawner 12+ does. That is a prefix code, so it is
// reversible (see unescape) and therefore injective; and since '-' is always
// followed by a hex digit, the output never contains "--".
//
// When the result would be longer than 49 characters, it is cut at an
// escape boundary to at most 31 characters and "--" plus 16 hex digits of
// the SHA-256 of the whole username are appended. Such names contain "--",
// so they never equal an unshortened one; two shortened names are equal
// only if SHA-256 collides on 64 bits. Containers and volumes also carry
// the raw username as engine.LabelUser and classhub refuses to use one whose
// label names another user, so even that collision cannot make two users
// share a server or files.
func Escape(user string) string {
	var b strings.Builder
	for i := 0; i < len(user); i++ {
		c := user[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('-')
		b.WriteString(hex.EncodeToString([]byte{c}))
	}
	s := b.String()
	if len(s) <= maxEscaped {
		return s
	}
	cut := maxEscaped - len(longSep) - hashHex
	// Never cut inside "-xx": back up to the escape's '-'.
	for i := cut - 2; i < cut; i++ {
		if i >= 0 && s[i] == '-' {
			cut = i
			break
		}
	}
	sum := sha256.Sum256([]byte(user))
	return s[:cut] + longSep + hex.EncodeToString(sum[:])[:hashHex]
}

// ContainerName is the user's container name, classhub-<escaped>.
func ContainerName(user string) string { return namePrefix + Escape(user) }

// VolumeName is the user's work volume name, classhub-<escaped>-work.
func VolumeName(user string) string { return namePrefix + Escape(user) + volumeSuffix }

// AccountVolumeName is the work volume of the account with key: VolumeName
// followed by "-" and the key. Escape never writes "-w", so the name splits
// back into user and key at its first "-work-", and two accounts never
// share a name, not even two accounts of one username.
func AccountVolumeName(user, key string) string { return VolumeName(user) + "-" + key }

// URLPathEscape escapes a username for a URL path as JupyterHub does
// (Python's quote(name, safe='@~')): everything but letters, digits and
// "_.-~@" becomes %XX of its UTF-8 bytes.
func URLPathEscape(user string) string { return quote(user, "_.-~@") }

// ClientID is the OAuth client ID JupyterHub gives a user's default server:
// "jupyterhub-user-" and the name quoted with Python's quote(name), which
// keeps '/' but escapes '@' because the ID is also a cookie name.
func ClientID(user string) string { return "jupyterhub-user-" + quote(user, "_.-~/") }

// ServerPrefix is the user's server URL prefix, /user/<escaped>/.
func ServerPrefix(user string) string { return "/user/" + URLPathEscape(user) + "/" }

func quote(s, safe string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}
