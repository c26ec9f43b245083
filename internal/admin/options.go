package admin

import (
	"log/slog"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avedge/avedge/internal/sessions"
)

// defaultMaxConns is the default Options.MaxConns: enough for a few
// scrapers and health checkers.
const defaultMaxConns = 16

// Options configure a Server.
type Options struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr netip.AddrPort
	// Gatherer supplies the metrics of /metrics; required.
	Gatherer prometheus.Gatherer
	// MaxConns bounds the open connections; further ones wait in the
	// kernel's accept queue. 0 means 16.
	MaxConns int
	// Drain, if set, is what POST /drain calls, after /readyz has turned
	// not ready: it starts the edge's drain and must return at once.
	// Without it, /drain answers 404.
	Drain func()
	// Sessions, if set, is what the session control paths (/sessions,
	// /revocations) drive. Without it, they answer 404.
	Sessions sessions.Controller
	// Token is the bearer token that POST /drain and session control
	// require, at least 16 bytes; without it they answer 403 to every
	// request.
	Token []byte
	// Logger receives the HTTP server's errors (at debug level: they are
	// caused by clients) and metric gathering errors; nil discards them.
	Logger *slog.Logger
}
