package server

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/config"
	"github.com/avedge/avedge/internal/policy"
)

// FromConfig turns a validated configuration into server Options: it builds
// the keyring, the nonce minter, the authenticator and the peer policy, and
// loads the certificates of TLS listeners, and turns the bandwidth quotas
// into the buckets' caps (a burst of one second's worth).
func FromConfig(cfg *config.Config, log *slog.Logger, clk clock.Clock) (Options, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	var keyring *auth.Keyring
	if len(cfg.Auth.Secrets) > 0 {
		secrets := make([]auth.Secret, 0, len(cfg.Auth.Secrets))
		for _, s := range cfg.Auth.Secrets {
			secrets = append(secrets, auth.Secret{ID: s.ID, Value: s.Value})
		}
		var err error
		if keyring, err = auth.NewKeyring(secrets); err != nil {
			return Options{}, fmt.Errorf("server: secrets: %w", err)
		}
	}
	static := make(map[string]string, len(cfg.Auth.StaticUsers))
	for _, u := range cfg.Auth.StaticUsers {
		static[u.Username] = u.Password
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 cfg.Realm,
		Keyring:               keyring,
		StaticUsers:           static,
		MaxCredentialLifetime: cfg.Auth.MaxCredentialLifetime,
		Nonces:                auth.NewNonces(cfg.Auth.NonceKey, cfg.Auth.NonceLifetime, clk),
		Clock:                 clk,
	})
	if err != nil {
		return Options{}, fmt.Errorf("server: %w", err)
	}
	perAlloc, err := policy.NewBandwidth(cfg.Quotas.BandwidthPerAllocation, 0)
	if err != nil {
		return Options{}, fmt.Errorf("server: quotas.bandwidth_per_allocation: %w", err)
	}
	perUser, err := policy.NewBandwidth(cfg.Quotas.BandwidthPerUser, 0)
	if err != nil {
		return Options{}, fmt.Errorf("server: quotas.bandwidth_per_user: %w", err)
	}
	var (
		listeners []netip.AddrPort
		fronts    []FrontListener
		streams   []StreamListener
	)
	for _, l := range cfg.Listeners {
		if l.RedirectTo.IsValid() {
			fronts = append(fronts, FrontListener{Addr: l.Address, RedirectTo: l.RedirectTo})
			continue
		}
		if !l.Stream() {
			listeners = append(listeners, l.Address)
			continue
		}
		sl := StreamListener{Addr: l.Address, Plain: l.Plain()}
		if l.TLS != nil {
			if sl.Certs, err = LoadCertStore(l.TLS.CertFile, l.TLS.KeyFile); err != nil {
				return Options{}, fmt.Errorf("server: listener %s %v: %w", l.Protocol, l.Address, err)
			}
		}
		streams = append(streams, sl)
	}
	return Options{
		Software:        cfg.Software,
		Listeners:       listeners,
		FrontListeners:  fronts,
		StreamListeners: streams,

		TCPConnectionsPerAllocation: cfg.Quotas.TCPConnectionsPerAllocation,
		UnauthenticatedLimit:        policy.SourceLimit{Rate: cfg.Limits.UnauthenticatedRate, Burst: cfg.Limits.UnauthenticatedBurst},
		Stream: StreamLimits{
			Connections:          cfg.Quotas.TCPConnections,
			ConnectionsPerSource: cfg.Quotas.TCPConnectionsPerSource,
		},
		SkipUnavailable: cfg.Development,
		RelayAddr:       cfg.Relay.Address,
		RelayAddrV6:     cfg.Relay.AddressV6,
		RelayAdvertised: cfg.RelayAdvertised(),
		PortMin:         cfg.Relay.PortMin,
		PortMax:         cfg.Relay.PortMax,
		Allocation: allocation.Config{
			DefaultLifetime:    cfg.Lifetimes.AllocationDefault,
			MaxLifetime:        cfg.Lifetimes.AllocationMax,
			PermissionLifetime: cfg.Lifetimes.Permission,
			ChannelLifetime:    cfg.Lifetimes.Channel,
			MaxPermissions:     cfg.Quotas.PermissionsPerAllocation,
			MaxChannels:        cfg.Quotas.ChannelsPerAllocation,
		},
		AllocationsPerUser: cfg.Quotas.AllocationsPerUser,
		AllocationsTotal:   cfg.Quotas.AllocationsTotal,
		PortsPerUser:       cfg.Quotas.PortsPerUser,

		BandwidthPerAllocation: perAlloc,
		BandwidthPerUser:       perUser,
		Capacity:               cfg.Quotas.Capacity,

		Auth:             authn,
		Keyring:          keyring,
		Policy:           policy.NewPeerPolicy(cfg.Peers.Allow, cfg.Peers.Deny, cfg.Peers.DefaultDeny),
		Workers:          cfg.Workers,
		BatchDelay:       cfg.DataPath.BatchDelay,
		Clock:            clk,
		Logger:           log,
		AlternateServers: cfg.Drain.AlternateServers,
		PoolAlternates:   cfg.Pool.AlternateServers,
		DrainTimeout:     cfg.Drain.Timeout,
		DisableMSTURN:    !cfg.MSTurn.Enabled,
	}, nil
}
