package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/avedge/avedge/internal/admin"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/metrics"
	"github.com/avedge/avedge/internal/records"
	"github.com/avedge/avedge/internal/server"
)

// adminEndpoints are the running admin endpoints of an edge; the zero
// value (no admin section) does nothing.
type adminEndpoints struct {
	srv  *admin.Server
	stop func()
}

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

// metricsSource adds a source of counters besides the relay to the
// options of the /metrics collector.
type metricsSource func(*metrics.Options)

// credentialMetrics exports the requests of the credential service svc
// (nil: none runs).
func credentialMetrics(svc *credentialService) metricsSource {
	return func(o *metrics.Options) {
		if svc != nil {
			o.Credentials = svc.server
		}
	}
}

// recordsMetrics exports the records dropped by recs (nil: records are
// off).
func recordsMetrics(recs *records.Writer) metricsSource {
	return func(o *metrics.Options) {
		if recs != nil {
			o.Records = recs
		}
	}
}

// startAdmin starts the admin endpoints of cfg, if configured: /metrics
// with srv's counters and those of sources, /healthz, /readyz, not ready
// until SetReady(true), and POST /drain, which turns /readyz not ready and
// calls drain. They serve until Stop, so that a load balancer sees 503
// (not a refused connection) while the edge drains.
func startAdmin(cfg *config.Config, srv *server.Server, drain func(), log *slog.Logger, sources ...metricsSource) (*adminEndpoints, error) {
	if cfg.Admin == nil {
		return &adminEndpoints{}, nil
	}
	opts := metrics.Options{Server: srv, Version: buildVersion()}
	for _, add := range sources {
		add(&opts)
	}
	col, err := metrics.NewCollector(opts)
	if err != nil {
		return nil, err
	}
	reg, err := metrics.NewRegistry(col)
	if err != nil {
		return nil, err
	}
	a, err := admin.Listen(admin.Options{Addr: cfg.Admin.Listen, Gatherer: reg, Drain: drain, Logger: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	log.Info("admin endpoints listening", "address", "http://"+a.Addr().String(),
		"paths", []string{"/metrics", "/healthz", "/readyz", "POST /drain"})
	return &adminEndpoints{srv: a, stop: sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			log.Warn("admin endpoints", "error", err)
		}
	})}, nil
}
