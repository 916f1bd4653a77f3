package core

import (
	"context"

	"github.com/classhub/classhub/hub/store"
)

// Class is how far the class has come in, as the class page on the
// projector counts it.
type Class struct {
	// Students are the users who are not instructors; Joined, those of
	// them who have logged in or used their server (store.Students).
	Students, Joined int
	// Running counts the servers that are ready, anyone's.
	Running int
}

// Class counts the class's students and running servers. The running
// servers are counted as Status sees them, without a read per user.
func (h *Lifecycle) Class(ctx context.Context) (Class, error) {
	var c Class
	var err error
	if c.Students, c.Joined, err = h.store.Students(ctx); err != nil {
		return c, err
	}
	users, _, err := h.store.ListUsers(ctx, store.ListOptions{})
	if err != nil {
		return c, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, u := range users {
		if st, ok := h.servers[u.Name]; ok && st.ready && st.pending == "" {
			c.Running++
		}
	}
	return c, nil
}
