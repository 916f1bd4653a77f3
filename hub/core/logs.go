package core

import "context"

// Logs returns the last tail lines name's server printed, as the engine
// keeps them. The server is the student's to control, so what it printed
// is text to show as such, never markup.
func (h *Lifecycle) Logs(ctx context.Context, name string, tail int) (string, error) {
	if _, err := h.user(ctx, name); err != nil {
		return "", err
	}
	return h.spawner.Logs(ctx, name, tail)
}
