package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/records"
	"github.com/avedge/avedge/internal/server"
)

func newServeCmd() *cobra.Command {
	var configPath, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the edge (a development edge on loopback when no --config is given)",
		Long: `Run the STUN/TURN relay and, when configured, the credential service.

Without --config, a development edge starts on embedded defaults: UDP 3478,
TCP 3478 (plain TURN and TLS on one port) and TLS 5349 on 127.0.0.1 and ::1,
relay ports 50000-59999 on 127.0.0.1, realm avedge.local,
loopback peers allowed, a development secret kept in
$XDG_STATE_HOME/avedge/dev.secret (or ~/.local/state/avedge/dev.secret), and
the credential service on https://127.0.0.1:5062 with certificates created in
the pki directory next to it.

SIGHUP re-reads the configuration (or the development secret) and applies the
shared secrets, the TLS listeners' certificates, the credential service's
certificate, key, client CAs and trusted clients, the peer policy (peers),
the allocation quotas (quotas.allocations_per_user, allocations_total and
ports_per_user) and the limits of unauthenticated requests (limits); live
allocations and their permissions are kept. Other changes are logged and need
a restart.

SIGTERM (or "avedge drain", or POST /drain on the admin listener) drains the
edge: /readyz answers 503 at once, new allocations are refused (300 Try
Alternate to the first drain.alternate_servers entry of the client's address
family, else 508), live ones keep working, and the edge exits when the last
one has ended or after drain.timeout (default 30m), ending the rest. A second
SIGTERM, or SIGINT, stops the edge at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before anything else: a SIGHUP that arrives while starting
			// must not kill the process.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			// SIGTERM and SIGINT received while starting are acted on
			// once the edge serves.
			term := make(chan os.Signal, 2)
			signal.Notify(term, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(term)

			cfg, err := loadConfig(configPath)
			if err != nil {
				return err
			}
			if logFormat == "" {
				logFormat = cfg.Log.Format
			}
			if logLevel == "" {
				logLevel = cfg.Log.Level
			}
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings() {
				log.Warn(w)
			}
			opts, err := server.FromConfig(cfg, log, nil)
			if err != nil {
				return err
			}
			recs, err := openRecords(cfg.Records, log)
			if err != nil {
				return err
			}
			if recs != nil {
				// Closed after the server stopped (deferred calls run
				// after serveUntilDone), so that the records of the
				// allocations it ended on shutdown are written.
				defer closeRecords(recs, log)
				opts.OnAllocationEnd = recs.Write
			}
			if n, ok := spareProcs(opts.Workers); ok {
				log.Debug("GOMAXPROCS raised for the packet workers", "gomaxprocs", n)
			}
			if tuneGC() {
				log.Debug("garbage collector target set", "gogc", edgeGOGC)
			}
			srv, err := server.New(opts)
			if err != nil {
				return err
			}
			var svc *credentialService
			if cfg.CredentialService != nil {
				if svc, err = newCredentialService(cfg, opts.Keyring, log, time.Now()); err != nil {
					srv.Close()
					return err
				}
			}
			for _, a := range srv.Addrs() {
				log.Info("listening", "protocol", "udp", "address", a.String())
			}
			for _, a := range srv.StreamAddrs() {
				log.Info("listening", "protocol", "tcp", "address", a.String())
			}
			relayAddrs := []string{cfg.Relay.Address.String()}
			if cfg.Relay.AddressV6.IsValid() {
				relayAddrs = append(relayAddrs, cfg.Relay.AddressV6.String())
			}
			log.Info("relaying", "addresses", relayAddrs,
				"ports", fmt.Sprintf("%d-%d", cfg.Relay.PortMin, cfg.Relay.PortMax),
				"realm", cfg.Realm, "version", versionString())
			if svc != nil {
				log.Info("credential service listening", "address", "https://"+svc.server.Addr().String(),
					"trusted_clients", cfg.CredentialService.TrustedClients)
			}
			switch {
			case cfg.Development:
				dir, _ := config.DefaultStateDir()
				log.Info("development edge: ask for a credential with: go run ./cmd/avedge creds request --identity alice",
					"secret_file", filepath.Join(dir, "dev.secret"), "pki", filepath.Join(dir, config.DevPKIDir))
			case svc != nil:
				log.Info("ask for a credential with: avedge creds request --service https://HOST:PORT --cert FILE --key FILE --ca FILE --identity NAME")
			default:
				log.Info("get a credential with: avedge creds issue --user NAME --config " + configPath)
			}
			adm, err := startAdmin(cfg, srv, srv.Drain, log, credentialMetrics(svc), recordsMetrics(recs))
			if err != nil {
				srv.Close()
				if svc != nil {
					_ = svc.server.Shutdown(context.Background())
				}
				return err
			}
			// The admin endpoints answer (503 while draining) until the
			// process is about to exit.
			defer adm.Stop()
			r := &reloader{path: configPath, running: cfg, keyring: opts.Keyring, svc: svc, certs: listenerCerts(opts),
				relay: srv, log: log}
			err = serveUntilDone(cmd.Context(), edge{srv: srv, svc: svc, admin: adm, reload: r, recs: recs}, hup, term)
			adm.Stop()
			log.Info("stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (YAML); empty runs the development edge")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "log format: text or json (default: the config's, else text)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: the config's, else info)")
	return cmd
}

// edge is what serveUntilDone runs and controls.
type edge struct {
	srv    *server.Server
	svc    *credentialService // nil without a credential service
	admin  *adminEndpoints
	reload *reloader
	recs   *records.Writer // nil without session records
}

// serveUntilDone serves the relay and the credential service (if any)
// until ctx is done, either fails or the relay has drained, which stops
// both, and returns the first failure. /readyz turns ready once both run.
// On each signal from hup it reloads (and reopens the session records
// file); from term, a first SIGTERM drains the relay (see
// server.Server.Drain; /readyz turns not ready at once), and SIGINT or a
// second SIGTERM stops at once.
func serveUntilDone(ctx context.Context, e edge, hup, term <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	running := 1
	go func() { errc <- e.srv.Run(ctx) }()
	if e.svc != nil {
		running++
		go func() { errc <- e.svc.server.Run(ctx) }()
	}
	e.admin.SetReady(true)
	log := e.reload.log
	log.Info("serving")
	var first error
	draining := false
	for running > 0 {
		select {
		case err := <-errc:
			running--
			if err != nil && first == nil {
				first = err
			}
			e.admin.SetReady(false)
			cancel()
		case <-hup:
			if ctx.Err() == nil {
				e.reload.reload(time.Now())
				reopenRecords(e.recs, log)
			}
		case sig := <-term:
			switch {
			case ctx.Err() != nil:
			case sig == syscall.SIGTERM && !draining:
				log.Info("SIGTERM: draining; send SIGTERM again or SIGINT to stop at once")
				draining = true
				e.admin.SetReady(false)
				e.srv.Drain()
			default:
				log.Info("stopping at once", "signal", sig.String())
				e.admin.SetReady(false)
				cancel()
			}
		}
	}
	return first
}

// openRecords starts the session records writer that cfg asks for, or
// returns nil when records are off.
func openRecords(cfg config.Records, log *slog.Logger) (*records.Writer, error) {
	if cfg.Output == "" {
		return nil, nil
	}
	recs, err := records.Open(cfg.Output, records.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("writing session records", "output", cfg.Output)
	return recs, nil
}

// reopenRecords reopens the session records file after log rotation; recs
// may be nil.
func reopenRecords(recs *records.Writer, log *slog.Logger) {
	if recs == nil {
		return
	}
	if err := recs.Reopen(); err != nil {
		log.Error("reopening the session records file failed; records go to the old file", "error", err)
	}
}

// closeRecords writes the queued session records and closes their file.
func closeRecords(recs *records.Writer, log *slog.Logger) {
	if err := recs.Close(); err != nil {
		log.Error("closing the session records", "error", err)
	}
}
