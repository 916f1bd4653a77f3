package hub

import "net/http"

// newPages serves the hub's pages.
func newPages(h *Hub) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hub/", http.StatusFound)
	})
	return mux
}
