package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"path/filepath"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/logfile"
	"github.com/classhub/classhub/hub/spawner"
)

// LogFile is the hub's log inside the data dir. Before it passes
// logMaxBytes it becomes classhub.log.1, and so on: logKeep older
// generations are kept, so the log takes at most 20 MiB.
const LogFile = "classhub.log"

const (
	logMaxBytes = 5 << 20
	logKeep     = 3
)

// openLog starts the hub's log: log/slog records, as text, to the data
// dir's LogFile and to out (stderr, or where Options.Log writes). The
// *log.Logger that the hub's parts log through is a bridge to it, so
// their lines become records too.
func openLog(dataDir string, out io.Writer) (*logfile.File, *slog.Logger, *log.Logger, error) {
	file, err := logfile.Open(filepath.Join(dataDir, LogFile), logMaxBytes, logKeep)
	if err != nil {
		return nil, nil, nil, err
	}
	// out first: a full disk must not keep the log from the terminal.
	lg := slog.New(slog.NewTextHandler(io.MultiWriter(out, file), nil))
	return file, lg, slog.NewLogLogger(lg.Handler(), slog.LevelInfo), nil
}

// logEvents writes to the hub's log what happens to servers and to the
// hub: starts asked for, servers ready, stopped, failed, culled,
// recreated. A start's steps are left out; they are many and the
// progress page shows them. It returns when sub closes.
func logEvents(lg *slog.Logger, sub *events.Subscription) {
	for e := range sub.C {
		level := slog.LevelInfo
		if e.Failed {
			level = slog.LevelWarn
		}
		var attrs []slog.Attr
		if e.User != "" {
			attrs = append(attrs, slog.String("user", e.User))
		}
		if e.State != "" {
			attrs = append(attrs, slog.String("state", e.State))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", string(e.Reason)))
		}
		lg.LogAttrs(context.Background(), level, e.Message, attrs...)
	}
}

// loggedKinds are the events logEvents writes.
func loggedKinds(e events.Event) bool {
	return e.Kind == events.ServerState || e.Kind == events.Notice || e.Kind == events.HubStatus
}

// ReadLog returns the last tail lines of the hub's log in dataDir (all
// of it, every generation, when tail <= 0), whether a hub runs or not:
// what `classhub logs` prints and the dashboard shows.
func ReadLog(dataDir string, tail int) (string, error) {
	s, err := logfile.Read(filepath.Join(dataDir, LogFile), logKeep, tail)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("there is no hub log in %s yet: the hub writes one while it runs", dataDir)
	}
	return s, err
}

// ServerLogs returns the last tail lines (all when tail <= 0) of user's
// notebook server's log, with no hub open, as `classhub logs NAME` prints
// it; an open hub's Logs is the same.
func ServerLogs(ctx context.Context, cfg config.Config, user string, tail int) (string, error) {
	user = core.NormalizeName(user)
	if err := core.ValidateName(user); err != nil {
		return "", err
	}
	docker, err := engine.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer docker.Close()
	return spawner.New(docker, spawner.Options{Config: cfg}).Logs(ctx, user, tail)
}
