package server

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

// self is the edge's own address in the hairpin tests: its relay address
// and its listeners', as internal/edge fills Options.Self in. Peers on
// 127.0.0.2 stand for the rest of the world.
var self = netip.MustParseAddr("127.0.0.1")

// newSelfEdge is a stream edge that knows its own address and refuses the
// well-known peer ports.
func newSelfEdge(t *testing.T) *streamEdge {
	t.Helper()
	return newStreamEdge(t, func(o *Options) {
		o.Self = []netip.Addr{self}
		o.PeerPorts = []PortRange{{1024, 65535}}
	})
}

// listenTCP starts a TCP listener on ip standing for a service of the
// edge's host (an admin or credential service listener, sshd, ...).
func listenTCP(t *testing.T, ip string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// TestHairpinConnect: an RFC 6062 allocation cannot Connect to the edge's
// own TURN listener or to another service on the edge's address (403,
// counted peer_denied, before any connection is tried), nor to a
// well-known port elsewhere; a peer elsewhere on a high port is reached.
func TestHairpinConnect(t *testing.T) {
	se := newSelfEdge(t)
	c := se.newStreamClient(se.credential("alice", time.Hour))
	c.allocateTCP()
	service := listenTCP(t, self.String())
	before := se.srv.Stats().Refused(stats.RefusedPeerDenied)
	for _, peer := range []netip.AddrPort{
		se.tcp,  // the edge's own TURN over TCP
		se.addr, // the edge's own UDP listener's port, over TCP
		service,
		netip.MustParseAddrPort("127.0.0.2:79"), // a well-known port
	} {
		wantCode(t, c.connect(peer), stun.CodeForbidden)
	}
	if n := se.srv.Stats().Refused(stats.RefusedPeerDenied) - before; n != 4 {
		t.Errorf("peer_denied refusals %d, want 4", n)
	}
	if st := se.srv.Stats().TCP; st.Connects != 0 {
		t.Errorf("%d peer connections tried, want none", st.Connects)
	}
	wantCode(t, c.connect(listenTCP(t, "127.0.0.2")), 0)
}

// TestHairpinInbound: a connection from the edge's own address to a TCP
// relayed address is closed at once, even with a permission for that
// address (installed through a relay port, as two allocations of the
// edge permit each other), and the client hears of no ConnectionAttempt.
func TestHairpinInbound(t *testing.T) {
	se := newSelfEdge(t)
	c := se.newStreamClient(se.credential("alice", time.Hour))
	relayed := c.allocateTCP()
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(netip.AddrPortFrom(self, uint16(se.opts.PortMin)))), 0)
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(self, 0))}
	pc, err := d.Dial("tcp4", relayed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	turntest.WantClosed(t, pc)
	waitFor(t, func() bool { return se.srv.Stats().TCP.RefusedNoPermission == 1 })
	if st := se.srv.Stats().TCP; st.Inbound != 0 {
		t.Errorf("%d inbound connections offered to the client, want none", st.Inbound)
	}
}

// TestHairpinUDP: a UDP allocation cannot permit, bind a channel to or
// send to the edge's own listener, nor to a well-known port elsewhere
// (403; a Send is dropped and counted peer_denied), while two allocations
// of the edge relay to each other through their relayed addresses.
func TestHairpinUDP(t *testing.T) {
	se := newSelfEdge(t)
	alice := se.newClient(se.credential("alice", time.Hour))
	aliceRelayed := alice.allocate()
	bob := se.newClient(se.credential("bob", time.Hour))
	bobRelayed := bob.allocate()

	wantCode(t, alice.do(stun.MethodCreatePermission, peerAttr(se.addr)), stun.CodeForbidden)
	wantCode(t, alice.do(stun.MethodCreatePermission, peerAttr(netip.AddrPortFrom(self, 0))), stun.CodeForbidden)
	wantCode(t, alice.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(se.addr)), stun.CodeForbidden)
	wantCode(t, alice.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(netip.MustParseAddrPort("127.0.0.2:53"))),
		stun.CodeForbidden)

	// Alice and Bob reach each other's relayed addresses.
	wantCode(t, alice.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(bobRelayed)), 0)
	wantCode(t, bob.do(stun.MethodCreatePermission, peerAttr(aliceRelayed)), 0)
	alice.send(channelData(0x4000, []byte("hi bob")))
	wantDataFrom(t, bob, aliceRelayed, "hi bob")
	bob.sendTo(aliceRelayed, "hi alice")
	if b := alice.read(); string(b[4:]) != "hi alice" {
		t.Fatalf("alice got % x, want ChannelData \"hi alice\"", b)
	}

	// With the permission for the edge's address, a Send to its listener
	// is still dropped, as is one to a well-known port elsewhere.
	wantCode(t, alice.do(stun.MethodCreatePermission, peerAttr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), 0))), 0)
	drops := se.dropsDelta(func() {
		alice.sendTo(se.addr, "to the edge itself")
		alice.sendTo(netip.MustParseAddrPort("127.0.0.2:53"), "to DNS")
		alice.barrier()
	})
	if len(drops) != 1 || drops[stats.DropPeerDenied] != 2 {
		t.Fatalf("drops %v, want two peer_denied", drops)
	}
}

// TestHairpinMS: an [MS-TURN] allocation cannot make the edge's own
// listener its active destination nor send to it.
func TestHairpinMS(t *testing.T) {
	se := newSelfEdge(t)
	c := se.newMSClient(se.credential("alice", time.Hour))
	c.allocate()
	before := se.srv.Stats().Refused(stats.RefusedPeerDenied)
	msWantError(t, c.sad(se.addr), msturn.SetActiveDestError, 403)
	c.send(se.addr, []byte("to the edge itself"))
	c.barrier()
	if n := se.srv.Stats().Refused(stats.RefusedPeerDenied) - before; n != 2 {
		t.Errorf("peer_denied refusals %d, want 2", n)
	}
}

// wantDataFrom reads a Data indication from peer carrying data on c.
func wantDataFrom(t *testing.T, c *client, peer netip.AddrPort, data string) {
	t.Helper()
	m := c.readMessage()
	var from stunproto.XORPeerAddress
	var d stunproto.Data
	if m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) || from.GetFrom(m) != nil || d.GetFrom(m) != nil ||
		from.Addr != peer || string(d) != data {
		t.Fatalf("got %v from %v with %q, want a Data indication from %v with %q", m.Type, from.Addr, d, peer, data)
	}
}

// TestSetSelf: an address the host gains while the edge runs is refused
// as a peer once SetSelf names it, and one it lost is a peer again.
func TestSetSelf(t *testing.T) {
	se := newSelfEdge(t)
	c := se.newStreamClient(se.credential("alice", time.Hour))
	c.allocateTCP()
	gained := listenTCP(t, "127.0.0.3")
	se.srv.SetSelf([]netip.Addr{self, gained.Addr()})
	wantCode(t, c.connect(gained), stun.CodeForbidden)
	se.srv.SetSelf([]netip.Addr{self})
	wantCode(t, c.connect(gained), 0)
}
