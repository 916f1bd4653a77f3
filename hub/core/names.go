package core

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxNameLen bounds usernames; longer names are usually a pasted line.
const MaxNameLen = 64

// NormalizeName lowercases and trims a username, as JupyterHub's default
// authenticator does, so "Alice " and "alice" are one student.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ValidateName says, in a sentence, what is wrong with a (normalized)
// username, or returns nil. Names may hold lowercase letters, digits and
// . _ - @, and must start with a letter or digit: enough for e-mail
// addresses and student numbers, and safe in URLs, paths and logs.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the username is empty", ErrBadName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %q is longer than %d characters", ErrBadName, name, MaxNameLen)
	case !isAlnum(rune(name[0])):
		return fmt.Errorf("%w: %q must start with a letter or a digit", ErrBadName, name)
	case strings.ContainsFunc(name, unicode.IsSpace):
		// A full name typed where a username goes: say what would do.
		return fmt.Errorf("%w: %q may only hold lowercase letters, digits and . _ - @, not spaces; a username is one word, such as %q",
			ErrBadName, name, strings.Join(strings.Fields(name), "."))
	}
	for _, r := range name {
		if !isAlnum(r) && !strings.ContainsRune("._-@", r) {
			return fmt.Errorf("%w: %q may only hold lowercase letters, digits and . _ - @ (not %q)", ErrBadName, name, r)
		}
	}
	return nil
}

func isAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

// SplitNames splits the usernames typed or pasted into an "add users" box,
// the tray's, the admin page's or the command line's: a new line, a comma
// or a semicolon separates names. A space does not: "Alice Smith" is kept
// whole, for ValidateName to refuse with a sentence, rather than becoming
// two users nobody meant to add.
func SplitNames(text string) []string {
	var names []string
	for _, f := range strings.FieldsFunc(text, func(c rune) bool { return c == ',' || c == ';' || c == '\n' || c == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			names = append(names, f)
		}
	}
	return names
}
