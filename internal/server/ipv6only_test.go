package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// ipv6Only offers IPv6 relayed addresses on ::1 and no IPv4 ones, with one
// listener on [::1]:0.
func ipv6Only(o *Options) {
	o.RelayAddr = netip.Addr{}
	o.RelayAddrV6 = netip.MustParseAddr("::1")
	o.Listeners = []netip.AddrPort{netip.MustParseAddrPort("[::1]:0")}
}

// TestIPv6OnlyRelay: an edge with only an IPv6 relay address gives an
// Allocate without REQUESTED-ADDRESS-FAMILY an IPv6 relayed address
// (defaultFamily), and media flows both ways with an IPv6 peer; an IPv4
// REQUESTED-ADDRESS-FAMILY gets 440, and ADDITIONAL-ADDRESS-FAMILY the IPv6
// address with ADDRESS-ERROR-CODE 440 for IPv4 (RFC 8656 §7.2 step 9).
func TestIPv6OnlyRelay(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, ipv6Only)
	u, p := e.credential("alice", time.Hour)
	c := e.newClientFrom("::1", u, p)
	relayed := c.allocate()
	if relayed.Addr() != netip.MustParseAddr("::1") || int(relayed.Port()) < e.opts.PortMin || int(relayed.Port()) > e.opts.PortMax {
		t.Fatalf("relayed %v, want [::1] and a port in %d-%d", relayed, e.opts.PortMin, e.opts.PortMax)
	}
	pr := newPeer(t, "::1")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)
	exchange(t, c, pr, relayed, 0x4000)
	sendIndication(t, c, pr, relayed)

	wantCode(t, e.newClientFrom("::1", u, p).do(stun.MethodAllocate, udpTransport, askIPv4), stun.CodeAddrFamilyNotSupported)
	dual, r := e.newClientFrom("::1", u, p).allocateAll(alsoIPv6)
	if len(dual) != 1 || dual[0].Addr() != netip.MustParseAddr("::1") {
		t.Fatalf("dual allocation relayed %v, want one IPv6 address", dual)
	}
	var ae stunproto.AddressErrorCode
	if err := ae.GetFrom(r); err != nil || ae.Family != stunproto.FamilyIPv4 || ae.Code != stun.CodeAddrFamilyNotSupported {
		t.Fatalf("ADDRESS-ERROR-CODE %+v (%v), want IPv4 440", ae, err)
	}
}

// TestNewNeedsARelayAddress: New refuses options with no relay address,
// and an IPv6-only edge whose IPv6 address the host lacks even with
// SkipUnavailable (it would relay nothing).
func TestNewNeedsARelayAddress(t *testing.T) {
	e := newTestEdge(t, nil)
	opts := e.opts
	opts.RelayAddr = netip.Addr{}
	if srv, err := New(opts); err == nil {
		srv.Close()
		t.Fatal("New without a relay address succeeded")
	}
	opts.RelayAddrV6 = netip.MustParseAddr("2001:db8::7e57") // documentation prefix: on no test host
	opts.SkipUnavailable = true
	if srv, err := New(opts); err == nil {
		srv.Close()
		t.Fatal("New with only an unavailable IPv6 relay address succeeded")
	}
}
