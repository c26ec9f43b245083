package credsvc

import (
	"context"
	"errors"
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
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server"
	"github.com/avedge/avedge/internal/servertest"
	"github.com/avedge/avedge/internal/stunproto"
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
	*service
	relay netip.AddrPort
}

func startEdge(t *testing.T) *edge {
	t.Helper()
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	keyring, err := auth.NewKeyring([]auth.Secret{secretA})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewAuthenticator(auth.Options{
		Realm:                 testRealm,
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
		Keyring:            keyring,
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
	s := startService(t, func(o *Options) {
		o.Keyring, o.Clock = keyring, clk
		o.Relays = []Relay{{Host: relay.Addr().String(), UDPPort: int(relay.Port()), Location: Internet}}
	}, nil)
	return &edge{service: s, relay: relay}
}

// credential asks the service for a credential as the trusted app.
func (e *edge) credential(identity, ttl string) *Credential {
	e.t.Helper()
	c, err := NewClient(ClientOptions{Service: e.url, Certificate: e.pki.client(trustedApp), RootCAs: e.pki.ca.Pool()})
	if err != nil {
		e.t.Fatal(err)
	}
	cred, err := c.Credentials(context.Background(), Request{Identity: identity, TTL: ttl})
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

// rawClient is a TURN client over UDP built from pion/stun messages.
type rawClient struct {
	t                        *testing.T
	conn                     *net.UDPConn
	server                   netip.AddrPort
	user, pass, realm, nonce string
}

func (e *edge) rawClient(c *Credential) *rawClient {
	e.t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return &rawClient{t: e.t, conn: conn, server: e.relay, user: c.Username, pass: c.Password}
}

// STUN attribute types of RFC 8656 §18 used by the raw client.
const (
	attrLifetime           stun.AttrType = 0x000D
	attrRequestedTransport stun.AttrType = 0x0019
)

// do sends an authenticated request, answering 401 and 438 challenges with
// the realm and nonce they carry (RFC 8489 §9.2.3), and returns the error
// code of the final answer (0 for success).
func (c *rawClient) do(method stun.Method, attrs ...stun.Setter) int {
	c.t.Helper()
	_, code := c.request(method, attrs...)
	return code
}

// request is do that also returns the final answer.
func (c *rawClient) request(method stun.Method, attrs ...stun.Setter) (*stun.Message, int) {
	c.t.Helper()
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		if c.nonce != "" {
			setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
				stun.NewLongTermIntegrity(c.user, c.realm, c.pass))
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			c.t.Fatal(err)
		}
		r := c.roundTrip(m)
		var ec stun.ErrorCodeAttribute
		if err := ec.GetFrom(r); errors.Is(err, stun.ErrAttributeNotFound) {
			return r, 0
		} else if err != nil {
			c.t.Fatal(err)
		}
		retry := ec.Code == stun.CodeStaleNonce || (ec.Code == stun.CodeUnauthorized && c.nonce == "")
		if !retry {
			return r, int(ec.Code)
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
			c.t.Fatalf("%d without REALM and NONCE", ec.Code)
		}
		c.realm, c.nonce = realm.String(), nonce.String()
	}
	c.t.Fatal("no answer after three challenges")
	return nil, 0
}

func (c *rawClient) roundTrip(m *stun.Message) *stun.Message {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(m.Raw, c.server); err != nil {
		c.t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		r := new(stun.Message)
		if err := stun.Decode(buf[:n], r); err == nil && r.TransactionID == m.TransactionID {
			return r
		}
	}
}

func (c *rawClient) allocate() int {
	_, code := c.allocateRelayed()
	return code
}

// allocateRelayed allocates and returns the relayed address with the error
// code of the answer.
func (c *rawClient) allocateRelayed() (netip.AddrPort, int) {
	c.t.Helper()
	r, code := c.request(stun.MethodAllocate, stun.RawAttribute{Type: attrRequestedTransport, Value: []byte{17, 0, 0, 0}})
	if code != 0 {
		return netip.AddrPort{}, code
	}
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		c.t.Fatalf("XOR-RELAYED-ADDRESS: %v", err)
	}
	return relayed.Addr, 0
}

// sendTo relays data to peer: a permission, then a Send indication.
func (c *rawClient) sendTo(peer netip.AddrPort, data []byte) {
	c.t.Helper()
	if code := c.do(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: peer}); code != 0 {
		c.t.Fatalf("CreatePermission: %d", code)
	}
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		&stunproto.XORPeerAddress{Addr: peer}, stunproto.Data(data), stun.Fingerprint)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.WriteToUDPAddrPort(m.Raw, c.server); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) refresh() int {
	return c.do(stun.MethodRefresh, stun.RawAttribute{Type: attrLifetime, Value: []byte{0, 0, 2, 0x58}}) // 600 s
}

// TestCredentialAuthenticatesAllocate: a trusted server's credential lets
// a TURN client allocate and relay.
func TestCredentialAuthenticatesAllocate(t *testing.T) {
	e := startEdge(t)
	c := e.credential("alice", "1h")
	if want := "turn:" + e.relay.String() + "?transport=udp"; len(c.URIs) != 1 || c.URIs[0] != want || c.Realm != testRealm {
		t.Fatalf("uris %q, realm %q; want [%s]", c.URIs, c.Realm, want)
	}
	raw := e.rawClient(c)
	relayed, code := raw.allocateRelayed()
	if code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	peer, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	raw.sendTo(peer.LocalAddr().(*net.UDPAddr).AddrPort(), []byte("hello"))
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "hello" || from != relayed {
		t.Fatalf("peer got %q from %v (%v), want hello from %v", buf[:n], from, err, relayed)
	}
	// A credential for someone else with a forged password is refused.
	forged := *c
	forged.Username = c.Username[:len(c.Username)-len("alice")] + "mallory"
	if code := e.rawClient(&forged).allocate(); code != int(stun.CodeUnauthorized) {
		t.Fatalf("allocate with a forged credential: %d, want 401", code)
	}
}

// TestCredentialExpires: once the TTL has passed on the shared clock, the
// credential neither allocates nor refreshes a live allocation.
func TestCredentialExpires(t *testing.T) {
	e := startEdge(t)
	c := e.credential("alice", "2m")
	raw := e.rawClient(c)
	if code := raw.allocate(); code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	if code := raw.refresh(); code != 0 {
		t.Fatalf("refresh before expiry: %d", code)
	}
	// The refresh asked for 600 s: the allocation outlives the credential.
	e.clk.Advance(2*time.Minute + time.Second)
	if code := raw.refresh(); code != int(stun.CodeUnauthorized) {
		t.Fatalf("refresh of the live allocation after expiry: %d, want 401", code)
	}
	// The allocation is live: the same client with another credential
	// gets 441 (Wrong Credentials, RFC 8656), not 437 (no allocation).
	other := e.credential("alice", "1h")
	raw.user, raw.pass = other.Username, other.Password
	if code := raw.refresh(); code != int(stun.CodeWrongCredentials) {
		t.Fatalf("refresh with another credential: %d, want 441 (the allocation is live)", code)
	}
	if code := e.rawClient(c).allocate(); code != int(stun.CodeUnauthorized) {
		t.Fatalf("allocate after expiry: %d, want 401", code)
	}
	// A fresh credential from the service works at the new time.
	if code := e.rawClient(e.credential("alice", "1h")).allocate(); code != 0 {
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
	raw := e.rawClient(old)
	if code := raw.allocate(); code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	if err := e.keyring.Set([]auth.Secret{secretB, secretA}); err != nil {
		t.Fatal(err)
	}
	fresh := e.credential("bob", "1h")
	if fresh.Password != auth.RESTPassword(secretB.Value, fresh.Username) {
		t.Fatal("the service did not sign with the new secret")
	}
	if code := raw.refresh(); code != 0 {
		t.Fatalf("refresh with the old secret's credential while both are active: %d", code)
	}
	if code := e.rawClient(old).allocate(); code != 0 {
		t.Fatalf("allocate with the old secret's credential while both are active: %d", code)
	}
	if code := e.rawClient(fresh).allocate(); code != 0 {
		t.Fatalf("allocate with the new secret's credential: %d", code)
	}
	if err := e.keyring.Set([]auth.Secret{secretB}); err != nil {
		t.Fatal(err)
	}
	if code := raw.refresh(); code != int(stun.CodeUnauthorized) {
		t.Fatalf("refresh after the old secret was removed: %d, want 401", code)
	}
	if code := e.rawClient(old).allocate(); code != int(stun.CodeUnauthorized) {
		t.Fatalf("allocate with a removed secret's credential: %d, want 401", code)
	}
	if code := e.rawClient(fresh).allocate(); code != 0 {
		t.Fatalf("allocate with the new secret's credential: %d", code)
	}
}
