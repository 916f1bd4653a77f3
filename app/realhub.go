package app

import (
	"context"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/spawner"
)

// The real hub is what the app drives.
var (
	_ Hub        = realHub{}
	_ Containers = (*spawner.Docker)(nil)
)

// realHub is *hub.Hub with what the app needs beyond its methods.
type realHub struct{ *hub.Hub }

// ImportRoster implements Hub with roster.Import, as the admin page and
// `classhub users import` do.
func (h realHub) ImportRoster(ctx context.Context, entries []roster.Entry, generate bool) ([]roster.Imported, error) {
	return roster.Import(ctx, h.Hub.Store, entries, generate)
}

// openReal opens the real hub in dataDir.
func openReal(dataDir, version string) OpenFunc {
	return func(ctx context.Context, cfg config.Config) (Conn, error) {
		h, err := hub.Open(ctx, hub.Options{DataDir: dataDir, Config: cfg, Version: version})
		if err != nil {
			return Conn{}, err
		}
		return Conn{Hub: realHub{h}, Containers: h.Spawner, Network: h.Network}, nil
	}
}
