package spawner

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// JupyterToken is the token of a ModeServer server started with the
// per-start secret apiToken: derived from it, so the container holds no
// credential the hub accepts (a student reads their container's
// environment), while the start that made the container can still tell it
// holds this start's token.
func JupyterToken(apiToken string) string {
	mac := hmac.New(sha256.New, []byte(apiToken))
	mac.Write([]byte("classhub: the Jupyter token of a plain server"))
	return hex.EncodeToString(mac.Sum(nil))
}

// ServerActivity returns the last activity a running ModeServer server
// reports itself (GET {prefix}api/status: last_activity, which counts
// kernels that run and terminals), so a kernel computing for an hour
// with nobody at the browser is not idle. It is the zero time for a
// jupyterhub-singleuser server, which reports its activity to the hub.
func (d *Docker) ServerActivity(ctx context.Context, user string) (time.Time, error) {
	s, err := d.status(ctx, user)
	if err != nil {
		return time.Time{}, fmt.Errorf("activity of %s's server: %w", user, err)
	}
	if s.Mode != ModeServer {
		return time.Time{}, nil
	}
	if s.State != StateRunning || s.Target == "" {
		return time.Time{}, fmt.Errorf("activity of %s's server: %w", user, ErrNotRunning)
	}
	t, err := d.jupyterStatus(ctx, s.Target+s.Prefix+"api/status", s.JupyterToken)
	if err != nil {
		return time.Time{}, fmt.Errorf("activity of %s's server: %w", user, err)
	}
	return t, nil
}

// jupyterStatus reads last_activity from a Jupyter server's api/status.
func (d *Docker) jupyterStatus(ctx context.Context, url, token string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := d.httpc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("its api/status answered HTTP %d", resp.StatusCode)
	}
	var st struct {
		LastActivity time.Time `json:"last_activity"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return time.Time{}, fmt.Errorf("its api/status is not Jupyter's: %w", err)
	}
	return st.LastActivity, nil
}
