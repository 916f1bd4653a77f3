package store

import (
	"context"
	"fmt"
)

// Students counts the users who are not admins, and of them those who
// have come in: who hold a login (one that has ended but is not yet swept
// counts too) or have used their server. A student who logged in and
// then out without ever opening their server no longer counts; the hub
// keeps no other trace of a login.
func (s *Store) Students(ctx context.Context) (students, joined int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(last_activity IS NOT NULL
		OR EXISTS (SELECT 1 FROM sessions WHERE sessions.user_id = users.id)), 0)
		FROM users WHERE admin = 0`).Scan(&students, &joined)
	if err != nil {
		return 0, 0, fmt.Errorf("count students: %w", err)
	}
	return students, joined, nil
}
