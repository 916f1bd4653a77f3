// Package roster reads class rosters and creates their users: shared by the
// admin page and `classhub users import`.
package roster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/store"
)

// Entry is one student of a class roster.
type Entry struct {
	// Line is where the entry is in the file, for messages.
	Line int
	// Name is the normalized, valid username.
	Name string
	// Password is the password the file gives, "" for none.
	Password string
}

// maxRosterErrors bounds how many problems Parse lists: a wrong file
// would otherwise produce one per line.
const maxRosterErrors = 10

// Header words Parse recognizes, lowercased.
var (
	nameHeaders     = []string{"username", "user", "user name", "login", "name", "student"}
	passwordHeaders = []string{"password", "pass", "passwd"}
)

// Parse reads a class roster: CSV with a username and an optional
// password per line, as spreadsheets export it. A header row is optional;
// with one, the columns named username and password are used wherever they
// are and other columns are ignored, so a wider sheet imports as is.
// Commas, semicolons (what spreadsheets in many locales write) and tabs all
// separate fields. Usernames are normalized and validated as core does.
// On any problem it returns no entries and an error listing each problem
// with its line number, so the file can be fixed in one go.
func Parse(r io.Reader) ([]Entry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the roster: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // Excel's UTF-8 mark
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true

	var (
		problems []error
		more     int
		entries  []Entry
		seen     = map[string]int{}
		nameCol  = 0
		passCol  = 1
		first    = true
		header   = false
	)
	problem := func(line int, format string, args ...any) {
		if len(problems) == maxRosterErrors {
			more++
			return
		}
		problems = append(problems, fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...)))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The reader cannot resynchronize reliably after a quoting
			// error, so this is the last problem reported.
			problem(pe.Line, "%v; put fields that hold commas or quotes in double quotes, with inner quotes doubled", pe.Err)
			break
		} else if err != nil {
			return nil, fmt.Errorf("read the roster: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if !slices.ContainsFunc(rec, func(s string) bool { return s != "" }) {
			continue
		}
		if first {
			first = false
			if n, p, ok := headerColumns(rec); ok {
				if n < 0 {
					problem(line, "the header row names no username column; call the column of usernames \"username\"")
					break
				}
				nameCol, passCol, header = n, p, true
				continue
			}
		}
		if !header && len(rec) > 2 && slices.ContainsFunc(rec[2:], func(s string) bool { return s != "" }) {
			problem(line, "has %d fields; without a header row each line holds a username and an optional password (add a header row naming the username and password columns to import a wider sheet)", len(rec))
			continue
		}
		raw := field(rec, nameCol)
		name := core.NormalizeName(raw)
		if err := core.ValidateName(name); err != nil {
			problem(line, "%v", err)
			continue
		}
		if prev, dup := seen[name]; dup {
			problem(line, "%s is already on line %d", name, prev)
			continue
		}
		seen[name] = line
		pw := field(rec, passCol)
		switch {
		case pw == "":
		case len(pw) < auth.MinPasswordLen:
			problem(line, "%s's password is shorter than %d characters; make it longer, or leave it empty to let them choose one at their first login", name, auth.MinPasswordLen)
			continue
		case len(pw) > 72:
			problem(line, "%s's password is longer than 72 bytes; make it shorter", name)
			continue
		}
		entries = append(entries, Entry{Line: line, Name: name, Password: pw})
	}
	if more > 0 {
		problems = append(problems, fmt.Errorf("and %d more problems", more))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the roster has problems:\n%w", errors.Join(problems...))
	}
	if len(entries) == 0 {
		return nil, errors.New("the roster holds no usernames: give one username per line, optionally followed by a comma and a password")
	}
	return entries, nil
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// headerColumns reports whether rec is a header row and, if so, which
// columns hold usernames and passwords (-1 for none).
func headerColumns(rec []string) (nameCol, passCol int, ok bool) {
	nameCol, passCol = -1, -1
	for i, cell := range rec {
		c := strings.ToLower(cell)
		switch {
		case nameCol < 0 && slices.Contains(nameHeaders, c):
			nameCol, ok = i, true
		case passCol < 0 && slices.Contains(passwordHeaders, c):
			passCol, ok = i, true
		}
	}
	return nameCol, passCol, ok
}

// sniffDelimiter picks the field separator from the first line: a comma
// unless the line has none and has semicolons or tabs.
func sniffDelimiter(data []byte) rune {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		switch {
		case strings.Contains(line, ","):
			return ','
		case strings.Contains(line, ";"):
			return ';'
		case strings.Contains(line, "\t"):
			return '\t'
		}
		return ','
	}
	return ','
}

// Imported is what Import did with one entry.
type Imported struct {
	Entry
	// Created is false for a user that existed and was left alone.
	Created bool
	// Generated marks Password as made up here; it is shown once and
	// never stored in clear.
	Generated bool
	// MustSetPassword: the student chooses a password at first login,
	// with SetupCode.
	MustSetPassword bool
	// SetupCode is the one-time code of a student the file gives no
	// password, shown once.
	SetupCode string
}

// Import creates the roster's users, as students. Existing users are left
// as they are, password included, so importing a roster twice changes
// nothing. New users get the file's password; without one, they get a
// setup code with which they choose their own at first login or, with
// generate, a generated password; either is returned for the instructor
// to hand out. It returns what it did so far when it fails. It needs no
// running hub, only its state.
func Import(ctx context.Context, st *store.Store, entries []Entry, generate bool) ([]Imported, error) {
	out := make([]Imported, 0, len(entries))
	for _, e := range entries {
		im := Imported{Entry: e}
		if _, err := st.GetUser(ctx, e.Name); err == nil {
			im.Password = ""
			out = append(out, im)
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, fmt.Errorf("import %s (line %d): %w", e.Name, e.Line, err)
		}
		if im.Password == "" && generate {
			im.Password, im.Generated = auth.GeneratePassword(), true
		}
		a, err := core.CreateUser(ctx, st, e.Name, false, im.Password)
		if errors.Is(err, store.ErrExists) { // created meanwhile by someone else
			im.Password, im.Generated = "", false
			out = append(out, im)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("import %s (line %d): %w", e.Name, e.Line, err)
		}
		im.Created, im.MustSetPassword, im.SetupCode = true, a.MustSetPassword, a.SetupCode
		out = append(out, im)
	}
	return out, nil
}

// Handout is what one person needs for their first login: a generated
// password or a setup code.
type Handout struct {
	Name, Password, SetupCode string
}

// Handouts lists what Import made up for the instructor to hand out:
// generated passwords and setup codes. Passwords from the roster itself
// are left out: the instructor has them.
func Handouts(imported []Imported) []Handout {
	var out []Handout
	for _, im := range imported {
		switch {
		case im.Generated:
			out = append(out, Handout{Name: im.Name, Password: im.Password})
		case im.SetupCode != "":
			out = append(out, Handout{Name: im.Name, SetupCode: im.SetupCode})
		}
	}
	return out
}

// AccountHandouts lists what core made up for accounts it created or
// reset.
func AccountHandouts(accounts []core.Account) []Handout {
	var out []Handout
	for _, a := range accounts {
		h := Handout{Name: a.Name, SetupCode: a.SetupCode}
		if a.Generated {
			h.Password = a.Password
		}
		if h.Password != "" || h.SetupCode != "" {
			out = append(out, h)
		}
	}
	return out
}

// WriteHandoutsCSV writes handouts as CSV for the instructor to print or
// mail merge, with a username,password,setup_code,link header; link is
// the class link where each logs in ("" when unknown).
func WriteHandoutsCSV(w io.Writer, handouts []Handout, link string) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"username", "password", "setup_code", "link"})
	for _, h := range handouts {
		cw.Write([]string{h.Name, h.Password, h.SetupCode, link})
	}
	cw.Flush()
	return cw.Error()
}
