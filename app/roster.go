package app

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// SplitNames reads the names typed into the Add users box: separated by
// new lines, commas, semicolons or spaces.
func SplitNames(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ';' || unicode.IsSpace(r)
	})
}

// rosterHeaders are first-column titles that mark a header row.
var rosterHeaders = map[string]bool{"username": true, "user": true, "user name": true, "login": true, "name": true, "student": true}

// RosterNames reads usernames from a roster file: one per line, or CSV
// (comma, semicolon or tab) with the username first, as spreadsheets
// export it; an optional header row and other columns are ignored. The
// hub validates the names when they are added. Unlike roster.Parse (the
// admin page and `classhub users import`), it ignores any password column:
// the dashboard adds students who choose their password at first login.
func RosterNames(r io.Reader) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // Excel's UTF-8 mark
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first, _, _ := strings.Cut(line, ",")
		first, _, _ = strings.Cut(first, ";")
		first, _, _ = strings.Cut(first, "\t")
		first = strings.Trim(strings.TrimSpace(first), `"`)
		if first == "" {
			return nil, fmt.Errorf("roster line %d has no username in its first column", n)
		}
		if len(names) == 0 && rosterHeaders[strings.ToLower(first)] {
			continue
		}
		names = append(names, first)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the roster: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("the roster has no usernames: put one per line, or a CSV with the username first")
	}
	return names, nil
}
