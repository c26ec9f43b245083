package edge

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
)

// Apply puts next, a configuration re-read on SIGHUP, into effect, all or
// nothing: it loads and checks everything of next that it applies (see
// Reloadable) and changes the edge only when all of it loaded and checked;
// on error nothing changed. What it applies: the shared secrets (new
// credentials are signed with the new first one, the relay accepts exactly
// the new list), the certificates of the TLS listeners, the credential
// service's certificate, key, client CAs and trusted clients, and the
// relay's peer policy, allocation quotas and limits of unauthenticated
// requests. Live allocations, their permissions and channels, and open
// connections are kept. restart lists the keys of the other settings that
// differ from those the edge started with: they need a restart, and each
// is logged.
func (e *Edge) Apply(next *config.Config) (restart []string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live.reload(next)
}

// reloader is what Apply changes in a running edge.
type reloader struct {
	// started is the configuration the edge started with, in force for
	// every key that is not reloadable.
	started *config.Config
	// applied is the configuration whose relay settings (peers, quotas,
	// limits) are in force.
	applied *config.Config
	// keyring holds the shared secrets; nil when the edge started without
	// any.
	keyring *auth.Keyring
	// svc is the credential service; nil when none runs.
	svc *credentialService
	// certs are the certificates of the TLS listeners, by address.
	certs map[netip.AddrPort]*server.CertStore
	// certFiles are the files of those certificates in force, by address:
	// what watchCerts follows.
	certFiles map[netip.AddrPort]config.ListenerTLS
	// relay takes the new relay settings; nil leaves them alone.
	relay relaySettings
	log   *slog.Logger
	clock clock.Clock
}

// relaySettings are the settings of a running relay that a reload
// changes; *server.Server has them.
type relaySettings interface {
	SetPolicy(p *policy.PeerPolicy) error
	SetQuotas(q server.Quotas)
	SetUnauthenticatedLimit(lim policy.SourceLimit) error
}

// reload prepares next, applies it and reports the changed keys that need
// a restart.
func (r *reloader) reload(next *config.Config) ([]string, error) {
	p, err := r.prepare(next)
	if err != nil {
		return nil, err
	}
	if err := r.apply(p, next); err != nil {
		return nil, err
	}
	restart := restartKeys(r.started, next)
	for _, key := range restart {
		r.log.Warn(restartMsg, "key", key)
	}
	if p.secretsKept != "" {
		restart = append(restart, "auth.secrets")
		r.log.Warn(restartMsg, "key", "auth.secrets", "reason", p.secretsKept)
	}
	return restart, nil
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
	quotas *server.Quotas
	limit  *policy.SourceLimit
	// secretsKept, if set, says why the changed auth.secrets cannot be
	// applied to this edge.
	secretsKept string
}

// restartMsg is logged for each changed key that was not applied.
const restartMsg = "a changed setting was not applied: changes to it need a restart"

// prepare loads and checks everything next changes that a reload applies,
// changing nothing.
func (r *reloader) prepare(next *config.Config) (reloadPlan, error) {
	var p reloadPlan
	if r.svc != nil && next.CredentialService != nil {
		st, err := loadServiceTLS(next.CredentialService, r.log, r.clock.Now())
		if err != nil {
			return reloadPlan{}, err
		}
		p.service = &st
	}
	p.certs = make(map[netip.AddrPort]tls.Certificate)
	for _, l := range next.Listeners {
		if l.TLS == nil || l.TLS.ACME != nil || r.certs[l.Address] == nil || startedWithACME(r.started, l.Address) {
			continue // an ACME manager keeps such a listener's certificate
		}
		store, err := loadListenerCerts(l)
		if err != nil {
			return reloadPlan{}, err
		}
		cert, err := store.GetCertificate(nil)
		if err != nil {
			return reloadPlan{}, fmt.Errorf("listener %s %v: %w", l.Protocol, l.Address, err)
		}
		p.certs[l.Address] = *cert
	}
	switch {
	case r.keyring == nil && len(next.Auth.Secrets) == 0:
	case r.keyring == nil:
		p.secretsKept = "the edge started without secrets"
	case len(next.Auth.Secrets) == 0:
		p.secretsKept = "empty: the running secrets are kept; restart to run with static users only"
	default:
		// The same checks Keyring.Set applies, on a keyring nobody uses.
		if _, err := newKeyring(next.Auth); err != nil {
			return reloadPlan{}, err
		}
		p.secrets = secrets(next.Auth)
	}
	if err := r.prepareRelay(&p, next); err != nil {
		return reloadPlan{}, err
	}
	return p, nil
}

// prepareRelay adds to p the relay settings of next that differ from the
// applied ones.
func (r *reloader) prepareRelay(p *reloadPlan, next *config.Config) error {
	if r.relay == nil {
		return nil
	}
	if a, b := r.applied.Peers, next.Peers; a.DefaultDeny != b.DefaultDeny || !slices.Equal(a.Allow, b.Allow) || !slices.Equal(a.Deny, b.Deny) {
		p.policy = peerPolicy(next.Peers)
	}
	if q := quotas(next.Quotas); q != quotas(r.applied.Quotas) {
		p.quotas = &q
	}
	if lim := sourceLimit(next.Limits); lim != sourceLimit(r.applied.Limits) {
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
		// A UDP listener may share the address of a TLS one.
		if cert, ok := p.certs[l.Address]; ok && l.TLS != nil {
			r.certs[l.Address].Set(cert)
			r.certFiles[l.Address] = *l.TLS
			r.log.Info("reloaded a TLS listener's certificate", "address", l.Address, "cert_file", l.TLS.CertFile)
		}
	}
	if p.secrets != nil {
		if err := r.keyring.Set(p.secrets); err != nil {
			// Unreachable: prepare made a keyring of the same secrets.
			r.log.Error("reloading secrets failed; the running secrets are unchanged", "err", err)
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
// records them as applied.
func (r *reloader) applyRelay(p reloadPlan, next *config.Config) {
	if p.policy == nil && p.quotas == nil && p.limit == nil {
		return
	}
	cur := *r.applied
	if p.limit != nil {
		if err := r.relay.SetUnauthenticatedLimit(*p.limit); err != nil {
			// Unreachable: prepareRelay checked the same limit.
			r.log.Error("reloading limits failed; the running limits are unchanged", "err", err)
		} else {
			cur.Limits = next.Limits
			r.log.Info("reloaded the limits of unauthenticated requests (buckets start full)",
				"unauthenticated_rate", next.Limits.UnauthenticatedRate, "unauthenticated_burst", next.Limits.UnauthenticatedBurst)
		}
	}
	if p.policy != nil {
		if err := r.relay.SetPolicy(p.policy); err != nil {
			r.log.Error("reloading the peer policy failed; the running policy is unchanged", "err", err)
		} else {
			cur.Peers = next.Peers
			r.log.Info("reloaded the peer policy: new permissions and channels are checked against it, installed ones stay",
				"allow", next.Peers.Allow, "deny", next.Peers.Deny, "default_deny", next.Peers.DefaultDeny)
		}
	}
	if p.quotas != nil {
		r.relay.SetQuotas(*p.quotas)
		cur.Quotas = next.Quotas
		r.log.Info("reloaded the allocation quotas: they apply to new allocations, live ones stay",
			"allocations_per_user", p.quotas.AllocationsPerUser, "allocations_total", p.quotas.AllocationsTotal,
			"ports_per_user", p.quotas.PortsPerUser)
	}
	r.applied = &cur
}

// startedWithACME reports whether the TLS listener at addr of cfg gets its
// certificate from ACME.
func startedWithACME(cfg *config.Config, addr netip.AddrPort) bool {
	return slices.ContainsFunc(cfg.Listeners, func(l config.Listener) bool {
		return l.Address == addr && l.TLS != nil && l.TLS.ACME != nil
	})
}
