package image

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// releases are the Debian codenames a machine's sources may name; an image
// of another release is built from the same mirror.
var releases = []string{"bullseye", "bookworm", "trixie", "forky"}

// releaseOf returns the codename a suite belongs to ("bookworm" for
// "bookworm-security"), or "" when it names no Debian release.
func releaseOf(suite string) string {
	base, _, _ := strings.Cut(suite, "-")
	for _, r := range releases {
		if base == r {
			return r
		}
	}
	return ""
}

// AptSource is one Debian archive entry: a URI, one suite and its
// components, in the form mmdebstrap takes as a mirror argument.
type AptSource struct {
	URI        string
	Suite      string
	Components []string
	SignedBy   string
}

// Line renders s as a one-line sources.list entry.
func (s AptSource) Line() string {
	opts := ""
	if s.SignedBy != "" {
		opts = "[signed-by=" + s.SignedBy + "] "
	}
	return fmt.Sprintf("deb %s%s %s %s", opts, s.URI, s.Suite, strings.Join(s.Components, " "))
}

// MachineSources reads this machine's apt configuration (sources.list and
// sources.list.d, both formats) and returns its entries for release. The
// image is built from the mirror the machine is configured for, never a host
// of ours: offline rooms often have a local mirror and nothing else. A
// machine whose sources name another Debian release (a bookworm laptop
// building a trixie image) gets the same mirrors with release's suites.
func MachineSources(etcApt, release string) ([]AptSource, error) {
	var files []string
	if _, err := os.Stat(filepath.Join(etcApt, "sources.list")); err == nil {
		files = append(files, filepath.Join(etcApt, "sources.list"))
	}
	for _, pat := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(etcApt, "sources.list.d", pat))
		sort.Strings(m)
		files = append(files, m...)
	}
	var all []AptSource
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("read apt sources: %w", err)
		}
		var got []AptSource
		if strings.HasSuffix(f, ".sources") {
			got = parseDeb822(fh)
		} else {
			got = parseOneLine(fh)
		}
		fh.Close()
		all = append(all, got...)
	}
	var out []AptSource
	seen := make(map[string]bool)
	add := func(src AptSource) {
		if !seen[src.Line()] {
			seen[src.Line()] = true
			out = append(out, src)
		}
	}
	for _, src := range all {
		if releaseOf(src.Suite) == release {
			add(src)
		}
	}
	if len(out) == 0 {
		for _, src := range all {
			if from := releaseOf(src.Suite); from != "" {
				src.Suite = release + strings.TrimPrefix(src.Suite, from)
				add(src)
			}
		}
	}
	if !hasSuite(out, release) {
		return nil, fmt.Errorf("no Debian source in %s to build a %s image from: add one (or pass --mirror URL of a Debian mirror)", etcApt, release)
	}
	return out, nil
}

// MirrorSources returns entries for release from a Debian mirror given by
// URL, for machines whose own apt configuration is not Debian.
func MirrorSources(uri, release string) []AptSource {
	uri = strings.TrimRight(uri, "/")
	return []AptSource{
		{URI: uri, Suite: release, Components: []string{"main"}},
		{URI: uri, Suite: release + "-updates", Components: []string{"main"}},
	}
}

func hasSuite(srcs []AptSource, suite string) bool {
	for _, s := range srcs {
		if s.Suite == suite {
			return true
		}
	}
	return false
}

// parseOneLine reads the classic "deb [opts] uri suite comp..." format.
func parseOneLine(r io.Reader) []AptSource {
	var out []AptSource
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if !strings.HasPrefix(line, "deb ") && !strings.HasPrefix(line, "deb\t") {
			continue
		}
		line = strings.TrimSpace(line[3:])
		var signedBy string
		if strings.HasPrefix(line, "[") {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			for _, opt := range strings.Fields(line[1:end]) {
				if v, ok := strings.CutPrefix(opt, "signed-by="); ok {
					signedBy = v
				}
			}
			line = strings.TrimSpace(line[end+1:])
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		out = append(out, AptSource{URI: f[0], Suite: f[1], Components: f[2:], SignedBy: signedBy})
	}
	return out
}

// parseDeb822 reads the "Types: deb / URIs: / Suites: / Components:"
// stanza format.
func parseDeb822(r io.Reader) []AptSource {
	var out []AptSource
	fields := map[string]string{}
	flush := func() {
		defer func() { fields = map[string]string{} }()
		if !strings.Contains(" "+fields["types"]+" ", " deb ") {
			return
		}
		if strings.EqualFold(strings.TrimSpace(fields["enabled"]), "no") {
			return
		}
		comps := strings.Fields(fields["components"])
		for _, uri := range strings.Fields(fields["uris"]) {
			for _, suite := range strings.Fields(fields["suites"]) {
				out = append(out, AptSource{URI: uri, Suite: suite, Components: comps, SignedBy: strings.TrimSpace(fields["signed-by"])})
			}
		}
	}
	sc := bufio.NewScanner(r)
	var last string
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
			flush()
			last = ""
		case strings.HasPrefix(line, "#"):
		case raw[0] == ' ' || raw[0] == '\t':
			if last != "" {
				fields[last] += " " + line
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}
