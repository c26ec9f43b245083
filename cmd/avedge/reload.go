package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
)

// reloader applies a re-read configuration to a running edge on SIGHUP:
// the shared secrets (new credentials are signed with the new first one,
// the relay accepts exactly the new list), the certificates of the TLS
// listeners, the credential service's certificate, key, client CAs and
// trusted clients, and the relay's peer policy, allocation quotas and
// limits of unauthenticated requests. Everything else needs a restart,
// which it says.
type reloader struct {
	// path is the configuration file; "" is the development edge.
	path string
	// running is the configuration in force: the one the edge started
	// with, with the reloaded relay settings (peers, quotas, limits).
	running *config.Config
	keyring *auth.Keyring
	svc     *credentialService
	// certs are the certificates of the TLS listeners, by address.
	certs map[netip.AddrPort]*server.CertStore
	// relay takes the new relay settings; nil leaves them alone.
	relay relaySettings
	log   *slog.Logger
}

// relaySettings are the settings of a running relay that a reload
// changes; *server.Server has them.
type relaySettings interface {
	SetPolicy(p *policy.PeerPolicy) error
	SetQuotas(perUser, total int)
	SetUnauthenticatedLimit(lim policy.SourceLimit) error
}

// portQuotaSetting is the relay's quota of relay ports per user;
// *server.Server has it. A relaySettings without it (a test's) keeps
// quotas.ports_per_user as it is.
type portQuotaSetting interface {
	SetPortsPerUser(n int)
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

// reload re-reads the configuration and applies what it can, all or
// nothing: the new secrets, service certificates and listener certificates
// are all loaded and checked first, and a configuration of which any part
// does not load or check changes nothing.
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
	p, err := r.prepare(next, now)
	if err != nil {
		r.log.Error("reload failed; the running configuration is unchanged", "error", err)
		return
	}
	if err := r.apply(p, next); err != nil {
		r.log.Error("reload failed; the running configuration is unchanged", "error", err)
		return
	}
	if keys := restartNeeded(r.running, next); len(keys) > 0 {
		r.log.Warn("changed settings that need a restart were not applied", "keys", keys)
	}
}

// reloadPlan is a loaded and checked configuration, ready to apply.
type reloadPlan struct {
	// service is the credential service's new TLS material; nil keeps it.
	service *serviceTLS
	// certs are the listeners' new certificates, by address.
	certs map[netip.AddrPort]tls.Certificate
	// secrets replace the keyring's; nil keeps them.
	secrets []auth.Secret
	// policy replaces the relay's peer policy; nil keeps it.
	policy *policy.PeerPolicy
	// quotas and limit replace the relay's when set.
	quotas *config.Quotas
	limit  *policy.SourceLimit
}

// prepare loads and checks everything next changes that a reload applies,
// changing nothing.
func (r *reloader) prepare(next *config.Config, now time.Time) (reloadPlan, error) {
	var p reloadPlan
	if r.svc != nil && next.CredentialService != nil {
		st, err := loadServiceTLS(next.CredentialService, r.log, now)
		if err != nil {
			return reloadPlan{}, err
		}
		p.service = &st
	}
	p.certs = make(map[netip.AddrPort]tls.Certificate)
	for _, l := range next.Listeners {
		if l.TLS == nil || r.certs[l.Address] == nil {
			continue
		}
		store, err := server.LoadCertStore(l.TLS.CertFile, l.TLS.KeyFile)
		if err != nil {
			return reloadPlan{}, fmt.Errorf("TLS listener %s: %w", l.Address, err)
		}
		cert, err := store.GetCertificate(nil)
		if err != nil {
			return reloadPlan{}, fmt.Errorf("TLS listener %s: %w", l.Address, err)
		}
		p.certs[l.Address] = *cert
	}
	switch {
	case r.keyring == nil && len(next.Auth.Secrets) == 0:
	case r.keyring == nil:
		r.log.Warn("auth.secrets were added to an edge that started without any: restart to use them")
	case len(next.Auth.Secrets) == 0:
		r.log.Warn("auth.secrets is empty: the running secrets are kept; restart to run with static users only")
	default:
		p.secrets = make([]auth.Secret, len(next.Auth.Secrets))
		for i, s := range next.Auth.Secrets {
			p.secrets[i] = auth.Secret{ID: s.ID, Value: s.Value}
		}
		// The same checks Keyring.Set applies, on a keyring nobody uses.
		if _, err := auth.NewKeyring(p.secrets); err != nil {
			return reloadPlan{}, fmt.Errorf("auth.secrets: %w", err)
		}
	}
	if err := r.prepareRelay(&p, next); err != nil {
		return reloadPlan{}, err
	}
	return p, nil
}

// prepareRelay adds to p the relay settings of next that differ from the
// running ones.
func (r *reloader) prepareRelay(p *reloadPlan, next *config.Config) error {
	if r.relay == nil || r.running == nil {
		return nil
	}
	if !sameJSON(r.running.Peers, next.Peers) {
		p.policy = policy.NewPeerPolicy(next.Peers.Allow, next.Peers.Deny, next.Peers.DefaultDeny)
	}
	if q := next.Quotas; q.AllocationsPerUser != r.running.Quotas.AllocationsPerUser ||
		q.AllocationsTotal != r.running.Quotas.AllocationsTotal || q.PortsPerUser != r.running.Quotas.PortsPerUser {
		p.quotas = &q
	}
	if next.Limits != r.running.Limits {
		lim := policy.SourceLimit{Rate: next.Limits.UnauthenticatedRate, Burst: next.Limits.UnauthenticatedBurst}
		if lim.Enabled() {
			// The checks SetUnauthenticatedLimit applies, on a limiter
			// nobody uses.
			if _, err := policy.NewSourceLimiter(lim, 1, nil); err != nil {
				return fmt.Errorf("limits: %w", err)
			}
		}
		p.limit = &lim
	}
	return nil
}

// apply puts a prepared reload into effect. Only the credential service's
// part can fail, on an inconsistency prepare rules out; it goes first, so
// that a failure changes nothing.
func (r *reloader) apply(p reloadPlan, next *config.Config) error {
	if p.service != nil {
		cs := next.CredentialService
		if err := r.svc.apply(*p.service, cs.TrustedClients); err != nil {
			return err
		}
		r.log.Info("reloaded the credential service's certificate, client CAs and trusted clients",
			"cert_file", cs.CertFile, "client_ca_file", cs.ClientCAFile, "trusted_clients", cs.TrustedClients)
	}
	for _, l := range next.Listeners {
		if cert, ok := p.certs[l.Address]; ok {
			r.certs[l.Address].Set(cert)
			r.log.Info("reloaded a TLS listener's certificate", "address", l.Address, "cert_file", l.TLS.CertFile)
		}
	}
	if p.secrets != nil {
		if err := r.keyring.Set(p.secrets); err != nil {
			// Unreachable: prepare made a keyring of the same secrets.
			r.log.Error("reloading secrets failed; the running secrets are unchanged", "error", err)
			return nil
		}
		ids := make([]string, len(p.secrets))
		for i, s := range p.secrets {
			ids[i] = s.ID
		}
		r.log.Info("reloaded secrets: new credentials are signed with the first, the relay accepts all", "ids", ids)
	}
	r.applyRelay(p, next)
	return nil
}

// applyRelay hands the relay the settings prepareRelay found changed and
// records them as running.
func (r *reloader) applyRelay(p reloadPlan, next *config.Config) {
	if p.policy == nil && p.quotas == nil && p.limit == nil {
		return
	}
	cur := *r.running
	if p.limit != nil {
		if err := r.relay.SetUnauthenticatedLimit(*p.limit); err != nil {
			// Unreachable: prepareRelay checked the same limit.
			r.log.Error("reloading limits failed; the running limits are unchanged", "error", err)
		} else {
			cur.Limits = next.Limits
			r.log.Info("reloaded the limits of unauthenticated requests (buckets start full)",
				"unauthenticated_rate", next.Limits.UnauthenticatedRate, "unauthenticated_burst", next.Limits.UnauthenticatedBurst)
		}
	}
	if p.policy != nil {
		if err := r.relay.SetPolicy(p.policy); err != nil {
			r.log.Error("reloading the peer policy failed; the running policy is unchanged", "error", err)
		} else {
			cur.Peers = next.Peers
			r.log.Info("reloaded the peer policy: new permissions and channels are checked against it, installed ones stay",
				"allow", next.Peers.Allow, "deny", next.Peers.Deny, "default_deny", next.Peers.DefaultDeny)
		}
	}
	if p.quotas != nil {
		r.relay.SetQuotas(p.quotas.AllocationsPerUser, p.quotas.AllocationsTotal)
		cur.Quotas.AllocationsPerUser, cur.Quotas.AllocationsTotal = p.quotas.AllocationsPerUser, p.quotas.AllocationsTotal
		if ps, ok := r.relay.(portQuotaSetting); ok {
			ps.SetPortsPerUser(p.quotas.PortsPerUser)
			cur.Quotas.PortsPerUser = p.quotas.PortsPerUser
		}
		r.log.Info("reloaded the allocation quotas: they apply to new allocations, live ones stay",
			"allocations_per_user", p.quotas.AllocationsPerUser, "allocations_total", p.quotas.AllocationsTotal,
			"ports_per_user", cur.Quotas.PortsPerUser)
	}
	r.running = &cur
}

// sameJSON reports whether a and b have the same JSON form.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
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
		if !sameJSON(a, b) {
			keys = append(keys, key)
		}
	}
	differ("realm", running.Realm, next.Realm)
	differ("software", running.Software, next.Software)
	differ("advertise_host", running.AdvertiseHost, next.AdvertiseHost)
	differ("workers", running.Workers, next.Workers)
	differ("datapath", running.DataPath, next.DataPath)
	differ("drain", running.Drain, next.Drain)
	differ("pool", running.Pool, next.Pool)
	differ("records", running.Records, next.Records)
	differ("admin", running.Admin, next.Admin)
	differ("log", running.Log, next.Log)
	differ("listeners", running.Listeners, next.Listeners)
	differ("relay", running.Relay, next.Relay)
	differ("lifetimes", running.Lifetimes, next.Lifetimes)
	// peers, limits, quotas.allocations_* and quotas.ports_per_user are
	// reloaded (applyRelay).
	rq, nq := running.Quotas, next.Quotas
	rq.AllocationsPerUser, rq.AllocationsTotal, rq.PortsPerUser = nq.AllocationsPerUser, nq.AllocationsTotal, nq.PortsPerUser
	differ("quotas", rq, nq)
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
