package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RecordActivity moves the last_activity of user and of their server
// server forward to t; an older t changes nothing, as in JupyterHub's
// activity API. It returns ErrNotFound, changing nothing, when the user or
// the server does not exist.
func (s *Store) RecordActivity(ctx context.Context, user, server string, t time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		var exists bool
		err = tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM servers WHERE user_id = ? AND name = ?)", uid, server).Scan(&exists)
		if err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("no such server: %w", ErrNotFound)
		}
		at := t.UnixMicro()
		if _, err := tx.ExecContext(ctx,
			"UPDATE servers SET last_activity = ? WHERE user_id = ? AND name = ? AND (last_activity IS NULL OR last_activity < ?)",
			at, uid, server, at); err != nil {
			return err
		}
		return touchUser(ctx, tx, uid, at)
	})
	if err != nil {
		return fmt.Errorf("record activity of %q/%s: %w", user, server, err)
	}
	return nil
}

// RecordUserActivity moves user's last_activity forward to t, for activity
// reports that name no server.
func (s *Store) RecordUserActivity(ctx context.Context, user string, t time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		return touchUser(ctx, tx, uid, t.UnixMicro())
	})
	if err != nil {
		return fmt.Errorf("record activity of %q: %w", user, err)
	}
	return nil
}

func touchUser(ctx context.Context, tx *sql.Tx, uid, at int64) error {
	_, err := tx.ExecContext(ctx,
		"UPDATE users SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)", at, uid, at)
	return err
}
