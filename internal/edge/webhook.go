package edge

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
)

// newWebhook returns the client of the auth webhook cfg, at the
// configuration key key ("auth.webhook", "tenants[1].webhook"), configures,
// or nil when there is none: the CA file's roots (else the system's), the
// client certificate of mTLS and the bearer token. Errors name the key.
func newWebhook(key string, cfg *config.Webhook, log *slog.Logger, clk clock.Clock) (*authhook.Client, error) {
	if cfg == nil {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := pki.LoadPool(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", key, err)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		pair, err := pki.LoadKeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.cert_file: %w", key, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	c, err := authhook.New(authhook.Options{
		URL: cfg.URL, TLS: tc, Token: cfg.Token, Timeout: cfg.Timeout, Cache: cfg.Cache,
		NegativeCache: cfg.NegativeCache, MaxCacheEntries: cfg.MaxCacheEntries,
		Clock: clk, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return c, nil
}
