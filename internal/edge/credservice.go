package edge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/mras"
	"github.com/avedge/avedge/internal/pki"
)

// certWarnBefore is how long before its expiry the service certificate
// draws a warning.
const certWarnBefore = 30 * 24 * time.Hour

// credentialService is the running credential service.
type credentialService struct {
	handler *credsvc.Handler
	server  *credsvc.Server
}

// newCredentialService builds the credential service of cfg, signing with
// keyring (the relay's) and binding its listener; now dates the warning of
// an expiring certificate.
func newCredentialService(cfg *config.Config, keyring *auth.Keyring, log *slog.Logger, now time.Time) (*credentialService, error) {
	cs := cfg.CredentialService
	st, err := loadServiceTLS(cs, log, now)
	if err != nil {
		return nil, err
	}
	h, err := credsvc.NewHandler(credsvc.Options{
		Keyring: keyring,
		Realm:   cfg.Realm,
		MaxTTL:  cs.MaxTTL,
		Relays:  serviceRelays(cs.Relays),
		Trusted: cs.TrustedClients,
		Rate:    credsvc.Rate{PerSecond: cs.Rate.PerSecond, Burst: cs.Rate.Burst},
		Logger:  log,
	})
	if err != nil {
		return nil, fmt.Errorf("credential service: %w", err)
	}
	sopts := credsvc.ServerOptions{
		Addr: cs.Listen, Certificate: st.cert, ClientCAs: st.clientCAs, Handler: h, Logger: log,
	}
	if cfg.MSTurn.Enabled {
		sopts.MRAS = mras.New(h)
	}
	srv, err := credsvc.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("credential service: %w", err)
	}
	return &credentialService{handler: h, server: srv}, nil
}

// serviceTLS is the credential service's loaded certificate and client
// CAs.
type serviceTLS struct {
	cert      tls.Certificate
	clientCAs *x509.CertPool
}

// apply puts loaded TLS material and trusted clients into effect. It
// checks the trusted list first, so that a failure changes nothing.
func (c *credentialService) apply(st serviceTLS, trusted []string) error {
	if len(trusted) == 0 {
		return fmt.Errorf("credential service: %w: no trusted clients", credsvc.ErrBadOptions)
	}
	if err := c.server.SetCertificates(st.cert, st.clientCAs); err != nil {
		return fmt.Errorf("credential service: %w", err)
	}
	if err := c.handler.SetTrusted(trusted); err != nil {
		return fmt.Errorf("credential service: %w", err)
	}
	return nil
}

// loadServiceTLS loads the service's certificate and client CAs, warning
// when the certificate has expired or soon will.
func loadServiceTLS(cs *config.CredentialService, log *slog.Logger, now time.Time) (serviceTLS, error) {
	cert, err := pki.LoadKeyPair(cs.CertFile, cs.KeyFile)
	if err != nil {
		return serviceTLS{}, fmt.Errorf("credential service: %w", err)
	}
	cas, err := pki.LoadPool(cs.ClientCAFile)
	if err != nil {
		return serviceTLS{}, fmt.Errorf("credential service: %w", err)
	}
	switch notAfter := cert.Leaf.NotAfter; {
	case now.After(notAfter):
		log.Warn("credential service: the server certificate has expired; clients will refuse it",
			"cert_file", cs.CertFile, "not_after", notAfter.UTC().Format(time.RFC3339))
	case notAfter.Sub(now) < certWarnBefore:
		log.Warn("credential service: the server certificate expires soon",
			"cert_file", cs.CertFile, "not_after", notAfter.UTC().Format(time.RFC3339))
	}
	return serviceTLS{cert: cert, clientCAs: cas}, nil
}

// serviceRelays converts the configured relay addresses.
func serviceRelays(r config.ServiceRelays) []credsvc.Relay {
	var out []credsvc.Relay
	for _, loc := range []struct {
		loc    credsvc.Location
		relays []config.ServiceRelay
	}{{credsvc.Internet, r.Internet}, {credsvc.Intranet, r.Intranet}} {
		for _, sr := range loc.relays {
			out = append(out, credsvc.Relay{Host: sr.Host, UDPPort: sr.UDPPort, TCPPort: sr.TCPPort, TLSPort: sr.TLSPort, Location: loc.loc})
		}
	}
	return out
}
