package main

import (
	"fmt"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

func newServeCmd() *cobra.Command {
	var configPath, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the edge (a development edge on loopback when no --config is given)",
		Long: `Run the STUN/TURN relay.

Without --config, a development edge starts on embedded defaults: UDP 3478 on
127.0.0.1 and ::1, relay ports 50000-59999 on 127.0.0.1, realm avedge.local,
loopback peers allowed, and a development secret kept in
$XDG_STATE_HOME/avedge/dev.secret (or ~/.local/state/avedge/dev.secret).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			srv, err := server.New(opts)
			if err != nil {
				return err
			}
			for _, a := range srv.Addrs() {
				log.Info("listening", "protocol", "udp", "address", a.String())
			}
			log.Info("relaying", "address", cfg.Relay.Address.String(),
				"ports", fmt.Sprintf("%d-%d", cfg.Relay.PortMin, cfg.Relay.PortMax),
				"realm", cfg.Realm, "version", versionString())
			if cfg.Development {
				dir, _ := config.DefaultStateDir()
				log.Info("development edge: get a credential with: go run ./cmd/avedge creds issue --user alice",
					"secret_file", filepath.Join(dir, "dev.secret"))
			} else {
				log.Info("get a credential with: avedge creds issue --user NAME --config " + configPath)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			err = srv.Run(ctx)
			log.Info("stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (YAML); empty runs the development edge")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "log format: text or json (default: the config's, else text)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (default: the config's, else info)")
	return cmd
}
