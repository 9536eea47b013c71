package transport

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// healthResponse is the seed's GET /health body.
type healthResponse struct {
	Status  string `json:"status"`
	Service string `json:"service"`
	Version string `json:"version"`
}

// statusResponse is the body of /healthz and /readyz.
type statusResponse struct {
	Status string `json:"status"`
}

// health answers the seed's liveness check:
// {"status":"healthy","service":"ominix-api","version":…}.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, healthResponse{Status: "healthy", Service: "ominix-api", Version: s.deps.Version})
}

// healthz answers 200 {"status":"ok"} while the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, statusResponse{Status: "ok"})
}

// readyz answers 503 {"status":"loading"} (with Retry-After) until the
// models configured at start have loaded, then 200 {"status":"ready"}.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.deps.Ready != nil && !s.deps.Ready() {
		w.Header().Set("Retry-After", RetryAfterSeconds(5*time.Second))
		WriteJSON(w, http.StatusServiceUnavailable, statusResponse{Status: "loading"})
		return
	}
	WriteJSON(w, http.StatusOK, statusResponse{Status: "ready"})
}

// notFound serves the static pages for GET and HEAD requests outside the
// API (paths not under /v1/), when Deps.Web is set and holds the file;
// everything else gets OpenAI's 404 error. Pages are served without
// authentication so the demos can load and then ask for the key.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.deps.Web == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		strings.HasPrefix(r.URL.Path, "/v1/") || !s.hasPage(r.URL.Path) {
		NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.FileServerFS(s.deps.Web).ServeHTTP(w, r)
}

// hasPage reports whether the web file system holds the file for urlPath
// (a directory counts when it has an index.html).
func (s *Server) hasPage(urlPath string) bool {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		name = "."
	}
	st, err := fs.Stat(s.deps.Web, name)
	if err != nil {
		return false
	}
	if st.IsDir() {
		_, err = fs.Stat(s.deps.Web, path.Join(name, "index.html"))
		return err == nil
	}
	return st.Mode().IsRegular()
}
