package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
)

// removeRun removes every container and volume classhub or the bench made
// for a user whose name ends with suffix (unique to one run), then the
// run's network. It touches nothing else, so it is safe on a machine
// where other people run classhub and its tests.
func removeRun(ctx context.Context, cli *client.Client, suffix, netName string) error {
	if suffix == "" {
		return errors.New("cleanup without a run suffix would match other runs' objects")
	}
	var errs []error
	f := filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("list containers: %w", err))
	}
	for _, c := range cs {
		if strings.HasSuffix(c.Labels[engine.LabelUser], suffix) {
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove container %s: %w", c.Names, err))
			}
		}
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("list volumes: %w", err))
	}
	for _, v := range vs.Volumes {
		if strings.HasSuffix(v.Labels[engine.LabelUser], suffix) {
			if err := cli.VolumeRemove(ctx, v.Name, true); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
			}
		}
	}
	if netName != "" {
		if err := cli.NetworkRemove(ctx, netName); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", netName, err))
		}
	}
	return errors.Join(errs...)
}

// leftovers counts the containers, volumes and networks of the run that
// still exist.
func leftovers(ctx context.Context, cli *client.Client, suffix, netName string) (int, error) {
	f := filters.NewArgs(filters.Arg("label", engine.ManagedFilter()))
	n := 0
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if strings.HasSuffix(c.Labels[engine.LabelUser], suffix) {
			n++
		}
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	for _, v := range vs.Volumes {
		if strings.HasSuffix(v.Labels[engine.LabelUser], suffix) {
			n++
		}
	}
	if netName != "" {
		if _, err := cli.NetworkInspect(ctx, netName, network.InspectOptions{}); err == nil {
			n++
		}
	}
	return n, nil
}
