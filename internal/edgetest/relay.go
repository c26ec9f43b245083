package edgetest

import (
	"crypto/rand"
	"crypto/tls"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/servertest"
)

const (
	// maxCredentialLifetime is the relay's and the service's longest
	// credential lifetime, as on a development edge.
	maxCredentialLifetime = 8 * time.Hour
	// nonceLifetime is how long a nonce lasts.
	nonceLifetime = 10 * time.Minute
)

// newKeyring returns a keyring holding one random secret.
func newKeyring(tb testing.TB) *auth.Keyring {
	tb.Helper()
	k, err := auth.NewKeyring([]auth.Secret{{ID: "edgetest", Value: []byte(rand.Text())}})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// peerPolicy is the development edge's peer policy (loopback allowed, the
// default deny list otherwise), or the default deny list alone.
func peerPolicy(denyLoopback bool) *policy.PeerPolicy {
	if denyLoopback {
		return policy.NewPeerPolicy(nil, nil, true)
	}
	return policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil, true)
}

// startRelay runs the relay with a UDP, a plain TCP and a TLS listener, in
// that order, on 127.0.0.1.
func startRelay(tb testing.TB, opts Options, keyring *auth.Keyring, cert tls.Certificate) *server.Server {
	tb.Helper()
	clk := clock.Real{}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 realm,
		Keyring:               keyring,
		MaxCredentialLifetime: maxCredentialLifetime,
		Nonces:                auth.NewNonces([]byte(rand.Text()), nonceLifetime, clk),
		Clock:                 clk,
		StrictExpiry:          opts.StrictExpiry,
	})
	if err != nil {
		tb.Fatal(err)
	}
	certs := new(server.CertStore)
	certs.Set(cert)
	port0 := netip.AddrPortFrom(loopback, 0)
	srv, err := server.New(server.Options{
		Software:  "avedge-edgetest",
		MSTURN:    true, // as the development edge: ms_turn.enabled
		Listeners: []netip.AddrPort{port0},
		StreamListeners: []server.StreamListener{
			{Addr: port0, Plain: true},
			{Addr: port0, Certs: certs},
		},
		RelayAddr:        loopback,
		PortMin:          opts.RelayPortMin,
		PortMax:          opts.RelayPortMin + opts.RelayPorts - 1,
		Allocation:       allocationConfig(opts),
		AllocationsTotal: opts.RelayPorts,
		Auth:             authn,
		Policy:           peerPolicy(opts.DenyLoopbackPeers),
		Workers:          opts.Workers,
		Clock:            clk,
	})
	if err != nil {
		tb.Fatal(err)
	}
	servertest.Serve(tb, srv)
	return srv
}

// allocationConfig is the allocation configuration of opts: the defaults,
// with Options.AllocationLifetime as default and maximum when set.
func allocationConfig(opts Options) allocation.Config {
	c := allocation.DefaultConfig()
	if opts.AllocationLifetime > 0 {
		c.DefaultLifetime, c.MaxLifetime = opts.AllocationLifetime, opts.AllocationLifetime
	}
	return c
}
