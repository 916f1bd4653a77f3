package core

import "testing"

// An image typed on the admin page reaches the settings file and the
// Docker engine only as a Docker reference: one carrying a second line, a
// quote, a comment, a NUL, a lookalike of ':' or '/', or a unicode line
// separator is refused before anything is saved or asked.
func TestValidateImageRefusesSmuggling(t *testing.T) {
	for _, ref := range []string{
		"course:2\nimage_mode = \"server\"", "course:2\"", "course:2 # x", "course:2\x00", "course\uff1a2",
		"course\u22152", "course:2\u2028", "course:2\r", "cou\u0072se:2\u0301", "ｃourse:2", "course:2\t",
		"-course:2", "course:-2", "../course:2", "course/../x:2",
	} {
		if err := ValidateImage(ref); err == nil {
			t.Errorf("ValidateImage(%q) accepted it", ref)
		}
	}
}
