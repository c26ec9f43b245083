package server

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

var (
	askIPv6  = stunproto.RequestedAddressFamily(stunproto.FamilyIPv6)
	askIPv4  = stunproto.RequestedAddressFamily(stunproto.FamilyIPv4)
	alsoIPv6 = stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)
)

// exchange checks ChannelData both ways between c and pr through relayed
// on channel num, which must be bound already.
func exchange(t *testing.T, c *client, pr *peer, relayed netip.AddrPort, num uint16) {
	t.Helper()
	payload := []byte("to " + pr.addr().String())
	c.send(channelData(num, payload))
	if got, from := pr.read(); !bytes.Equal(got, payload) || from != relayed {
		t.Fatalf("peer %v got %q from %v, want %q from %v", pr.addr(), got, from, payload, relayed)
	}
	back := []byte("from " + pr.addr().String())
	pr.sendTo(back, relayed)
	num2, got, err := stunproto.ParseChannelData(c.read())
	if err != nil || num2 != num || !bytes.Equal(got, back) {
		t.Fatalf("client got channel %#x %q (%v), want %#x %q", num2, got, err, num, back)
	}
}

// sendIndication relays payload to pr with a Send indication and checks
// that it arrives from relayed.
func sendIndication(t *testing.T, c *client, pr *peer, relayed netip.AddrPort, extra ...stun.Setter) {
	t.Helper()
	payload := []byte("send to " + pr.addr().String())
	setters := append([]stun.Setter{stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(pr.addr()), stunproto.Data(payload)}, extra...)
	c.send(stun.MustBuild(append(setters, stun.Fingerprint)...).Raw)
	if got, from := pr.read(); !bytes.Equal(got, payload) || from != relayed {
		t.Fatalf("peer %v got %q from %v, want %q from %v", pr.addr(), got, from, payload, relayed)
	}
}

// TestIPv6Relay: REQUESTED-ADDRESS-FAMILY IPv6 gives an IPv6 relayed
// address on ::1 (RFC 8656 §7.2 step 7), from an IPv4 or an IPv6 client, and
// media flows both ways with an IPv6 peer; an IPv4 peer is refused with 443.
func TestIPv6Relay(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	for _, from := range []string{"127.0.0.1", "::1"} {
		t.Run("client on "+from, func(t *testing.T) {
			u, p := e.credential("alice", time.Hour)
			c := e.newClientFrom(from, u, p)
			relayed := c.allocate(askIPv6)
			if relayed.Addr() != netip.MustParseAddr("::1") || int(relayed.Port()) < e.opts.PortMin || int(relayed.Port()) > e.opts.PortMax {
				t.Fatalf("relayed %v, want [::1] and a port in %d-%d", relayed, e.opts.PortMin, e.opts.PortMax)
			}
			pr := newPeer(t, "::1")
			wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)
			exchange(t, c, pr, relayed, 0x4000)
			v4 := newPeer(t, "127.0.0.1").addr()
			wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(v4)), stun.CodePeerAddrFamilyMismatch)
			wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(v4)), stun.CodePeerAddrFamilyMismatch)
			// An IPv4 REQUESTED-ADDRESS-FAMILY on Refresh does not match.
			wantCode(t, c.do(stun.MethodRefresh, askIPv4), stun.CodePeerAddrFamilyMismatch)
			wantCode(t, c.do(stun.MethodRefresh, askIPv6), 0)
		})
	}
}

// TestDualAllocation: ADDITIONAL-ADDRESS-FAMILY IPv6 gives two relayed
// addresses, IPv4 then IPv6 (RFC 8656 §7.2 step 9); each family's peers are
// relayed through the relayed address of their family.
func TestDualAllocation(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed, r := c.allocateAll(alsoIPv6)
	if len(relayed) != 2 || !relayed[0].Addr().Is4() || relayed[1].Addr() != netip.MustParseAddr("::1") {
		t.Fatalf("relayed %v, want one IPv4 and then one IPv6 address", relayed)
	}
	if r.Contains(stunproto.AttrAddressErrorCode) {
		t.Fatal("a fully met dual allocation carries ADDRESS-ERROR-CODE")
	}
	p4, p6 := newPeer(t, "127.0.0.1"), newPeer(t, "::1")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4004), peerAttr(p4.addr())), 0)
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4006), peerAttr(p6.addr())), 0)
	exchange(t, c, p4, relayed[0], 0x4004)
	exchange(t, c, p6, relayed[1], 0x4006)
	sendIndication(t, c, p4, relayed[0])
	sendIndication(t, c, p6, relayed[1])
	for _, fam := range []stun.Setter{askIPv4, askIPv6} {
		wantCode(t, c.do(stun.MethodRefresh, fam), 0)
	}
}

// TestDualAllocationDeleteOneFamily: a Refresh with LIFETIME 0 and
// REQUESTED-ADDRESS-FAMILY deletes only that family's relayed address,
// with its permissions and channels (RFC 8656 §8.1); the other keeps
// working, and a plain LIFETIME 0 then deletes the allocation.
func TestDualAllocationDeleteOneFamily(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed, _ := c.allocateAll(alsoIPv6)
	p4, p6 := newPeer(t, "127.0.0.1"), newPeer(t, "::1")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(p4.addr())), 0)
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(p6.addr())), 0)

	r := c.do(stun.MethodRefresh, askIPv6, stunproto.Lifetime{})
	wantCode(t, r, 0)
	var lifetime stunproto.Lifetime
	if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != 0 {
		t.Fatalf("LIFETIME %v (%v), want 0", lifetime.Duration, err)
	}
	// The IPv6 relayed port is closed and back in the pool.
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(relayed[1]))
	if err != nil {
		t.Fatalf("IPv6 relayed address still bound: %v", err)
	}
	conn.Close()
	// Its channel went with it; the IPv4 one still relays.
	c.send(channelData(0x4001, []byte("gone")))
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropNoChannel); got != 1 {
		t.Fatalf("no_channel drops = %d, want 1", got)
	}
	exchange(t, c, p4, relayed[0], 0x4000)
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p6.addr())), stun.CodePeerAddrFamilyMismatch)
	wantCode(t, c.do(stun.MethodRefresh, askIPv6), stun.CodePeerAddrFamilyMismatch)
	if got := e.srv.Stats().Allocations; got != 1 {
		t.Fatalf("allocations = %d, want 1", got)
	}
	// With one family left, LIFETIME 0 ends the allocation.
	wantCode(t, c.do(stun.MethodRefresh, askIPv4, stunproto.Lifetime{}), 0)
	if rec := e.waitEnded(); rec.Reason != "refresh 0" || rec.Relayed != relayed[0] || rec.Additional.IsValid() {
		t.Fatalf("record %+v", rec)
	}
}

// TestIPv6NotOffered: without an IPv6 relay address, REQUESTED-ADDRESS-FAMILY
// IPv6 gets 440 and ADDITIONAL-ADDRESS-FAMILY IPv6 an IPv4-only allocation
// with ADDRESS-ERROR-CODE 440 for IPv6 (RFC 8656 §7.2 step 9).
func TestIPv6NotOffered(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, askIPv6), stun.CodeAddrFamilyNotSupported)
	c := e.newClient(u, p)
	relayed, r := c.allocateAll(alsoIPv6)
	if len(relayed) != 1 || !relayed[0].Addr().Is4() {
		t.Fatalf("relayed %v, want one IPv4 address", relayed)
	}
	var ae stunproto.AddressErrorCode
	if err := ae.GetFrom(r); err != nil || ae.Family != stunproto.FamilyIPv6 || ae.Code != stun.CodeAddrFamilyNotSupported {
		t.Fatalf("ADDRESS-ERROR-CODE %+v (%v), want IPv6 440", ae, err)
	}
	if err := stun.NewLongTermIntegrity(u, testRealm, p).Check(r); err != nil {
		t.Fatalf("MESSAGE-INTEGRITY: %v", err)
	}
	wantCode(t, c.do(stun.MethodRefresh, askIPv6), stun.CodePeerAddrFamilyMismatch)
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
	sendIndication(t, c, pr, relayed[0])
	// A Send to an IPv6 peer has no relayed address to leave from: dropped.
	before := e.srv.Stats().Dropped(stats.DropNoPermission)
	c.send(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(netip.MustParseAddrPort("[::1]:9")), stunproto.Data("x"), stun.Fingerprint).Raw)
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropNoPermission) - before; got != 1 {
		t.Fatalf("no_permission drops went up by %d for a Send to an IPv6 peer, want 1", got)
	}
}

// TestDualAllocationPartial: when the IPv6 pool is empty, a dual request
// gets its IPv4 address and ADDRESS-ERROR-CODE 508 for IPv6; when both are
// empty, 508.
func TestDualAllocationPartial(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, func(o *Options) { withIPv6(o); o.PortMax = o.PortMin }) // one port per family
	u, p := e.credential("alice", time.Hour)
	if six := e.newClient(u, p).allocate(askIPv6); !six.Addr().Is6() { // takes the only IPv6 port
		t.Fatalf("relayed %v, want IPv6", six)
	}
	relayed, r := e.newClient(u, p).allocateAll(alsoIPv6)
	if len(relayed) != 1 || !relayed[0].Addr().Is4() {
		t.Fatalf("relayed %v, want one IPv4 address", relayed)
	}
	var ae stunproto.AddressErrorCode
	if err := ae.GetFrom(r); err != nil || ae.Family != stunproto.FamilyIPv6 || ae.Code != stun.CodeInsufficientCapacity {
		t.Fatalf("ADDRESS-ERROR-CODE %+v (%v), want IPv6 508", ae, err)
	}
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, alsoIPv6), stun.CodeInsufficientCapacity)
	if got := e.srv.Stats().Allocations; got != 2 {
		t.Fatalf("allocations = %d, want 2", got)
	}
}

// TestIPv6RelayAddressUnavailable: an IPv6 relay address the host lacks
// fails New, unless SkipUnavailable (the development edge) makes the server
// start without offering IPv6.
func TestIPv6RelayAddressUnavailable(t *testing.T) {
	absent := netip.MustParseAddr("2001:db8::7e57") // documentation prefix: on no test host
	e := newTestEdge(t, nil)
	opts := e.opts
	opts.RelayAddrV6 = absent
	if srv, err := New(opts); err == nil {
		srv.Close()
		t.Fatal("New with an unavailable IPv6 relay address succeeded")
	}
	e = newTestEdge(t, func(o *Options) { o.RelayAddrV6 = absent; o.SkipUnavailable = true })
	u, p := e.credential("alice", time.Hour)
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, askIPv6), stun.CodeAddrFamilyNotSupported)
	e.newClient(u, p).allocate()
}

func TestNewRejectsBadRelayAddresses(t *testing.T) {
	e := newTestEdge(t, nil)
	for _, tc := range []struct{ v4, v6 string }{
		{"::1", ""},
		{"127.0.0.1", "127.0.0.2"},
		{"127.0.0.1", "::ffff:127.0.0.1"},
		{"127.0.0.1", "::"},
		{"127.0.0.1", "fe80::1%1"},
	} {
		opts := e.opts
		opts.RelayAddr = netip.MustParseAddr(tc.v4)
		opts.RelayAddrV6 = netip.Addr{}
		if tc.v6 != "" {
			opts.RelayAddrV6 = netip.MustParseAddr(tc.v6)
		}
		if srv, err := New(opts); err == nil {
			srv.Close()
			t.Errorf("New with relay addresses %q and %q succeeded", tc.v4, tc.v6)
		}
	}
}

// TestStreamListenerUnavailable: a TCP listener on an address the host
// lacks fails New, unless SkipUnavailable (the development edge) skips it
// while the other listeners serve.
func TestStreamListenerUnavailable(t *testing.T) {
	e := newTestEdge(t, nil)
	opts := e.opts
	opts.StreamListeners = []StreamListener{{Addr: netip.MustParseAddrPort("192.0.2.77:3478"), Plain: true}} // TEST-NET-1: on no test host
	if srv, err := New(opts); err == nil {
		srv.Close()
		t.Fatal("New with an unavailable TCP listener succeeded")
	}
	opts.SkipUnavailable = true
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New with SkipUnavailable: %v", err)
	}
	defer srv.Close()
	if got := srv.StreamAddrs(); len(got) != 0 || len(srv.Addrs()) != 1 {
		t.Fatalf("TCP listeners %v, UDP %v: want none and one", got, srv.Addrs())
	}
}
