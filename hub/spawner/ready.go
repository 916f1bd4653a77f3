package spawner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docker/docker/api/types/container"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/classhub/classhub/hub/events"
)

// Readiness backoff: 0.1 s doubling, jittered so a class of servers is not
// polled in step, as JupyterHub's wait_for_http_server does, but capped at
// 0.5 s instead of 5: the benchmarks showed the hub noticing a ready server
// 1.5 s late on average with the 5 s cap and 0.5 s late with a 1 s cap,
// while a GET and an inspect twice a second for each of the few servers
// the pool starts at once cost nothing.
const (
	readyFirstDelay = 100 * time.Millisecond
	readyMaxDelay   = 500 * time.Millisecond
)

// waitReady polls url, the server's Jupyter API under its base URL, until
// it answers as Jupyter does (see jupyterAnswer), the container exits, or
// ctx ends. Any other answer is a server not ready yet: a 404 is a server
// that does not serve this user's base URL, a redirect a login page. A
// server that exits while starting fails at once with its last log lines
// instead of running out the timeout.
func (d *Docker) waitReady(ctx context.Context, rep report, user, image, id, url string, limit time.Duration) error {
	delay := readyFirstDelay
	var last error
	for attempt := 1; ; attempt++ {
		err := d.jupyterAnswer(ctx, url)
		if err == nil {
			return nil
		}
		last = err
		// Exited, not merely "not running": a service's task may still be
		// on its way.
		info, ierr := d.run.inspect(ctx, id)
		if ierr == nil && info.State != nil && (info.State.Status == container.StateExited || info.State.Status == container.StateDead) {
			why := fmt.Sprintf("exit code %d", info.State.ExitCode)
			if info.State.OOMKilled {
				why += ", out of memory: raise memory_limit"
			}
			return fmt.Errorf("the notebook server (image %s) exited while starting (%s); its last output: %s", image, why, d.lastLines(ctx, id, 5))
		}
		rep.progress(user, min(95, 60+3*attempt), events.PhaseWaiting, fmt.Sprintf("Waiting for the notebook server to answer (try %d)", attempt))
		wait := delay/2 + rand.N(delay/2+1)
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the notebook server (image %s) did not answer as Jupyter at %s within %s (http_timeout; last try: %v): "+
					"the image must start a Jupyter server on port %d at the user's base URL, as jupyterhub-singleuser does; its last output: %s",
					image, url, limit, last, ServerPort, d.lastLines(ctx, id, 5))
			}
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, readyMaxDelay)
	}
}

// jupyterAnswer GETs url, not following redirects, and says why the answer
// is not a Jupyter server's: its API answers 200 with its version, e.g.
// {"version": "2.15.0"}, and asks for no login to say so.
func (d *Docker) jupyterAnswer(ctx context.Context, url string) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := d.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var api struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(body, &api) != nil || api.Version == "" {
		return errors.New("HTTP 200 without a Jupyter version")
	}
	return nil
}
