package bench

import "testing"

func TestRotate(t *testing.T) {
	paths := []proxyPath{{name: "a"}, {name: "b"}, {name: "c"}}
	for k, want := range []string{"abc", "bca", "cab", "abc"} {
		got := ""
		for _, p := range rotate(paths, k) {
			got += p.name
		}
		if got != want {
			t.Errorf("rotate(abc, %d) = %s, want %s", k, got, want)
		}
	}
	if paths[0].name != "a" {
		t.Error("rotate changed its argument")
	}
}
