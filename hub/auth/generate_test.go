package auth

import (
	"regexp"
	"testing"
)

func TestGenerate(t *testing.T) {
	for name, tc := range map[string]struct {
		gen      func() string
		alphabet string
	}{"password": {GeneratePassword, passwordAlphabet}, "setup code": {NewSetupCode, codeAlphabet}} {
		re := regexp.MustCompile(`^[` + tc.alphabet + `]{4}-[` + tc.alphabet + `]{4}-[` + tc.alphabet + `]{4}$`)
		seen := map[string]bool{}
		used := map[rune]bool{}
		for range 500 {
			s := tc.gen()
			if !re.MatchString(s) {
				t.Fatalf("%s %q is not three groups of four readable characters", name, s)
			}
			if seen[s] {
				t.Fatalf("%s %q generated twice", name, s)
			}
			seen[s] = true
			for _, r := range s {
				used[r] = true
			}
		}
		// 6000 draws from 31 characters: each shows up.
		if len(used) != len(tc.alphabet)+1 {
			t.Errorf("%s: %d distinct characters used, want all %d and the dash", name, len(used), len(tc.alphabet))
		}
	}
}

func TestNormalizeSetupCode(t *testing.T) {
	code := NewSetupCode()
	want := NormalizeSetupCode(code)
	if len(want) != 12 {
		t.Fatalf("NormalizeSetupCode(%q) = %q", code, want)
	}
	for _, typed := range []string{want, " " + code + " ", regexp.MustCompile(`-`).ReplaceAllString(code, " "),
		"\t" + string([]byte(code)[:4]) + "  " + code[4:]} {
		if got := NormalizeSetupCode(typed); got != want {
			t.Errorf("NormalizeSetupCode(%q) = %q, want %q", typed, got, want)
		}
	}
	if got := NormalizeSetupCode("abcd-efgh"); got != "ABCDEFGH" {
		t.Errorf("lower case = %q", got)
	}
}
