package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/avedge/avedge/internal/admin"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/metrics"
	"github.com/avedge/avedge/internal/server"
)

// startAdmin starts the admin endpoints of cfg, if configured: /metrics
// with srv's counters, /healthz, and /readyz, which answers ready from now
// until ctx is done (the edge is stopping) or stop is called. stop shuts
// the endpoints down and waits for them; later calls, and calls without
// an admin section, do nothing.
func startAdmin(ctx context.Context, cfg *config.Config, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	if cfg.Admin == nil {
		return func() {}, nil
	}
	col, err := metrics.NewCollector(metrics.Options{Server: srv, Version: buildVersion()})
	if err != nil {
		return nil, err
	}
	reg, err := metrics.NewRegistry(col)
	if err != nil {
		return nil, err
	}
	a, err := admin.Listen(admin.Options{Addr: cfg.Admin.Listen, Gatherer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	a.SetReady(true)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	log.Info("admin endpoints listening", "address", "http://"+a.Addr().String(),
		"paths", []string{"/metrics", "/healthz", "/readyz"})
	return sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			log.Warn("admin endpoints", "error", err)
		}
	}), nil
}
