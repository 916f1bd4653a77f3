package core

import "testing"

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{2048, "2 KiB"},
		// Whole KiB and MiB, cut rather than rounded: a figure never reads
		// as more than it is, and the next unit starts at its own size.
		{1536, "1 KiB"},
		{300 << 20, "300 MiB"},
		{1<<30 - 1, "1023 MiB"},
		{1 << 30, "1.0 GiB"},
		{3 << 29, "1.5 GiB"},
		{16 << 30, "16.0 GiB"},
	} {
		if got := Bytes(c.n); got != c.want {
			t.Errorf("Bytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
