package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/servertest"
	"github.com/avedge/avedge/internal/stunproto"
)

const (
	testRealm    = "avedge.test"
	ioTimeout    = 5 * time.Second
	testPortBase = 20000 // below Linux's ephemeral range, so test clients never take a relay port
	testPortSpan = 16
	// testPortBlocks keeps relay ports below 32768, where Linux's
	// ephemeral range starts.
	testPortBlocks = (32768 - testPortBase) / testPortSpan
)

var portBlock atomic.Int32

// testEdge is a real server on 127.0.0.1 with a fake clock.
type testEdge struct {
	t      *testing.T
	srv    *Server
	addr   netip.AddrPort
	clk    *clock.Fake
	secret auth.Secret
	ended  chan stats.Record
	opts   Options
}

func loopbackPolicy() *policy.PeerPolicy {
	return policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil, true)
}

// newTestEdge starts a server; mod may change the options before it starts.
func newTestEdge(t *testing.T, mod func(*Options)) *testEdge {
	t.Helper()
	return newTestEdgeAuth(t, nil, mod)
}

// newTestEdgeAuth is newTestEdge with authMod applied to the
// authenticator's options.
func newTestEdgeAuth(t *testing.T, authMod func(*auth.Options), mod func(*Options)) *testEdge {
	t.Helper()
	e := newStoppedEdgeAuth(t, authMod, mod)
	servertest.Serve(t, e.srv)
	return e
}

// strictExpiry is an authMod: expiry checked on every request.
func strictExpiry(o *auth.Options) { o.StrictExpiry = true }

// newStoppedEdge is newTestEdge without running the server: the test runs
// it (and Close releases it at the end of the test).
func newStoppedEdge(t *testing.T, mod func(*Options)) *testEdge {
	t.Helper()
	return newStoppedEdgeAuth(t, nil, mod)
}

// newStoppedEdgeAuth is newStoppedEdge with authMod applied to the
// authenticator's options.
func newStoppedEdgeAuth(t *testing.T, authMod func(*auth.Options), mod func(*Options)) *testEdge {
	t.Helper()
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	secret := auth.Secret{ID: "k1", Value: []byte("test-secret-0123456789abcdef")}
	keyring, err := auth.NewKeyring([]auth.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	ao := auth.Options{
		Realm:                 testRealm,
		Keyring:               keyring,
		StaticUsers:           map[string]string{"static": "static-password"},
		MaxCredentialLifetime: 8 * time.Hour,
		Nonces:                auth.NewNonces([]byte("nonce-key-0123456789abcdef"), 10*time.Minute, clk),
		Clock:                 clk,
	}
	if authMod != nil {
		authMod(&ao)
	}
	authn, err := auth.NewAuthenticator(ao)
	if err != nil {
		t.Fatal(err)
	}
	// Blocks are reused after testPortBlocks edges, long after the edge
	// that had the block stopped, so that -count=N never climbs into the
	// ephemeral range.
	base := testPortBase + int(portBlock.Add(1)%testPortBlocks)*testPortSpan
	e := &testEdge{t: t, clk: clk, secret: secret, ended: make(chan stats.Record, 64)}
	opts := Options{
		MSTURN:             true, // both dialects, as the development edge
		Software:           "avedge-test",
		Listeners:          []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		RelayAddr:          netip.MustParseAddr("127.0.0.1"),
		PortMin:            base,
		PortMax:            base + testPortSpan - 1,
		Allocation:         allocation.DefaultConfig(),
		AllocationsPerUser: 12,
		AllocationsTotal:   1000,
		Auth:               authn,
		Policy:             loopbackPolicy(),
		Workers:            2,
		Clock:              clk,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnAllocationEnd:    func(r stats.Record) { e.ended <- r },
	}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv, e.addr, e.opts = srv, srv.Addrs()[0], opts
	t.Cleanup(srv.Close)
	return e
}

// credential issues a REST credential for identity valid for ttl on the
// edge's clock.
func (e *testEdge) credential(identity string, ttl time.Duration) (string, string) {
	e.t.Helper()
	u, p, err := auth.Issue(e.secret, identity, e.clk.Now().Add(ttl))
	if err != nil {
		e.t.Fatal(err)
	}
	return u, p
}

// waitEnded returns the next ended-allocation record.
func (e *testEdge) waitEnded() stats.Record {
	e.t.Helper()
	select {
	case r := <-e.ended:
		return r
	case <-time.After(ioTimeout):
		e.t.Fatal("no allocation ended")
		return stats.Record{}
	}
}

// client is a raw STUN/TURN client on its own UDP socket.
type client struct {
	t                        *testing.T
	conn                     *net.UDPConn
	server                   netip.AddrPort
	user, pass, realm, nonce string
	sha256                   bool
}

func (e *testEdge) newClient(user, pass string) *client {
	e.t.Helper()
	return e.newClientFrom("127.0.0.1", user, pass)
}

// newClientFrom is newClient on a socket bound to ip, talking to the edge's
// listener of ip's family.
func (e *testEdge) newClientFrom(ip, user, pass string) *client {
	e.t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	server := e.addr
	for _, a := range e.srv.Addrs() {
		if a.Addr().Is4() == netip.MustParseAddr(ip).Is4() {
			server = a
			break
		}
	}
	return &client{t: e.t, conn: conn, server: server, user: user, pass: pass}
}

// requireIPv6 skips the test when this host cannot bind ::1, and fails it
// when the CI environment variable is "true": CI must run it.
func requireIPv6(t *testing.T) {
	t.Helper()
	requireBind(t, "udp6", net.IPv6loopback)
}

// requireBind skips the test when this host cannot bind a UDP socket of
// network to ip (failing it instead when CI is "true").
func requireBind(t *testing.T, network string, ip net.IP) {
	t.Helper()
	probe, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("this host cannot bind %v, which CI must: %v", ip, err)
		}
		t.Skipf("skipping: this host cannot bind %v (%v)", ip, err)
	}
	probe.Close()
}

// withIPv6 offers IPv6 relayed addresses on ::1 and adds a listener on
// [::1]:0 next to the IPv4 one.
func withIPv6(o *Options) {
	o.RelayAddrV6 = netip.MustParseAddr("::1")
	o.Listeners = append(o.Listeners, netip.MustParseAddrPort("[::1]:0"))
}

// relaySockets returns, read on the worker goroutine that owns them, the
// relay sockets of the allocation of client, so that a test can read their
// socket options back from the kernel.
func (e *testEdge) relaySockets(client netip.AddrPort) []*datapath.Conn {
	e.t.Helper()
	found := make(chan []*datapath.Conn, len(e.srv.workers))
	for _, wl := range e.srv.workers {
		err := wl.dp.Do(func() {
			var conns []*datapath.Conn
			wl.w.table.Range(func(a *allocation.Allocation) bool {
				if a.FiveTuple.Client == client {
					for _, rl := range a.Relay.(*session).relays {
						if c, ok := rl.sock.(*datapath.Conn); ok {
							conns = append(conns, c)
						}
					}
				}
				return true
			})
			found <- conns
		})
		if err != nil {
			e.t.Fatalf("Do: %v", err)
		}
	}
	var all []*datapath.Conn
	for range e.srv.workers {
		select {
		case conns := <-found:
			all = append(all, conns...)
		case <-time.After(ioTimeout):
			e.t.Fatal("a worker did not answer")
		}
	}
	return all
}

func (c *client) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (c *client) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(b, c.server); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next datagram from the server.
func (c *client) read() []byte {
	c.t.Helper()
	buf := make([]byte, 65536)
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, _, err := c.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return buf[:n]
}

// readMessage returns the next STUN message from the server, skipping
// ChannelData.
func (c *client) readMessage() *stun.Message {
	c.t.Helper()
	for {
		b := c.read()
		if b[0]&0xC0 != 0 {
			continue
		}
		m := new(stun.Message)
		if err := stun.Decode(b, m); err != nil {
			c.t.Fatalf("decode response: %v", err)
		}
		return m
	}
}

// roundTrip sends m and returns the response with its transaction ID.
func (c *client) roundTrip(m *stun.Message) *stun.Message {
	c.t.Helper()
	c.send(m.Raw)
	for {
		r := c.readMessage()
		if r.TransactionID == m.TransactionID {
			return r
		}
	}
}

// build makes a request of method with attrs, signed with the client's
// credentials when it has a nonce.
func (c *client) build(method stun.Method, attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
	setters = append(setters, attrs...)
	if c.nonce != "" {
		setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce))
		setters = append(setters, c.integrity()...)
	}
	setters = append(setters, stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		c.t.Fatalf("build: %v", err)
	}
	return m
}

// do sends an authenticated request, learning realm and nonce from a 401 or
// 438 first when needed, and returns the final response.
func (c *client) do(method stun.Method, attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	for range 3 {
		r := c.roundTrip(c.build(method, attrs...))
		code := errorCode(r)
		if code != stun.CodeUnauthorized && code != stun.CodeStaleNonce {
			return r
		}
		if code == stun.CodeUnauthorized && c.nonce != "" {
			return r
		}
		var realm stun.Realm
		var nonce stun.Nonce
		if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
			c.t.Fatalf("%v without REALM/NONCE", code)
		}
		c.realm, c.nonce = realm.String(), nonce.String()
	}
	c.t.Fatal("no answer after three challenges")
	return nil
}

// errorCode returns the ERROR-CODE of m, or 0 for a success response.
func errorCode(m *stun.Message) stun.ErrorCode {
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		if errors.Is(err, stun.ErrAttributeNotFound) {
			return 0
		}
		return -1
	}
	return ec.Code
}

func wantCode(t *testing.T, m *stun.Message, want stun.ErrorCode) {
	t.Helper()
	if got := errorCode(m); got != want {
		t.Fatalf("%v: error code %d, want %d", m.Type, got, want)
	}
	if want == 0 && m.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("%v: not a success response", m.Type)
	}
}

// peer is a UDP socket standing for a peer on loopback.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T, ip string) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) read() ([]byte, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 65536)
	_ = p.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	return buf[:n], from
}

func (p *peer) sendTo(b []byte, to netip.AddrPort) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// integrity returns the integrity attributes of a request: MESSAGE-INTEGRITY
// with the MD5 key, or, in SHA-256 mode, PASSWORD-ALGORITHMS as offered,
// PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256 (RFC 8489 §9.2).
func (c *client) integrity() []stun.Setter {
	if !c.sha256 {
		return []stun.Setter{stun.NewLongTermIntegrity(c.user, c.realm, c.pass)}
	}
	return []stun.Setter{
		stunproto.PasswordAlgorithms{{Algorithm: stunproto.AlgSHA256}, {Algorithm: stunproto.AlgMD5}},
		stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgSHA256},
		stunproto.NewMessageIntegritySHA256(auth.Key(stunproto.AlgSHA256, c.user, c.realm, c.pass)),
	}
}

// newEchoPeer is a peer that sends every datagram back to where it came
// from, until the test ends and its socket is closed.
func newEchoPeer(t *testing.T, ip string) *peer {
	t.Helper()
	p := newPeer(t, ip)
	p.echo()
	return p
}

// newEchoPeerPair is two echo peers on ports P and P+1 of ip, P even, as an
// RTP/RTCP pair.
func newEchoPeerPair(t *testing.T, ip string) (rtp, rtcp *peer) {
	t.Helper()
	for range 20 {
		rtp = newPeer(t, ip)
		port := rtp.addr().Port()
		if port%2 != 0 || port == 65535 {
			continue
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(rtp.addr().Addr(), port+1)))
		if err != nil {
			continue
		}
		t.Cleanup(func() { conn.Close() })
		rtcp = &peer{t: t, conn: conn}
		rtp.echo()
		rtcp.echo()
		return rtp, rtcp
	}
	t.Fatal("no free even/odd port pair for an echo peer")
	return nil, nil
}

// echo sends every datagram p receives back to where it came from, until
// the test ends and p's socket is closed.
func (p *peer) echo() {
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := p.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = p.conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
}
