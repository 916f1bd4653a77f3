package roster

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/store"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Entry
	}{
		{"plain", "alice\nbob,bobs-password\n", []Entry{{1, "alice", ""}, {2, "bob", "bobs-password"}}},
		{"header anywhere, extra columns", "Email,Password,Student\nx@y.org,pw-123456,Alice\nz@y.org,,Bob\n",
			[]Entry{{2, "alice", "pw-123456"}, {3, "bob", ""}}},
		{"header without passwords", "username\nalice\n", []Entry{{2, "alice", ""}}},
		{"semicolons", "Username;Password\ncarol;carols-pw1\n", []Entry{{2, "carol", "carols-pw1"}}},
		{"tabs", "dave\tdaves-pw12\n", []Entry{{1, "dave", "daves-pw12"}}},
		{"excel", "\ufeffusername,password\r\n  Erin ,  erins-pw12  \r\n\r\n,,\r\nfrank,,,\r\n",
			[]Entry{{2, "erin", "erins-pw12"}, {5, "frank", ""}}},
		{"quoted", `gina,"pass,word;""x"""` + "\n", []Entry{{1, "gina", `pass,word;"x"`}}},
		{"emails", "s1234@uni.example\n", []Entry{{1, "s1234@uni.example", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"bad names", "alice\nBob Smith\n-x\n", []string{"line 2: invalid username: \"bob smith\" may only hold", "line 3: invalid username: \"-x\" must start with a letter or a digit"}},
		{"duplicate", "alice\nbob\nALICE\n", []string{"line 3: alice is already on line 1"}},
		{"short password", "alice,abc\n", []string{"line 1: alice's password is shorter than 8 characters"}},
		{"long password", "alice," + strings.Repeat("x", 73) + "\n", []string{"line 1: alice's password is longer than 72 bytes"}},
		{"too wide", "alice,alices-pw1,extra\n", []string{"line 1: has 3 fields", "add a header row"}},
		{"header without usernames", "email,password\nx@y,pw\n", []string{"line 1: the header row names no username column"}},
		{"bad quote", "alice\nbo\"b\n", []string{"line 2:", "double quotes"}},
		{"empty", "\n\n", []string{"holds no usernames"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if got != nil {
				t.Errorf("entries returned with an error: %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A wrong file lists the first problems, not hundreds.
	_, err := Parse(strings.NewReader(strings.Repeat("Not A Name\n", 25)))
	if n := strings.Count(err.Error(), "\nline "); n != maxRosterErrors || !strings.Contains(err.Error(), "and 15 more problems") {
		t.Errorf("%d problems listed:\n%v", n, err)
	}
}

func TestImport(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "classhub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := core.New(core.Options{Store: st})
	defer h.Close()
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice", PasswordHash: cheapHash(t, "alice-password")}); err != nil {
		t.Fatal(err)
	}
	entries, err := Parse(strings.NewReader("alice,new-alice-pw\nbob\ncarol,carols-pw1\n"))
	if err != nil {
		t.Fatal(err)
	}
	done, err := Import(ctx, st, entries, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || done[0].Created || done[0].Password != "" || !done[1].Created || !done[1].Generated ||
		!done[2].Created || done[2].Generated || done[2].MustSetPassword || done[1].SetupCode != "" || done[2].SetupCode != "" {
		t.Fatalf("results %+v", done)
	}
	check := func(name, pw string) {
		t.Helper()
		u, err := st.GetUser(ctx, name)
		if err != nil || u.MustSetPassword || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
			t.Errorf("%s cannot log in with %q: %+v %v", name, pw, u, err)
		}
	}
	check("alice", "alice-password") // left alone
	bobPW := done[1].Password
	check("bob", bobPW)
	check("carol", "carols-pw1")

	// Without generate, new users get a setup code; a second import
	// changes nothing.
	entries, _ = Parse(strings.NewReader("dave\nbob\n"))
	done2, err := Import(ctx, st, entries, false)
	if err != nil {
		t.Fatal(err)
	}
	if !done2[0].Created || !done2[0].MustSetPassword || done2[0].Generated || done2[0].SetupCode == "" || done2[1].Created {
		t.Fatalf("results %+v", done2)
	}
	if u, _ := st.GetUser(ctx, "dave"); !u.MustSetPassword || u.PasswordHash != "" {
		t.Errorf("dave: %+v", u)
	}
	if _, err := h.SetUpAccount(ctx, "dave", done2[0].SetupCode, "daves-password"); err != nil {
		t.Errorf("dave's setup code: %v", err)
	}
	check("bob", bobPW)

	var buf bytes.Buffer
	if err := WriteHandoutsCSV(&buf, append(Handouts(done), Handouts(done2)...), "https://hub.test/"); err != nil {
		t.Fatal(err)
	}
	want := "username,password,setup_code,link\nbob," + bobPW + ",,https://hub.test/\ndave,," + done2[0].SetupCode + ",https://hub.test/\n"
	if buf.String() != want {
		t.Errorf("CSV %q, want %q", buf.String(), want)
	}
}

// cheapHash is a bcrypt hash at the lowest cost, so tests run fast.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}
