package edge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/avedge/avedge/internal/admin"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/metrics"
	"github.com/avedge/avedge/internal/sessions"
)

// adminEndpoints are the running admin endpoints of an edge; the zero
// value (no admin section) does nothing.
type adminEndpoints struct {
	srv  *admin.Server
	stop func()
	// drainRequested is set by the first POST /drain.
	drainRequested atomic.Bool
}

// DrainRequested reports whether a drain was requested on the admin
// endpoint (POST /drain, as "avedge drain" sends it), as opposed to by
// Drain alone (a signal): such a drain ends in a restart, not a stop (see
// cmd/avedge).
func (e *Edge) DrainRequested() bool { return e.admin.drainRequested.Load() }

// SetReady sets what /readyz answers.
func (a *adminEndpoints) SetReady(ready bool) {
	if a.srv != nil {
		a.srv.SetReady(ready)
	}
}

// Stop shuts the endpoints down and waits for them; later calls do
// nothing.
func (a *adminEndpoints) Stop() {
	if a.stop != nil {
		a.stop()
	}
}

// startAdmin starts the admin endpoints that cfg asks for, if any:
// /metrics with the counters of m, /healthz, /readyz, not ready until
// SetReady(true), and, for holders of cfg's token, session control and
// POST /drain, which turns /readyz not ready, records that a drain was
// requested and calls drain. They serve until Stop, so that a load
// balancer sees 503 (not a refused connection) while the edge drains.
func startAdmin(cfg *config.Admin, m metrics.Options, drain func(), control sessions.Controller, log *slog.Logger) (*adminEndpoints, error) {
	ends := &adminEndpoints{}
	if cfg == nil {
		return ends, nil
	}
	col, err := metrics.NewCollector(m)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	reg, err := metrics.NewRegistry(col)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	requested := func() {
		ends.drainRequested.Store(true)
		drain()
	}
	a, err := admin.Listen(admin.Options{Addr: cfg.Listen, Gatherer: reg, Drain: requested, Sessions: control, Token: cfg.Token, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	log.Info("admin endpoints listening", "address", "http://"+a.Addr().String(),
		"paths", []string{"/metrics", "/healthz", "/readyz", "POST /drain", "/sessions", "/revocations"},
		"token_file", cfg.TokenFile)
	ends.srv = a
	ends.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			log.Warn("admin endpoints", "err", err)
		}
	})
	return ends, nil
}
