package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestPlaceholderNamesServeAndDataDir(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, Placeholder(Options{DataDir: "/tmp/ch", Version: "1.2.3"}))
	var texts []string
	for _, o := range test.LaidOutObjects(w.Content()) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"classhub 1.2.3", "classhub serve", "/tmp/ch"} {
		if !strings.Contains(all, want) {
			t.Errorf("placeholder text %q lacks %q", all, want)
		}
	}
}
