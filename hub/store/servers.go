package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Pending values of Server.Pending.
const (
	PendingSpawn = "spawn"
	PendingStop  = "stop"
)

// Server is a user's single-user server, what JupyterHub splits between
// its Spawner and Server rows. The hub uses the default server, Name "".
//
// A server is active while it is pending or has Started set, and ready while
// Ready is true and nothing is pending. Stopping clears Started (with
// PutServer) or removes the row (DeleteServer); as in JupyterHub a stopped
// server may keep its row for its LastActivity and spawner State.
type Server struct {
	User string
	Name string
	// Started is zero while the server is stopped.
	Started      time.Time
	LastActivity time.Time
	// URL is what the proxy forwards to, e.g. http://172.18.0.5:8888.
	URL string
	// Pending is PendingSpawn, PendingStop or "".
	Pending string
	Ready   bool
	// State is the spawner's JSON (container id, name, …); nil stores {}.
	State json.RawMessage
	// TokenID is the server's API token (its JUPYTERHUB_API_TOKEN), 0 for
	// none. Revoking the token sets it to 0.
	TokenID int64
}

// Active reports whether the server is started or pending.
func (sv Server) Active() bool { return sv.Pending != "" || !sv.Started.IsZero() }

const serverColumns = "u.name, v.name, v.started, v.last_activity, v.url, v.pending, v.ready, v.state, v.token_id"

const serverFrom = " FROM servers v JOIN users u ON u.id = v.user_id "

func scanServer(row interface{ Scan(...any) error }) (Server, error) {
	var sv Server
	var started, last, token sql.NullInt64
	var state string
	if err := row.Scan(&sv.User, &sv.Name, &started, &last, &sv.URL, &sv.Pending, &sv.Ready, &state, &token); err != nil {
		return Server{}, err
	}
	sv.Started, sv.LastActivity = goTime(started), goTime(last)
	sv.State = json.RawMessage(state)
	sv.TokenID = token.Int64
	return sv, nil
}

// PutServer creates or replaces the server (sv.User, sv.Name). LastActivity
// never moves backwards: a spawner writing back an older copy must not undo
// activity recorded in between.
func (s *Store) PutServer(ctx context.Context, sv Server) (Server, error) {
	switch sv.Pending {
	case "", PendingSpawn, PendingStop:
	default:
		return Server{}, fmt.Errorf("put server %q/%s: unknown pending %q; use %q, %q or \"\"", sv.User, sv.Name, sv.Pending, PendingSpawn, PendingStop)
	}
	state := "{}"
	if len(sv.State) > 0 {
		if !json.Valid(sv.State) {
			return Server{}, fmt.Errorf("put server %q/%s: spawner state is not valid JSON", sv.User, sv.Name)
		}
		state = string(sv.State)
	}
	var token sql.NullInt64
	if sv.TokenID != 0 {
		token = sql.NullInt64{Int64: sv.TokenID, Valid: true}
	}
	var out Server
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, sv.User)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO servers (user_id, name, started, last_activity, url, pending, ready, state, token_id)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (user_id, name) DO UPDATE SET started = excluded.started,
			   last_activity = CASE WHEN last_activity IS NULL OR excluded.last_activity > last_activity
			                        THEN excluded.last_activity ELSE last_activity END,
			   url = excluded.url, pending = excluded.pending, ready = excluded.ready,
			   state = excluded.state, token_id = excluded.token_id`,
			uid, sv.Name, dbTime(sv.Started), dbTime(sv.LastActivity), sv.URL, sv.Pending, sv.Ready, state, token)
		if err != nil {
			return err
		}
		out, err = scanServer(tx.QueryRowContext(ctx, "SELECT "+serverColumns+serverFrom+"WHERE v.user_id = ? AND v.name = ?", uid, sv.Name))
		return err
	})
	if err != nil {
		return Server{}, fmt.Errorf("put server %q/%s: %w", sv.User, sv.Name, err)
	}
	return out, nil
}

// GetServer returns user's server name ("" for the default one).
func (s *Store) GetServer(ctx context.Context, user, name string) (Server, error) {
	sv, err := scanServer(s.r.QueryRowContext(ctx, "SELECT "+serverColumns+serverFrom+"WHERE u.name = ? AND v.name = ?", user, name))
	if err != nil {
		return Server{}, fmt.Errorf("get server %q/%s: %w", user, name, classify(err))
	}
	return sv, nil
}

// ListServers returns user's servers, or everyone's when user is "",
// ordered by user and server name.
func (s *Store) ListServers(ctx context.Context, user string) ([]Server, error) {
	q := "SELECT " + serverColumns + serverFrom
	var args []any
	if user != "" {
		q += "WHERE u.name = ? "
		args = append(args, user)
	}
	rows, err := s.r.QueryContext(ctx, q+"ORDER BY u.name, v.name", args...)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	defer rows.Close()
	list := []Server{}
	for rows.Next() {
		sv, err := scanServer(rows)
		if err != nil {
			return nil, fmt.Errorf("list servers: %w", err)
		}
		list = append(list, sv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	return list, nil
}

// DeleteServer removes user's server name together with its API token
// (when that is a server token): the token exists only for the server, and
// JupyterHub revokes it on stop too.
func (s *Store) DeleteServer(ctx context.Context, user, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var token sql.NullInt64
		err := tx.QueryRowContext(ctx,
			"DELETE FROM servers WHERE user_id = (SELECT id FROM users WHERE name = ?) AND name = ? RETURNING token_id",
			user, name).Scan(&token)
		if err != nil {
			return err
		}
		if token.Valid {
			_, err = tx.ExecContext(ctx, "DELETE FROM api_tokens WHERE id = ? AND kind = ?", token.Int64, KindServer)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete server %q/%s: %w", user, name, err)
	}
	return nil
}
