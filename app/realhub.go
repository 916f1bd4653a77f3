package app

import (
	"context"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/spawner"
)

// The real hub is what the app drives.
var (
	_ Hub        = (*hub.Hub)(nil)
	_ Containers = (*spawner.Docker)(nil)
)

// openReal opens the real hub in dataDir.
func openReal(dataDir, version string) OpenFunc {
	return func(ctx context.Context, cfg config.Config) (Conn, error) {
		h, err := hub.Open(ctx, hub.Options{DataDir: dataDir, Config: cfg, Version: version})
		if err != nil {
			return Conn{}, err
		}
		return Conn{Hub: h, Containers: h.Spawner, Network: h.Network}, nil
	}
}
