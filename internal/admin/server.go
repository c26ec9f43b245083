package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/avedge/avedge/internal/sessions"
)

// Limits of the HTTP server.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
	// scrapeTimeout bounds the gathering of one /metrics answer;
	// maxScrapes bounds concurrent gatherings (more get 503).
	scrapeTimeout = 10 * time.Second
	maxScrapes    = 4
	// shutdownGrace is how long Run lets requests in progress finish.
	shutdownGrace = 2 * time.Second
)

// Server is the admin HTTP server. It starts not ready.
type Server struct {
	ln      net.Listener
	addr    netip.AddrPort
	srv     *http.Server
	metrics http.Handler
	drain   func()
	control sessions.Controller
	// token is the hash of Options.Token (see tokenHash); hasToken is
	// false without one.
	token    [sha256.Size]byte
	hasToken bool
	log      *slog.Logger
	ready    atomic.Bool
}

// Listen checks opts and binds the listener; Run serves on it.
func Listen(opts Options) (*Server, error) {
	switch {
	case opts.Gatherer == nil:
		return nil, fmt.Errorf("%w: no gatherer", ErrBadOptions)
	case !opts.Addr.IsValid():
		return nil, fmt.Errorf("%w: no listen address", ErrBadOptions)
	case opts.MaxConns < 0:
		return nil, fmt.Errorf("%w: negative connection limit", ErrBadOptions)
	case len(opts.Token) > 0 && len(opts.Token) < minTokenLen:
		return nil, fmt.Errorf("%w: the token is shorter than %d bytes", ErrBadOptions, minTokenLen)
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = defaultMaxConns
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", opts.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	s := &Server{
		ln:       netutil.LimitListener(ln, opts.MaxConns),
		addr:     ln.Addr().(*net.TCPAddr).AddrPort(),
		drain:    opts.Drain,
		control:  opts.Sessions,
		token:    tokenHash(opts.Token),
		hasToken: len(opts.Token) > 0,
		log:      log,
		metrics: promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
			ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			ErrorHandling:       promhttp.ContinueOnError,
			MaxRequestsInFlight: maxScrapes,
			Timeout:             scrapeTimeout,
		}),
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	s.srv = &http.Server{
		Handler:           s,
		Protocols:         &protocols,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr returns the bound address.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// SetReady sets what /readyz answers: 200 when ready, 503 when not
// (starting, or draining before a stop).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Run serves until ctx is done, then marks the server not ready, stops
// accepting, lets requests in progress finish for up to 2 seconds and
// closes the connections. Run returns nil after such a shutdown.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin: %w", err)
	case <-ctx.Done():
	}
	s.SetReady(false)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}
