package credsvc_test

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/credsvc/credsvctest"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/servertest"
	"github.com/avedge/avedge/internal/turntest"
)

// These tests join the credential service and a real relay (server.New on
// 127.0.0.1) through one keyring and one fake clock, and check what a
// trusted server's credentials are worth to a TURN client.

const (
	// relayPortBase keeps the relay ports of these tests apart from other
	// packages' tests and below Linux's ephemeral range.
	relayPortBase = 26000
	relayPortSpan = 16
)

var relayBlock atomic.Int32

// edge is a credential service and a relay sharing keyring and clock.
type edge struct {
	*credsvctest.Service
	t     *testing.T
	relay netip.AddrPort
}

func startEdge(t *testing.T) *edge {
	t.Helper()
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	keyring, err := auth.NewKeyring([]auth.Secret{credsvctest.SecretA})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 credsvctest.Realm,
		Keyring:               keyring,
		MaxCredentialLifetime: 8 * time.Hour,
		Nonces:                auth.NewNonces([]byte("nonce-key-0123456789abcdef"), 10*time.Minute, clk),
		Clock:                 clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	base := relayPortBase + int(relayBlock.Add(1))*relayPortSpan
	srv, err := server.New(server.Options{
		Software:           "avedge-credsvc-test",
		Listeners:          []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		RelayAddr:          netip.MustParseAddr("127.0.0.1"),
		PortMin:            base,
		PortMax:            base + relayPortSpan - 1,
		Allocation:         allocation.DefaultConfig(),
		AllocationsPerUser: 12,
		AllocationsTotal:   100,
		Auth:               authn,
		Policy:             policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil, true),
		Workers:            1,
		Clock:              clk,
		Logger:             slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Serve(t, srv)
	relay := srv.Addrs()[0]
	// The service shares the relay's keyring and clock, and hands out its
	// address.
	s := credsvctest.StartService(t, func(o *credsvc.Options) {
		o.Keyring, o.Clock = keyring, clk
		o.Relays = []credsvc.Relay{{Host: relay.Addr().String(), UDPPort: int(relay.Port()), Location: credsvc.Internet}}
	}, nil)
	return &edge{Service: s, t: t, relay: relay}
}

// credential asks the service for a credential as the trusted app.
func (e *edge) credential(identity, ttl string) *credsvc.Credential {
	e.t.Helper()
	c, err := credsvc.NewClient(credsvc.ClientOptions{Service: e.URL, Certificate: e.PKI.Client(credsvctest.TrustedApp), RootCAs: e.PKI.CA.Pool()})
	if err != nil {
		e.t.Fatal(err)
	}
	cred, err := c.Credentials(context.Background(), credsvc.Request{Identity: identity, TTL: ttl})
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

// turnClient returns a TURN client of the relay with credential c.
func (e *edge) turnClient(c *credsvc.Credential) *turntest.Client {
	e.t.Helper()
	return turntest.DialUDP(e.t, e.relay, c.Username, c.Password)
}

// refreshLifetime is the LIFETIME of the tests' Refresh requests.
const refreshLifetime = 600 * time.Second

// TestCredentialAuthenticatesAllocate: a trusted server's credential lets
// a TURN client allocate and relay.
func TestCredentialAuthenticatesAllocate(t *testing.T) {
	e := startEdge(t)
	c := e.credential("alice", "1h")
	if want := "turn:" + e.relay.String() + "?transport=udp"; len(c.URIs) != 1 || c.URIs[0] != want || c.Realm != credsvctest.Realm {
		t.Fatalf("uris %q, realm %q; want [%s]", c.URIs, c.Realm, want)
	}
	raw := e.turnClient(c)
	relayed, code := raw.Allocate()
	if code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	peer, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if code := raw.SendTo(peer.LocalAddr().(*net.UDPAddr).AddrPort(), []byte("hello")); code != 0 {
		t.Fatalf("CreatePermission: %d", code)
	}
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(credsvctest.IOTimeout))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "hello" || from != relayed {
		t.Fatalf("peer got %q from %v (%v), want hello from %v", buf[:n], from, err, relayed)
	}
	// A credential for someone else with a forged password is refused.
	forged := *c
	forged.Username = c.Username[:len(c.Username)-len("alice")] + "mallory"
	if _, code := e.turnClient(&forged).Allocate(); code != stun.CodeUnauthorized {
		t.Fatalf("allocate with a forged credential: %d, want 401", code)
	}
}

// TestCredentialExpires: once the TTL has passed on the shared clock, the
// credential no longer allocates, but still refreshes the live allocation
// it made (the relay's default: a call outlives its credential).
func TestCredentialExpires(t *testing.T) {
	e := startEdge(t)
	c := e.credential("alice", "2m")
	raw := e.turnClient(c)
	if _, code := raw.Allocate(); code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	if code := raw.Refresh(refreshLifetime); code != 0 {
		t.Fatalf("refresh before expiry: %d", code)
	}
	// The refresh asked for 600 s: the allocation outlives the credential.
	e.Clock.Advance(2*time.Minute + time.Second)
	if code := raw.Refresh(refreshLifetime); code != 0 {
		t.Fatalf("refresh of the live allocation after expiry: %d, want success", code)
	}
	// The allocation is live: the same client with another credential
	// gets 441 (Wrong Credentials, RFC 8656), not 437 (no allocation).
	other := e.credential("alice", "1h")
	raw.User, raw.Password = other.Username, other.Password
	if code := raw.Refresh(refreshLifetime); code != stun.CodeWrongCredentials {
		t.Fatalf("refresh with another credential: %d, want 441 (the allocation is live)", code)
	}
	if _, code := e.turnClient(c).Allocate(); code != stun.CodeUnauthorized {
		t.Fatalf("allocate after expiry: %d, want 401", code)
	}
	// A fresh credential from the service works at the new time.
	if _, code := e.turnClient(e.credential("alice", "1h")).Allocate(); code != 0 {
		t.Fatalf("allocate with a fresh credential: %d", code)
	}
}

// TestSecretRotation follows the documented procedure: add the new secret
// first, so that credentials signed with the old one keep working for the
// allocations and calls that hold them; remove the old one once they have
// expired, which invalidates them on their next request.
func TestSecretRotation(t *testing.T) {
	e := startEdge(t)
	old := e.credential("alice", "1h")
	raw := e.turnClient(old)
	if _, code := raw.Allocate(); code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	if err := e.Keyring.Set([]auth.Secret{credsvctest.SecretB, credsvctest.SecretA}); err != nil {
		t.Fatal(err)
	}
	fresh := e.credential("bob", "1h")
	if fresh.Password != auth.RESTPassword(credsvctest.SecretB.Value, fresh.Username) {
		t.Fatal("the service did not sign with the new secret")
	}
	if code := raw.Refresh(refreshLifetime); code != 0 {
		t.Fatalf("refresh with the old secret's credential while both are active: %d", code)
	}
	if _, code := e.turnClient(old).Allocate(); code != 0 {
		t.Fatalf("allocate with the old secret's credential while both are active: %d", code)
	}
	if _, code := e.turnClient(fresh).Allocate(); code != 0 {
		t.Fatalf("allocate with the new secret's credential: %d", code)
	}
	if err := e.Keyring.Set([]auth.Secret{credsvctest.SecretB}); err != nil {
		t.Fatal(err)
	}
	if code := raw.Refresh(refreshLifetime); code != stun.CodeUnauthorized {
		t.Fatalf("refresh after the old secret was removed: %d, want 401", code)
	}
	if _, code := e.turnClient(old).Allocate(); code != stun.CodeUnauthorized {
		t.Fatalf("allocate with a removed secret's credential: %d, want 401", code)
	}
	if _, code := e.turnClient(fresh).Allocate(); code != 0 {
		t.Fatalf("allocate with the new secret's credential: %d", code)
	}
}
