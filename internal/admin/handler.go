package admin

import (
	"io"
	"net/http"
)

// The paths the admin server answers.
const (
	pathMetrics = "/metrics"
	pathHealthz = "/healthz"
	pathReadyz  = "/readyz"
	pathDrain   = "/drain"
)

// ServeHTTP answers the admin paths: /metrics, /healthz and /readyz to GET
// and HEAD from anyone; /drain to POST (when Options.Drain is set) and the
// session control paths (when Options.Sessions is set; see sessions.go)
// to requests that pass guard, in plain text and in JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h http.Handler
	switch r.URL.Path {
	case pathDrain:
		if !s.guard(w, r, false) {
			return
		}
		if s.drain == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.drainNow(w, r)
		return
	case pathMetrics:
		h = s.metrics
	case pathHealthz:
		h = http.HandlerFunc(healthz)
	case pathReadyz:
		h = http.HandlerFunc(s.readyz)
	default:
		if rt, ok := parseSessionRoute(r.URL); ok {
			if s.guard(w, r, true) {
				s.serveSessions(w, r, rt)
			}
			return
		}
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.ServeHTTP(w, r)
}

// healthz answers 200: the process serves.
func healthz(w http.ResponseWriter, _ *http.Request) {
	plain(w, http.StatusOK, "ok\n")
}

// readyz answers 200 while the server is ready, else 503.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.ready.Load() {
		plain(w, http.StatusOK, "ready\n")
		return
	}
	plain(w, http.StatusServiceUnavailable, "not ready\n")
}

// plain writes a short text answer.
func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// drainNow turns /readyz not ready and starts the drain. It is idempotent
// (Options.Drain must be) and answers 202: the drain goes on after.
func (s *Server) drainNow(w http.ResponseWriter, r *http.Request) {
	s.SetReady(false)
	s.drain()
	s.log.Info("drain requested on the admin endpoint", "remote", r.RemoteAddr)
	plain(w, http.StatusAccepted, "draining\n")
}
