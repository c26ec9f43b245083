package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/detect"
	"github.com/avedge/avedge/internal/edge"
)

func newServeCmd() *cobra.Command {
	var configPath, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the edge (a development edge on loopback when no --config is given)",
		Long: fmt.Sprintf(`Run the STUN/TURN relay and, when configured, the credential service.

Without --config, a development edge starts on embedded defaults: UDP 3478,
TCP 3478 (plain TURN and TLS on one port) and TLS 5349 on 127.0.0.1 and ::1,
relay ports 50000-59999 on 127.0.0.1, realm avedge.local,
loopback peers allowed, a development secret kept in
$XDG_STATE_HOME/avedge/dev.secret (or ~/.local/state/avedge/dev.secret),
the credential service on https://127.0.0.1:5062 with certificates created in
the pki directory next to it, and the admin endpoints on http://127.0.0.1:9478
with the admin token created next to it too, in admin.token.

relay.address, relay.address_v6 and relay.advertised set to "auto" are
detected once, before anything binds (docs/configuration.md); a reload keeps
the addresses detected then.

SIGHUP re-reads the configuration (or the development secret) and applies,
all or nothing, the changes of these keys (and of the keys under them):
%s
(the certificate files are read again even when their names stay the same;
live allocations, their permissions and open connections are kept). The
changes of every other key are not applied: each is logged by its key, and
needs a restart.

SIGTERM (or "avedge drain", or POST /drain on the admin listener) drains the
edge: /readyz answers 503 at once, new allocations are refused (300 Try
Alternate to the first drain.alternate_servers entry of the client's address
family, else 508), live ones keep working, and the edge exits when the last
one has ended or after drain.timeout (default 30m), ending the rest. A second
SIGTERM, or SIGINT, stops the edge at once.

The exit status is 0 after a drain by SIGTERM (the service manager stops the
edge) and 75 (EX_TEMPFAIL) after a drain requested on the admin listener
without a signal: the edge is to be started again, and the shipped systemd
unit does (RestartForceExitStatus=75). Other failures exit with 1.`, reloadableKeys()),
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
			if n, ok := spareProcs(cfg.Workers); ok {
				log.Debug("GOMAXPROCS raised for the packet workers", "gomaxprocs", n)
			}
			if tuneGC() {
				log.Debug("garbage collector target set", "gogc", edgeGOGC)
			}
			// The auto relay addresses, detected once: a reload keeps them.
			cfg, detected, err := detect.Resolve(cmd.Context(), cfg, detect.Deps{Logger: log})
			if err != nil {
				return err
			}
			e, err := edge.Build(cfg, edge.Deps{Logger: log, Version: buildVersion()})
			if err != nil {
				return err
			}
			logStart(log, cfg, configPath)
			err = serveUntilDone(cmd.Context(), e, func() { reload(e, configPath, detected, log) }, hup, term, log)
			e.Close()
			if errors.Is(err, errDrainRequested) {
				log.Info("stopped: drained on request of the admin endpoint; exit status 75 asks the service manager to start the edge again")
				return err
			}
			log.Info("stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (YAML); empty runs the development edge")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "log format: text or json (default: the config's, else text)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: the config's, else info)")
	return cmd
}

// reloadableKeys lists the keys that a reload applies, for the help text.
func reloadableKeys() string {
	var b strings.Builder
	for _, k := range edge.Reloadable() {
		b.WriteString("  " + k + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// logStart logs what the edge relays and how to get a credential for it.
func logStart(log *slog.Logger, cfg *config.Config, configPath string) {
	var relayAddrs, advertised []string
	for _, a := range cfg.Relay.Addrs() {
		relayAddrs = append(relayAddrs, a.String())
	}
	for _, a := range []netip.Addr{cfg.RelayAdvertised(), cfg.RelayAdvertisedV6()} {
		if a.IsValid() {
			advertised = append(advertised, a.String())
		}
	}
	attrs := []any{"addresses", relayAddrs}
	if len(advertised) > 0 {
		// Behind a 1:1 NAT: what clients and peers are told.
		attrs = append(attrs, "advertised", advertised)
	}
	log.Info("relaying", append(attrs,
		"ports", fmt.Sprintf("%d-%d", cfg.Relay.PortMin, cfg.Relay.PortMax),
		"realm", cfg.Realm, "data_path", datapath.DefaultPath, "version", versionString())...)
	switch {
	case cfg.Development:
		dir, _ := config.DefaultStateDir()
		log.Info("development edge: ask for a credential with: go run ./cmd/avedge creds request --identity alice",
			"secret_file", filepath.Join(dir, "dev.secret"), "pki", filepath.Join(dir, config.DevPKIDir))
		if cfg.MSTurn.Enabled {
			log.Info("development edge: MS-TURN is on for testing Lync / Skype for Business clients (MS-TURN on every listener, pseudo-TLS on the TCP and TLS ones, MRAS on the credential service); a configuration file leaves it off unless ms_turn.enabled is true")
		}
		log.Info("development edge: the admin endpoints need the token in admin_token_file: go run ./cmd/avedge sessions list --admin http://"+
			cfg.Admin.Listen.String()+" --token-file "+cfg.Admin.TokenFile, "admin_token_file", cfg.Admin.TokenFile)
	case cfg.CredentialService != nil:
		log.Info("ask for a credential with: avedge creds request --service https://HOST:PORT --cert FILE --key FILE --ca FILE --identity NAME")
	default:
		log.Info("get a credential with: avedge creds issue --user NAME --config " + configPath)
	}
}

// exitDrainRequested is the exit status of an edge that drained on
// request of its admin endpoint, not of a signal: EX_TEMPFAIL of
// sysexits.h, so that the service manager starts it again.
const exitDrainRequested = 75

// errDrainRequested is returned by serveUntilDone, with the exit status
// exitDrainRequested, when the edge drained on request of its admin
// endpoint.
var errDrainRequested = errors.New("drained on request of the admin endpoint (exit status 75: start the edge again)")

// serveUntilDone runs e until ctx is done or e stops (it failed or the
// relay drained) and returns e's failure, or errDrainRequested (as an
// error with exit status 75) when e drained on request of its admin
// endpoint and no signal asked it to stop. On each signal from hup it
// calls reload; from term, a first SIGTERM drains e (see edge.Edge.Drain),
// and SIGINT or a second SIGTERM stops at once.
func serveUntilDone(ctx context.Context, e *edge.Edge, reload func(), hup, term <-chan os.Signal, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	draining := false
	for {
		select {
		case err := <-done:
			if err == nil && !draining && ctx.Err() == nil && e.DrainRequested() {
				return &exitError{code: exitDrainRequested, err: errDrainRequested}
			}
			return err
		case <-hup:
			if ctx.Err() == nil {
				reload()
			}
		case sig := <-term:
			switch {
			case ctx.Err() != nil:
			case sig == syscall.SIGTERM && !draining:
				log.Info("SIGTERM: draining; send SIGTERM again or SIGINT to stop at once")
				draining = true
				e.Drain()
			default:
				log.Info("stopping at once", "signal", sig.String())
				cancel()
			}
		}
	}
}
