package server

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/tcprelay"
	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

var tcpTransport = stunproto.RequestedTransport{Protocol: stunproto.ProtoTCP}

// streamClient is a raw TURN client over one TCP connection; client holds
// its credentials and builds its requests.
type streamClient struct {
	*client
	conn     net.Conn
	attempts []*stun.Message // ConnectionAttempt indications received
}

func (se *streamEdge) newStreamClient(user, pass string) *streamClient {
	se.t.Helper()
	return se.newStreamClientOver(false, user, pass)
}

// newStreamClientOver is newStreamClient over TLS when useTLS.
func (se *streamEdge) newStreamClientOver(useTLS bool, user, pass string) *streamClient {
	se.t.Helper()
	return &streamClient{client: &client{t: se.t, user: user, pass: pass}, conn: se.dial(useTLS)}
}

// readMessage returns the next STUN message on the connection.
func (c *streamClient) readMessage() *stun.Message {
	c.t.Helper()
	m := new(stun.Message)
	if err := stun.Decode(readFrame(c.t, c.conn), m); err != nil {
		c.t.Fatalf("decode: %v", err)
	}
	return m
}

// roundTrip sends m and returns its response, keeping the indications that
// come first.
func (c *streamClient) roundTrip(m *stun.Message) *stun.Message {
	c.t.Helper()
	if _, err := c.conn.Write(m.Raw); err != nil {
		c.t.Fatal(err)
	}
	for {
		r := c.readMessage()
		if r.Type.Class == stun.ClassIndication {
			c.attempts = append(c.attempts, r)
			continue
		}
		if r.TransactionID == m.TransactionID {
			return r
		}
	}
}

// do is client.do over the stream: an authenticated request, after a
// challenge when the client has no nonce yet.
func (c *streamClient) do(method stun.Method, attrs ...stun.Setter) *stun.Message {
	c.t.Helper()
	for range 3 {
		r := c.roundTrip(c.build(method, attrs...))
		code := errorCode(r)
		if code != stun.CodeUnauthorized && code != stun.CodeStaleNonce || code == stun.CodeUnauthorized && c.nonce != "" {
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

// allocateTCP makes a TCP allocation and returns its relayed address.
func (c *streamClient) allocateTCP() netip.AddrPort {
	c.t.Helper()
	r := c.do(stun.MethodAllocate, tcpTransport)
	wantCode(c.t, r, 0)
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil {
		c.t.Fatal(err)
	}
	return relayed.Addr
}

// connect sends a Connect for peer and returns the response.
func (c *streamClient) connect(peer netip.AddrPort) *stun.Message {
	c.t.Helper()
	return c.do(stun.MethodConnect, &stunproto.XORPeerAddress{Addr: peer})
}

func connectionID(t *testing.T, m *stun.Message) stunproto.ConnectionID {
	t.Helper()
	var id stunproto.ConnectionID
	if err := id.GetFrom(m); err != nil {
		t.Fatalf("%v: no CONNECTION-ID: %v", m.Type, err)
	}
	return id
}

// bind opens a new connection and sends ConnectionBind for id on it with
// user's credentials; it returns the response and the connection.
func (se *streamEdge) bind(id stunproto.ConnectionID, user, pass string) (*stun.Message, net.Conn) {
	se.t.Helper()
	return se.bindOver(false, id, user, pass)
}

// bindOver is bind over TLS when useTLS.
func (se *streamEdge) bindOver(useTLS bool, id stunproto.ConnectionID, user, pass string) (*stun.Message, net.Conn) {
	se.t.Helper()
	dc := se.newStreamClientOver(useTLS, user, pass)
	return dc.do(stun.MethodConnectionBind, id), dc.conn
}

// TestTCPRelayControlClose drives an RFC 6062 TCP allocation over a TCP
// control connection: Connect to a TCP echo peer, ConnectionBind and bytes
// both ways; an inbound connection from a permitted peer (ConnectionAttempt,
// then ConnectionBind); then closing the control connection ends the
// allocation, closes every data connection and frees the relayed port.
func TestTCPRelayControlClose(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	relayed := c.allocateTCP()
	if relayed.Addr() != se.opts.RelayAddr || int(relayed.Port()) < se.opts.PortMin || int(relayed.Port()) > se.opts.PortMax {
		t.Fatalf("relayed address %v outside %v:%d-%d", relayed, se.opts.RelayAddr, se.opts.PortMin, se.opts.PortMax)
	}

	// Outbound: Connect, ConnectionBind, bytes both ways through the echo.
	echo := turntest.NewTCPPeer(t, true)
	r := c.connect(echo.Addr())
	wantCode(t, r, 0)
	resp, out := se.bind(connectionID(t, r), u, p)
	wantCode(t, resp, 0)
	if got := echo.Next(t).RemoteAddr().(*net.TCPAddr).AddrPort(); got != relayed {
		t.Fatalf("peer connection from %v, want the relayed address %v", got, relayed)
	}
	turntest.Echoes(t, out, "hello", strings.Repeat("x", 100_000))

	// Inbound from a permitted peer.
	wantCode(t, c.do(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: echo.Addr()}), 0)
	pc, err := net.Dial("tcp4", relayed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	attempt := c.readMessage()
	if attempt.Type != stun.NewType(stun.MethodConnectionAttempt, stun.ClassIndication) {
		t.Fatalf("got %v, want a ConnectionAttempt indication", attempt.Type)
	}
	resp, in := se.bind(connectionID(t, attempt), u, p)
	wantCode(t, resp, 0)
	turntest.RelayBoth(t, pc, in, "inbound")
	waitFor(t, func() bool {
		st := se.srv.Stats().TCP
		return st.Connects == 1 && st.Inbound == 1 && st.Bound == 2 && st.DataOpen == 2
	})

	// The allocation ends with its control connection, and with it every
	// data connection.
	c.conn.Close()
	if rec := se.waitEnded(); rec.Relayed != relayed || rec.Reason != "connection closed" {
		t.Fatalf("record %+v", rec)
	}
	for _, dc := range []net.Conn{out, in, pc} {
		turntest.WantClosed(t, dc)
	}
	waitFor(t, func() bool { return se.srv.Stats().TCP.DataOpen == 0 })
	ln, err := net.Listen("tcp4", relayed.String())
	if err != nil {
		t.Fatalf("relayed port not freed: %v", err)
	}
	ln.Close()
}

// TestTCPRelayTLS: control and data connections over TLS; bytes the client
// sends right behind its ConnectionBind, in the same write, reach the peer.
func TestTCPRelayTLS(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClientOver(true, u, p)
	c.allocateTCP()
	echo := turntest.NewTCPPeer(t, true)
	r := c.connect(echo.Addr())
	wantCode(t, r, 0)
	id := connectionID(t, r)
	dc := se.newStreamClientOver(true, u, p)
	// Learn realm and nonce for this connection with an id that binds nothing.
	wantCode(t, dc.do(stun.MethodConnectionBind, id+1), stun.CodeBadRequest)
	bind := dc.build(stun.MethodConnectionBind, id)
	if _, err := dc.conn.Write(append(bind.Raw, "early bytes"...)); err != nil {
		t.Fatal(err)
	}
	if resp := dc.readMessage(); resp.TransactionID != bind.TransactionID {
		t.Fatalf("got %v, want the ConnectionBind response", resp.Type)
	} else {
		wantCode(t, resp, 0)
	}
	buf := make([]byte, len("early bytes"))
	_ = dc.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := io.ReadFull(dc.conn, buf); err != nil || string(buf) != "early bytes" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	turntest.RelayBoth(t, dc.conn, dc.conn, "over TLS")
}

// TestTCPRelayAllocate covers the Allocate rules of RFC 6062 §5.1 over TCP.
func TestTCPRelayAllocate(t *testing.T) {
	se := newStreamEdge(t, nil)
	for _, tc := range []struct {
		name  string
		attrs []stun.Setter
		want  stun.ErrorCode
	}{
		{"EVEN-PORT", []stun.Setter{tcpTransport, stunproto.EvenPort{}}, stun.CodeBadRequest},
		{"DONT-FRAGMENT", []stun.Setter{tcpTransport, stunproto.DontFragment{}}, stun.CodeBadRequest},
		{"RESERVATION-TOKEN", []stun.Setter{tcpTransport, stunproto.ReservationToken{1}}, stun.CodeBadRequest},
		{"ADDITIONAL-ADDRESS-FAMILY", []stun.Setter{tcpTransport, stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)}, stun.CodeBadRequest},
		{"IPv6 not offered", []stun.Setter{tcpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv6)}, stun.CodeAddrFamilyNotSupported},
		{"IPv4", []stun.Setter{tcpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv4)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := se.credential("alice", time.Hour)
			c := se.newStreamClient(u, p)
			wantCode(t, c.do(stun.MethodAllocate, tc.attrs...), tc.want)
		})
	}
}

// TestTCPRelaysOff: with NoTCPRelays an Allocate for a TCP relayed address
// gets 442 (relay.tcp: false), and one for a UDP relayed address over the
// same TCP connection still succeeds.
func TestTCPRelaysOff(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) { o.NoTCPRelays = true })
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	wantCode(t, c.do(stun.MethodAllocate, tcpTransport), stun.CodeUnsupportedTransProto)
	wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)
}

// TestTCPRelayIPv6: a TCP relayed address on ::1, and a Connect through it.
func TestTCPRelayIPv6(t *testing.T) {
	requireIPv6(t)
	se := newStreamEdge(t, withIPv6)
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	r := c.do(stun.MethodAllocate, tcpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv6))
	wantCode(t, r, 0)
	var relayed stunproto.XORRelayedAddress
	if err := relayed.GetFrom(r); err != nil || relayed.Addr.Addr() != netip.MustParseAddr("::1") {
		t.Fatalf("relayed %v, %v; want one on ::1", relayed.Addr, err)
	}
	ln, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	wantCode(t, c.connect(netip.MustParseAddrPort("127.0.0.1:9")), stun.CodePeerAddrFamilyMismatch)
	r = c.connect(ln.Addr().(*net.TCPAddr).AddrPort())
	wantCode(t, r, 0)
	connectionID(t, r)
}

// TestTCPRelayRefusals: the error answers of Connect and ConnectionBind,
// and inbound peers without a permission.
func TestTCPRelayRefusals(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	relayed := c.allocateTCP()
	echo := turntest.NewTCPPeer(t, true)

	// An inbound peer without a permission is closed at once and counted,
	// and the client hears nothing of it.
	stranger, err := net.Dial("tcp4", relayed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	turntest.WantClosed(t, stranger)
	waitFor(t, func() bool { return se.srv.Stats().TCP.RefusedNoPermission == 1 })

	// Connect: denied by policy 403, closed port 447, success, then 446.
	wantCode(t, c.connect(netip.MustParseAddrPort("10.0.0.1:80")), stun.CodeForbidden)
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().(*net.TCPAddr).AddrPort()
	closed.Close()
	wantCode(t, c.connect(closedAddr), stun.CodeConnTimeoutOrFailure)
	r := c.connect(echo.Addr())
	wantCode(t, r, 0)
	id := connectionID(t, r)
	wantCode(t, c.connect(echo.Addr()), stun.CodeConnAlreadyExists)
	wantCode(t, c.do(stun.MethodConnect), stun.CodeBadRequest)
	// Channels and Send indications are for UDP allocations.
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), &stunproto.XORPeerAddress{Addr: echo.Addr()}), stun.CodeBadRequest)

	// ConnectionBind: unknown id 400; other credentials 441 (the
	// connection stays pending); on the control connection 400; over UDP
	// 400; then the right one works, once.
	resp, _ := se.bind(id+1, u, p)
	wantCode(t, resp, stun.CodeBadRequest)
	bu, bp := se.credential("bob", time.Hour)
	resp, _ = se.bind(id, bu, bp)
	wantCode(t, resp, stun.CodeWrongCredentials)
	wantCode(t, c.do(stun.MethodConnectionBind, id), stun.CodeBadRequest)
	udp := se.newClient(u, p)
	wantCode(t, udp.do(stun.MethodConnectionBind, id), stun.CodeBadRequest)
	resp, data := se.bind(id, u, p)
	wantCode(t, resp, 0)
	turntest.RelayBoth(t, data, data, "echoed") // through the echo peer and back
	resp, _ = se.bind(id, u, p)
	wantCode(t, resp, stun.CodeBadRequest)
	if st := se.srv.Stats().TCP; st.BadBinds != 5 || st.ConnectFailed != 1 || st.Connects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTCPRelayLimit: connections over the per-allocation limit are refused.
func TestTCPRelayLimit(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) { o.TCPConnectionsPerAllocation = 1 })
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	relayed := c.allocateTCP()
	a, b := turntest.NewTCPPeer(t, true), turntest.NewTCPPeer(t, true)
	wantCode(t, c.connect(a.Addr()), 0)
	wantCode(t, c.connect(b.Addr()), stun.CodeInsufficientCapacity)
	if n := se.srv.Stats().Refused(stats.RefusedTCPConnectionsLimit); n != 1 {
		t.Fatalf("tcp_connections_limit refusals = %d, want 1", n)
	}
	wantCode(t, c.do(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: a.Addr()}), 0)
	in, err := net.Dial("tcp4", relayed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	turntest.WantClosed(t, in)
	waitFor(t, func() bool { return se.srv.Stats().TCP.RefusedLimit == 2 })
}

// TestTCPRelayBindExpiry: a peer connection without ConnectionBind is
// closed after 30 s of the server's clock, outbound and inbound, and its id
// no longer binds.
func TestTCPRelayBindExpiry(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("alice", time.Hour)
	c := se.newStreamClient(u, p)
	relayed := c.allocateTCP()
	peer := turntest.NewTCPPeer(t, false)
	r := c.connect(peer.Addr())
	wantCode(t, r, 0)
	outID := connectionID(t, r)
	outPeer := peer.Next(t)
	wantCode(t, c.do(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: peer.Addr()}), 0)
	in, err := net.Dial("tcp4", relayed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	attempt := c.readMessage()
	if attempt.Type != stun.NewType(stun.MethodConnectionAttempt, stun.ClassIndication) {
		t.Fatalf("got %v, want a ConnectionAttempt indication", attempt.Type)
	}
	var from stunproto.XORPeerAddress
	if err := from.GetFrom(attempt); err != nil || from.Addr.String() != in.LocalAddr().String() {
		t.Fatalf("XOR-PEER-ADDRESS %v (%v), want %v", from.Addr, err, in.LocalAddr())
	}
	inID := connectionID(t, attempt)

	se.clk.Advance(tcprelay.BindTimeout - time.Second)
	resp, _ := se.bind(inID, u, p) // still pending: binds
	wantCode(t, resp, 0)
	se.clk.Advance(time.Second)
	turntest.WantClosed(t, outPeer)
	waitFor(t, func() bool { return se.srv.Stats().TCP.BindsExpired == 1 })
	resp, _ = se.bind(outID, u, p)
	wantCode(t, resp, stun.CodeBadRequest)
}

// TestTCPRelayBackPressure: a peer that does not read stops the client's
// writes instead of making the edge buffer them; once the peer reads,
// every byte arrives, in order.
func TestTCPRelayBackPressure(t *testing.T) {
	se := newStreamEdge(t, nil)
	data, sink := se.dataPair(t)

	const limit = 256 << 20
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	written := 0
	for written < limit {
		_ = data.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := data.Write(chunk)
		written += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if written >= limit {
		t.Fatalf("the client wrote %d bytes to a peer that reads nothing", written)
	}
	t.Logf("writes blocked after %d bytes", written)
	data.Close()
	got := 0
	buf := make([]byte, 64<<10)
	_ = sink.SetReadDeadline(time.Now().Add(4 * ioTimeout))
	for {
		n, err := sink.Read(buf)
		for i := range n {
			if buf[i] != byte((got+i)%len(chunk)*7) {
				t.Fatalf("byte %d corrupted", got+i)
			}
		}
		got += n
		if err != nil {
			break
		}
	}
	if got != written {
		t.Fatalf("peer read %d bytes, client wrote %d", got, written)
	}
}

// TestTCPRelayBandwidthShaping: a per-allocation cap shapes an RFC 6062
// data connection: every byte arrives, none sooner than the cap allows
// (the burst at once, the rest at the rate).
func TestTCPRelayBandwidthShaping(t *testing.T) {
	const rate, size = 100_000, 200_000
	capped, err := policy.NewBandwidth(rate, policy.MinBurst)
	if err != nil {
		t.Fatal(err)
	}
	se := newStreamEdge(t, func(o *Options) { o.BandwidthPerAllocation = capped })
	data, sink := se.dataPair(t)

	start := time.Now()
	go func() { _, _ = data.Write(make([]byte, size)) }()
	_ = sink.SetReadDeadline(time.Now().Add(4 * ioTimeout))
	if _, err := io.ReadFull(sink, make([]byte, size)); err != nil {
		t.Fatalf("peer read: %v", err)
	}
	// The bytes beyond the burst take at least their time at the rate.
	least := time.Duration(size-policy.MinBurst) * time.Second / rate
	if took := time.Since(start); took < least {
		t.Fatalf("%d bytes arrived in %v, sooner than the cap of %d B/s allows (%v)", size, took, rate, least)
	}
}

// dataPair makes a TCP allocation, connects it to a new peer and binds a
// client data connection: it returns the client's data connection and the
// peer's end.
func (se *streamEdge) dataPair(t *testing.T) (data, sink net.Conn) {
	t.Helper()
	u, p := se.credential("alice", time.Hour)
	return se.dataPairFor(t, u, p)
}

// dataPairFor is dataPair with the credential u, p.
func (se *streamEdge) dataPairFor(t *testing.T, u, p string) (data, sink net.Conn) {
	t.Helper()
	c := se.newStreamClient(u, p)
	c.allocateTCP()
	peer := turntest.NewTCPPeer(t, false)
	r := c.connect(peer.Addr())
	wantCode(t, r, 0)
	resp, data := se.bind(connectionID(t, r), u, p)
	wantCode(t, resp, 0)
	return data, peer.Next(t)
}

// TestSetPolicyCutsPeerConnections: a reload whose peer policy denies the
// peer of a bound RFC 6062 data connection closes it, the peer's side and
// the client's.
func TestSetPolicyCutsPeerConnections(t *testing.T) {
	se := newStreamEdge(t, nil)
	data, sink := se.dataPair(t)
	turntest.RelayBoth(t, sink, data, "before the reload")
	// Deny loopback again: the peer, on 127.0.0.1, is cut.
	if err := se.srv.SetPolicy(policy.NewPeerPolicy(nil, nil, true)); err != nil {
		t.Fatal(err)
	}
	turntest.WantClosed(t, data)
	turntest.WantClosed(t, sink)
}

// TestSetSelfCutsPeerConnections: when the edge's own addresses grow to
// include the peer of a bound RFC 6062 data connection (off the relay
// ports), the connection is cut at once, as a policy reload cuts one.
func TestSetSelfCutsPeerConnections(t *testing.T) {
	se := newStreamEdge(t, nil)
	data, sink := se.dataPair(t)
	turntest.RelayBoth(t, sink, data, "before the edge gained the peer's address")
	se.srv.SetSelf([]netip.Addr{netip.MustParseAddr("127.0.0.1")}) // the peer's address
	turntest.WantClosed(t, data)
	turntest.WantClosed(t, sink)
}
