package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classhub/classhub/hub/events"
)

func TestHubLogsToItsFileAndOut(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	file, lg, bridge, err := openLog(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus(8)
	sub := bus.Subscribe(8, false, loggedKinds)
	done := make(chan struct{})
	go func() {
		defer close(done)
		logEvents(lg, sub)
	}()
	bridge.Printf("web: %s joined with the class code", "alice")
	bus.Publish(events.Event{Kind: events.SpawnProgress, User: "alice", Message: "Pulling the image", Progress: 40})
	bus.Publish(events.Event{Kind: events.ServerState, User: "alice", State: "running", Message: "Server ready at /user/alice/"})
	bus.Publish(events.Event{Kind: events.Notice, User: "bob", Failed: true, Reason: events.ReasonFailed, Message: "bob's container exited"})
	sub.Close()
	<-done
	file.Close()

	got, err := ReadLog(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != out.String() {
		t.Errorf("the file and the terminal differ:\nfile:\n%s\nout:\n%s", got, out.String())
	}
	for _, want := range []string{
		`level=INFO msg="web: alice joined with the class code"`,
		`level=INFO msg="Server ready at /user/alice/" user=alice state=running`,
		`level=WARN msg="bob's container exited" user=bob reason=failed`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Pulling") {
		t.Errorf("a start's steps were logged:\n%s", got)
	}
	if last, _ := ReadLog(dir, 1); !strings.Contains(last, "bob's container exited") || strings.Count(last, "\n") != 1 {
		t.Errorf("the last line is %q", last)
	}
	fi, err := os.Stat(filepath.Join(dir, LogFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 0600", LogFile, fi.Mode(), err)
	}
}

func TestReadLogWithoutALogSaysWhy(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadLog(dir, 10)
	if err == nil || !strings.Contains(err.Error(), "no hub log in "+dir) {
		t.Errorf("ReadLog of an empty data dir: %v", err)
	}
}
