package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/server"
)

// reloader applies a re-read configuration to a running edge on SIGHUP:
// the shared secrets (new credentials are signed with the new first one,
// the relay accepts exactly the new list), the certificates of the TLS
// listeners and the credential service's
// certificate, key, client CAs and trusted clients. Everything else needs a
// restart, which it says.
type reloader struct {
	// path is the configuration file; "" is the development edge.
	path string
	// running is the configuration the edge started with.
	running *config.Config
	keyring *auth.Keyring
	svc     *credentialService
	// certs are the certificates of the TLS listeners, by address.
	certs map[netip.AddrPort]*server.CertStore
	log   *slog.Logger
}

// listenerCerts returns the certificate stores of the TLS listeners of
// opts, by address.
func listenerCerts(opts server.Options) map[netip.AddrPort]*server.CertStore {
	certs := make(map[netip.AddrPort]*server.CertStore)
	for _, sl := range opts.StreamListeners {
		if sl.Certs != nil {
			certs[sl.Addr] = sl.Certs
		}
	}
	return certs
}

// reload re-reads the configuration and applies what it can. A
// configuration that does not load changes nothing.
func (r *reloader) reload(now time.Time) {
	r.log.Info("reloading the configuration (SIGHUP)", "source", sourceName(r.path))
	next, err := loadConfig(r.path)
	if err != nil {
		r.log.Error("reload failed; the running configuration is unchanged", "error", err)
		return
	}
	for _, w := range next.Warnings() {
		r.log.Warn(w)
	}
	if r.svc != nil && next.CredentialService != nil {
		if err := r.svc.reload(next.CredentialService, r.log, now); err != nil {
			r.log.Error("reload failed; the running configuration is unchanged", "error", err)
			return
		}
		r.log.Info("reloaded the credential service's certificate, client CAs and trusted clients",
			"cert_file", next.CredentialService.CertFile, "client_ca_file", next.CredentialService.ClientCAFile,
			"trusted_clients", next.CredentialService.TrustedClients)
	}
	r.reloadListenerCerts(next)
	r.reloadSecrets(next)
	if keys := restartNeeded(r.running, next); len(keys) > 0 {
		r.log.Warn("changed settings that need a restart were not applied", "keys", keys)
	}
}

// reloadListenerCerts loads the certificates of the TLS listeners again:
// new handshakes get them, established connections are kept. A listener
// whose files do not load keeps its certificate.
func (r *reloader) reloadListenerCerts(next *config.Config) {
	for _, l := range next.Listeners {
		certs := r.certs[l.Address]
		if l.TLS == nil || certs == nil {
			continue
		}
		if err := certs.Load(l.TLS.CertFile, l.TLS.KeyFile); err != nil {
			r.log.Error("reloading a TLS listener's certificate failed; it keeps the running one", "address", l.Address, "error", err)
			continue
		}
		r.log.Info("reloaded a TLS listener's certificate", "address", l.Address, "cert_file", l.TLS.CertFile)
	}
}

// reloadSecrets replaces the active secrets with next's.
func (r *reloader) reloadSecrets(next *config.Config) {
	switch {
	case r.keyring == nil && len(next.Auth.Secrets) == 0:
		return
	case r.keyring == nil:
		r.log.Warn("auth.secrets were added to an edge that started without any: restart to use them")
		return
	case len(next.Auth.Secrets) == 0:
		r.log.Warn("auth.secrets is empty: the running secrets are kept; restart to run with static users only")
		return
	}
	secrets := make([]auth.Secret, len(next.Auth.Secrets))
	ids := make([]string, len(next.Auth.Secrets))
	for i, s := range next.Auth.Secrets {
		secrets[i], ids[i] = auth.Secret{ID: s.ID, Value: s.Value}, s.ID
	}
	if err := r.keyring.Set(secrets); err != nil {
		r.log.Error("reloading secrets failed; the running secrets are unchanged", "error", err)
		return
	}
	r.log.Info("reloaded secrets: new credentials are signed with the first, the relay accepts all", "ids", ids)
}

// sourceName names the configuration in logs.
func sourceName(path string) string {
	if path == "" {
		return config.DevelopmentSource
	}
	return path
}

// restartNeeded lists the settings that differ between the running
// configuration and next but are not reloaded.
func restartNeeded(running, next *config.Config) []string {
	var keys []string
	differ := func(key string, a, b any) {
		ja, errA := json.Marshal(a)
		jb, errB := json.Marshal(b)
		if errA != nil || errB != nil || !bytes.Equal(ja, jb) {
			keys = append(keys, key)
		}
	}
	differ("realm", running.Realm, next.Realm)
	differ("software", running.Software, next.Software)
	differ("advertise_host", running.AdvertiseHost, next.AdvertiseHost)
	differ("workers", running.Workers, next.Workers)
	differ("log", running.Log, next.Log)
	differ("listeners", running.Listeners, next.Listeners)
	differ("relay", running.Relay, next.Relay)
	differ("lifetimes", running.Lifetimes, next.Lifetimes)
	differ("peers", running.Peers, next.Peers)
	differ("quotas", running.Quotas, next.Quotas)
	differ("auth.nonce_lifetime", running.Auth.NonceLifetime, next.Auth.NonceLifetime)
	differ("auth.max_credential_lifetime", running.Auth.MaxCredentialLifetime, next.Auth.MaxCredentialLifetime)
	if !slices.Equal(running.Auth.StaticUsers, next.Auth.StaticUsers) {
		keys = append(keys, "auth.static_users")
	}
	if !bytes.Equal(running.Auth.NonceKey, next.Auth.NonceKey) {
		// Also when it is derived from a first secret that changed: the
		// running edge keeps its nonces valid until it restarts.
		keys = append(keys, "auth.nonce_key")
	}
	rs, ns := running.CredentialService, next.CredentialService
	switch {
	case (rs == nil) != (ns == nil):
		keys = append(keys, "credential_service")
	case rs != nil:
		differ("credential_service.listen", rs.Listen, ns.Listen)
		differ("credential_service.max_ttl", rs.MaxTTL, ns.MaxTTL)
		differ("credential_service.rate", rs.Rate, ns.Rate)
		differ("credential_service.relays", rs.Relays, ns.Relays)
	}
	return keys
}
