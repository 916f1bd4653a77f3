package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNoFreePort reports that every port of a range is kept by a user.
var ErrNoFreePort = errors.New("no free port")

// UserPort returns the port of user's origin. The first time, it gives
// them a port of first..last that no user holds and that take accepts
// (take binds it, so a port another program uses is passed over): the
// lowest never used before, or when the range has none left, the one
// retired longest ago. take is not called for a port the user already
// has. The port stays the user's, whatever the range later becomes, until
// the user is deleted; so two users never share one.
//
// A deleted user's port is retired rather than free because an origin
// outlives its owner in every browser that visited it: a service worker
// (which the proxy keeps under /user/NAME/, but which still runs there),
// localStorage, IndexedDB, caches, and permissions granted to the origin.
// The next user on that port inherits all of it, readable by their pages
// and theirs by what the old owner's left. Nothing the hub sends can clear
// every visitor's browser, so the port goes to a new user as late as the
// range allows.
func (s *Store) UserPort(ctx context.Context, user string, first, last int, take func(port int) error) (int, error) {
	var port int
	err := s.write(ctx, func(tx *sql.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, "SELECT port FROM user_ports WHERE user_id = ?", uid).Scan(&port)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		candidates, err := freePorts(ctx, tx, first, last)
		if err != nil {
			return err
		}
		var refused error
		for _, port = range candidates {
			if refused = take(port); refused == nil {
				_, err = tx.ExecContext(ctx, "INSERT INTO user_ports (user_id, port) VALUES (?, ?)", uid, port)
				return err
			}
		}
		if refused != nil {
			return fmt.Errorf("%w in user_ports %d-%d: the ports no user holds are in use by other programs (the last: %v); widen user_ports or free some", ErrNoFreePort, first, last, refused)
		}
		return fmt.Errorf("%w in user_ports %d-%d: each is kept by a user; widen user_ports or delete users who left", ErrNoFreePort, first, last)
	})
	if err != nil {
		return 0, fmt.Errorf("port for %q: %w", user, err)
	}
	return port, nil
}

// freePorts returns the ports of first..last that no user holds, in the
// order UserPort offers them: never used, lowest first; then retired,
// oldest first.
func freePorts(ctx context.Context, tx *sql.Tx, first, last int) ([]int, error) {
	held, err := heldPorts(ctx, tx, first, last)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT port FROM retired_ports WHERE port BETWEEN ? AND ? ORDER BY seq", first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var retired []int
	for rows.Next() {
		var p int
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		retired = append(retired, p)
		held[p] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var free []int
	for p := first; p <= last; p++ {
		if !held[p] {
			free = append(free, p)
		}
	}
	return append(free, retired...), nil
}

// heldPorts returns the ports of first..last that users hold.
func heldPorts(ctx context.Context, tx *sql.Tx, first, last int) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT port FROM user_ports WHERE port BETWEEN ? AND ?", first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := make(map[int]bool)
	for rows.Next() {
		var p int
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		held[p] = true
	}
	return held, rows.Err()
}

// UserPorts returns every user's port: user → port.
func (s *Store) UserPorts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT u.name, p.port FROM user_ports p JOIN users u ON u.id = p.user_id")
	if err != nil {
		return nil, fmt.Errorf("list user ports: %w", classify(err))
	}
	defer rows.Close()
	ports := make(map[string]int)
	for rows.Next() {
		var name string
		var port int
		if err := rows.Scan(&name, &port); err != nil {
			return nil, fmt.Errorf("list user ports: %w", err)
		}
		ports[name] = port
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list user ports: %w", classify(err))
	}
	return ports, nil
}
