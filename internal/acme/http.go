package acme

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// challengePrefix is the path of HTTP-01 responses (RFC 8555 §8.3).
const challengePrefix = "/.well-known/acme-challenge/"

// listenHTTP binds the HTTP-01 server, which Run serves.
func (m *Manager) listenHTTP() error {
	ln, err := net.Listen("tcp", m.opts.HTTPListen.String())
	if err != nil {
		return fmt.Errorf("acme: HTTP-01 listener: %w", err)
	}
	m.httpLn = ln
	m.httpSrv = &http.Server{
		Handler:           http.HandlerFunc(m.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	return nil
}

// HTTPAddr returns the bound address of the HTTP-01 server, nil without
// one.
func (m *Manager) HTTPAddr() net.Addr {
	if m.httpLn == nil {
		return nil
	}
	return m.httpLn.Addr()
}

// serveHTTP answers GET and HEAD of a pending HTTP-01 token with its key
// authorization; everything else is 404 (or 405 for other methods on the
// challenge path).
func (m *Manager) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, challengePrefix) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	m.mu.Lock()
	resp, ok := m.http[r.URL.Path]
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(resp))
}
