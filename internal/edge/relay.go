package edge

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/avedge/avedge/internal/acme"
	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/pki"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/revocation"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/server/stream"
)

// relayOptions turns a validated configuration into the relay's options:
// it builds the nonce minter, the authenticator (checking credentials
// against keyring, nil without secrets, users, nil without a users
// file, then hook, nil without a webhook, and those of tenants in their
// realms) and the peer policy, loads
// the certificates of TLS listeners, and turns the bandwidth quotas into
// the buckets' caps (a burst of one second's worth).
//
// The ACME managers of the listeners with tls.acme are returned too, to
// run with the edge; on error, those made are closed.
func relayOptions(cfg *config.Config, keyring *auth.Keyring, users *auth.Users, hook auth.Hook, tenants []auth.TenantOptions, revoked *revocation.Store, log *slog.Logger, clk clock.Clock) (_ server.Options, managers []*acme.Manager, err error) {
	defer func() {
		if err != nil {
			for _, m := range managers {
				m.Close()
			}
			managers = nil
		}
	}()
	static := make(map[string]string, len(cfg.Auth.StaticUsers))
	for _, u := range cfg.Auth.StaticUsers {
		static[u.Username] = u.Password
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 cfg.Realm,
		Keyring:               keyring,
		StaticUsers:           static,
		Users:                 users,
		MaxCredentialLifetime: cfg.Auth.MaxCredentialLifetime,
		Nonces:                auth.NewNonces(cfg.Auth.NonceKey, cfg.Auth.NonceLifetime, clk),
		Clock:                 clk,
		StrictExpiry:          cfg.Auth.StrictExpiry,
		Revoked: func(identity string, expiry, now time.Time) bool {
			return revoked.Current().Refuses(identity, expiry, now)
		},
		Hook:    hook,
		Tenants: tenants,
	})
	if err != nil {
		return server.Options{}, nil, fmt.Errorf("auth: %w", err)
	}
	self, err := selfAddrs(cfg, net.InterfaceAddrs)
	if err != nil {
		return server.Options{}, nil, err
	}
	perAlloc, err := policy.NewBandwidth(cfg.Quotas.BandwidthPerAllocation, 0)
	if err != nil {
		return server.Options{}, nil, fmt.Errorf("quotas.bandwidth_per_allocation: %w", err)
	}
	perUser, err := policy.NewBandwidth(cfg.Quotas.BandwidthPerUser, 0)
	if err != nil {
		return server.Options{}, nil, fmt.Errorf("quotas.bandwidth_per_user: %w", err)
	}
	var (
		listeners []netip.AddrPort
		stunOnly  []netip.AddrPort
		fronts    []server.FrontListener
		streams   []server.StreamListener
		// streamOf maps the index of a listener to its place in
		// streams, -1 for a UDP one.
		streamOf = make([]int, len(cfg.Listeners))
	)
	for i, l := range cfg.Listeners {
		streamOf[i] = -1
		switch {
		case l.RedirectTo.IsValid():
			fronts = append(fronts, server.FrontListener{Addr: l.Address, RedirectTo: l.RedirectTo})
			continue
		case l.STUNOnly:
			stunOnly = append(stunOnly, l.Address)
			continue
		}
		if !l.Stream() {
			listeners = append(listeners, l.Address)
			continue
		}
		sl := server.StreamListener{Addr: l.Address, Plain: l.Plain(), Proxy: streamProxy(l)}
		if l.TLS != nil {
			var m *acme.Manager
			if sl.Certs, sl.TLS, m, err = listenerTLS(l, log); err != nil {
				return server.Options{}, managers, err
			}
			if m != nil {
				managers = append(managers, m)
			}
		}
		streamOf[i] = len(streams)
		streams = append(streams, sl)
	}
	q := quotas(cfg.Quotas)
	tenantOpts, err := serverTenants(cfg, streams, streamOf)
	if err != nil {
		return server.Options{}, managers, err
	}
	return server.Options{
		Software:        cfg.Software,
		Listeners:       listeners,
		FrontListeners:  fronts,
		STUNListeners:   stunOnly,
		StreamListeners: streams,

		TCPConnectionsPerAllocation: cfg.Quotas.TCPConnectionsPerAllocation,
		UnauthenticatedLimit:        sourceLimit(cfg.Limits),
		Stream: stream.Limits{
			Connections:          cfg.Quotas.TCPConnections,
			ConnectionsPerSource: cfg.Quotas.TCPConnectionsPerSource,
			ConnectionRate:       connectionRate(cfg.Limits),
			ConnectionBurst:      cfg.Limits.TCPConnectionBurst,
		},
		SkipUnavailable:   cfg.Development,
		NoTCPRelays:       !cfg.Relay.TCP,
		RelayAddr:         cfg.Relay.Address,
		RelayAddrV6:       cfg.Relay.AddressV6,
		RelayAdvertised:   cfg.RelayAdvertised(),
		RelayAdvertisedV6: cfg.RelayAdvertisedV6(),
		PortMin:           cfg.Relay.PortMin,
		PortMax:           cfg.Relay.PortMax,
		Allocation: allocation.Config{
			DefaultLifetime:      cfg.Lifetimes.AllocationDefault,
			MaxLifetime:          cfg.Lifetimes.AllocationMax,
			PermissionLifetime:   cfg.Lifetimes.Permission,
			ChannelLifetime:      cfg.Lifetimes.Channel,
			MaxPermissions:       cfg.Quotas.PermissionsPerAllocation,
			MaxChannels:          cfg.Quotas.ChannelsPerAllocation,
			StrictChannelNumbers: cfg.Turn.StrictChannelNumbers,
		},
		MaxAllocationAge:   cfg.Auth.MaxAllocationAge,
		Self:               self,
		PeerPorts:          peerPorts(cfg.Peers.Ports),
		AllocationsPerUser: q.AllocationsPerUser,
		AllocationsTotal:   q.AllocationsTotal,
		PortsPerUser:       q.PortsPerUser,

		BandwidthPerAllocation: perAlloc,
		BandwidthPerUser:       perUser,
		Capacity:               cfg.Quotas.Capacity,
		Tenants:                tenantOpts,

		Auth:             authn,
		Policy:           peerPolicy(cfg.Peers),
		Workers:          cfg.Workers,
		BatchDelay:       cfg.DataPath.BatchDelay,
		Clock:            clk,
		Logger:           log,
		AlternateServers: cfg.Drain.AlternateServers,
		PoolAlternates:   cfg.Pool.AlternateServers,
		DrainTimeout:     cfg.Drain.Timeout,
		MSTURN:           cfg.MSTurn.Enabled,
	}, managers, nil
}

// newKeyring returns the keyring of the shared secrets of a, or nil when
// a has none (static users only).
func newKeyring(a config.Auth) (*auth.Keyring, error) {
	if len(a.Secrets) == 0 {
		return nil, nil
	}
	k, err := auth.NewKeyring(secrets(a))
	if err != nil {
		return nil, fmt.Errorf("auth.secrets: %w", err)
	}
	return k, nil
}

// secrets returns the shared secrets of a, newest first.
func secrets(a config.Auth) []auth.Secret {
	out := make([]auth.Secret, len(a.Secrets))
	for i, s := range a.Secrets {
		out[i] = auth.Secret{ID: s.ID, Value: s.Value}
	}
	return out
}

// peerPolicy returns the peer policy of p.
func peerPolicy(p config.Peers) *policy.PeerPolicy {
	return policy.NewPeerPolicy(p.Allow, p.Deny, p.DefaultDeny)
}

// sourceLimit returns the per-source limit of unauthenticated requests of
// l.
func sourceLimit(l config.Limits) policy.SourceLimit {
	return policy.SourceLimit{Rate: l.UnauthenticatedRate, Burst: l.UnauthenticatedBurst}
}

// connectionRate returns the stream limit of new connections per source
// of l: 0, no limit, is a negative rate there.
func connectionRate(l config.Limits) float64 {
	if l.TCPConnectionRate == 0 {
		return -1
	}
	return l.TCPConnectionRate
}

// quotas returns the allocation and port quotas of q.
func quotas(q config.Quotas) server.Quotas {
	return server.Quotas{AllocationsPerUser: q.AllocationsPerUser, AllocationsTotal: q.AllocationsTotal, PortsPerUser: q.PortsPerUser}
}

// listenerTLS returns the certificate store and TLS policy of the TLS
// listener l: its certificate files loaded, or with tls.acme an empty
// store, filled by the ACME manager returned (a stored certificate at
// once, see acme.New), whose TLS-ALPN-01 challenges the policy answers.
func listenerTLS(l config.Listener, log *slog.Logger) (*server.CertStore, server.TLSPolicy, *acme.Manager, error) {
	pol := server.TLSPolicy{MinVersion: tls.VersionTLS12}
	if l.TLS.MinVersion == config.TLS13 {
		pol.MinVersion = tls.VersionTLS13
	}
	a := l.TLS.ACME
	if a == nil {
		store, err := loadListenerCerts(l)
		return store, pol, nil, err
	}
	opts := acme.Options{Domains: a.Domains, Email: a.Email, Directory: a.Directory, HTTPListen: a.HTTPListen,
		Logger: log.With("listener", l.Address.String())}
	if a.CARoots != "" {
		roots, err := pki.LoadPool(a.CARoots)
		if err != nil {
			return nil, pol, nil, fmt.Errorf("listener %s %v: tls.acme.ca_roots: %w", l.Protocol, l.Address, err)
		}
		opts.Roots = roots
	}
	state, err := config.DefaultStateDir()
	if err != nil {
		return nil, pol, nil, fmt.Errorf("listener %s %v: tls.acme: %w", l.Protocol, l.Address, err)
	}
	opts.Dir = filepath.Join(state, "acme")
	store := new(server.CertStore)
	opts.OnCertificate = store.Set
	m, err := acme.New(opts)
	if err != nil {
		return nil, pol, nil, fmt.Errorf("listener %s %v: %w", l.Protocol, l.Address, err)
	}
	pol.ACMEChallenge = m.ChallengeCertificate
	return store, pol, m, nil
}

// loadListenerCerts loads the certificate files of the TLS listener l.
func loadListenerCerts(l config.Listener) (*server.CertStore, error) {
	store, err := server.LoadCertStore(l.TLS.CertFile, l.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("listener %s %v: %w", l.Protocol, l.Address, err)
	}
	return store, nil
}

// streamProxy is the PROXY protocol setting of the stream listener l.
func streamProxy(l config.Listener) stream.Proxy {
	modes := map[string]stream.ProxyMode{
		config.ProxyProtocolV1:       stream.ProxyV1,
		config.ProxyProtocolV2:       stream.ProxyV2,
		config.ProxyProtocolOptional: stream.ProxyOptional,
	}
	return stream.Proxy{Mode: modes[l.ProxyProtocol], Trusted: l.TrustedProxies}
}
