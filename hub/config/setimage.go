package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// SetImage writes ref as the image setting of the config file at path and
// changes nothing else in it: its other settings, comments and layout stay
// as the instructor (or Save) wrote them, which Save, re-encoding the whole
// file, would not keep. A missing file gets only the image line, so every
// other setting keeps following the defaults. The file must load as it is:
// one that does not is not rewritten, and the error says why.
func SetImage(path, ref string) error {
	old, err := os.ReadFile(path)
	missing := errors.Is(err, os.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("read config: %w", err)
	}
	var was Config
	if !missing {
		if was, err = decode(path, old); err != nil {
			return err
		}
	}
	line, err := imageLine(ref)
	if err != nil {
		return err
	}
	var text []byte
	if missing {
		was = Default()
		text = []byte(header + line + "\n")
	} else {
		text = withImage(old, line)
	}
	// Whatever the edit did, the file must read back as it was with the
	// new image: if not (a layout the edit does not know), it is left as
	// it was.
	now, err := decode(path, text)
	want := was
	want.Image = ref
	if err != nil || !reflect.DeepEqual(now, want) {
		return fmt.Errorf("config %s: could not change its image setting without touching the rest; set image = %q in it by hand", path, ref)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return writeAtomic(path, text, mode)
}

// decode reads a config file's text as Load does.
func decode(path string, data []byte) (Config, error) {
	c := Default()
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return c, fmt.Errorf("config %s: unknown setting %q: check its spelling", path, keys[0].String())
	}
	return c, nil
}

// imageLine is the TOML line setting image to ref, quoted by the encoder.
func imageLine(ref string) (string, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(struct {
		Image string `toml:"image"`
	}{ref}); err != nil {
		return "", fmt.Errorf("encode image %q: %w", ref, err)
	}
	return strings.TrimSpace(buf.String()), nil
}

// withImage returns the file's text with its top-level image line
// replaced by line (a comment after the value is kept), or with line added
// at the end of the top-level settings, before the first table.
func withImage(text []byte, line string) []byte {
	lines := strings.SplitAfter(string(text), "\n")
	end := len(lines) // where the top-level settings end
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			end = i
			break
		}
		key, rest, ok := strings.Cut(t, "=")
		if !ok || strings.Trim(strings.TrimSpace(key), `"'`) != "image" {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		lines[i] = indent + line + trailingComment(rest) + "\n"
		return []byte(strings.Join(lines, ""))
	}
	// After the last top-level setting, so the line joins the settings
	// and not a table's comment; in a file with none, after its opening
	// comment.
	at := -1
	for i := range end {
		t := strings.TrimSpace(lines[i])
		switch {
		case t != "" && !strings.HasPrefix(t, "#"):
			at = i
		case at == i-1 && strings.HasPrefix(t, "#") && !hasSetting(lines[:i]):
			at = i
		}
	}
	at++
	add := line + "\n"
	if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
		add = "\n" + add
	}
	out := append(append(append([]string(nil), lines[:at]...), add), lines[at:]...)
	return []byte(strings.Join(out, ""))
}

// hasSetting reports whether lines hold anything but comments and blanks.
func hasSetting(lines []string) bool {
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// trailingComment is the comment after a one-line string value (the text
// after "=" of a line), with the spaces before it; "" when there is none
// or the value is not a plain quoted string.
func trailingComment(value string) string {
	v := strings.TrimLeft(value, " \t")
	if v == "" || (v[0] != '"' && v[0] != '\'') || strings.HasPrefix(v, `"""`) || strings.HasPrefix(v, "'''") {
		return ""
	}
	quote := v[0]
	for i := 1; i < len(v); i++ {
		switch {
		case quote == '"' && v[i] == '\\':
			i++
		case v[i] == quote:
			rest := strings.TrimRight(v[i+1:], "\r\n")
			if strings.HasPrefix(strings.TrimLeft(rest, " \t"), "#") {
				return rest
			}
			return ""
		}
	}
	return ""
}

// writeAtomic replaces path with data, so a crash never leaves half a
// file.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".classhub-*.toml")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}
