package server

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
)

// TestRelayAdvertised: with an advertised address of a family (the public
// address of a 1:1 NAT, or the outside address of an NPTv6 translation),
// XOR-RELAYED-ADDRESS of that family carries it with the relay port, while
// the relay socket binds the real relay address on that port; a family
// without one is not rewritten. No traffic goes to the advertised address.
func TestRelayAdvertised(t *testing.T) {
	public := netip.MustParseAddr("203.0.113.10")
	public6 := netip.MustParseAddr("2001:db8::10")
	loop, loop6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	tests := []struct {
		name                    string
		advertised, advertised6 netip.Addr
		ask                     stun.Setter  // nil: an IPv4 allocation; else with IPv6 relays on ::1
		want                    []netip.Addr // the addresses of XOR-RELAYED-ADDRESS
	}{
		{"not configured", netip.Addr{}, netip.Addr{}, nil, []netip.Addr{loop}},
		{"advertised", public, netip.Addr{}, nil, []netip.Addr{public}},
		{"dual allocation", public, netip.Addr{}, alsoIPv6, []netip.Addr{public, loop6}},
		{"IPv6 only advertised, IPv4 allocation", netip.Addr{}, public6, nil, []netip.Addr{loop}},
		{"IPv6 only advertised, dual allocation", netip.Addr{}, public6, alsoIPv6, []netip.Addr{loop, public6}},
		{"both advertised, dual allocation", public, public6, alsoIPv6, []netip.Addr{public, public6}},
		{"both advertised, IPv6 allocation", public, public6, askIPv6, []netip.Addr{public6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ask != nil {
				requireIPv6(t)
			}
			e := newTestEdge(t, func(o *Options) {
				o.RelayAdvertised, o.RelayAdvertisedV6 = tt.advertised, tt.advertised6
				if tt.ask != nil {
					withIPv6(o)
				}
			})
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			var relayed []netip.AddrPort
			if tt.ask != nil {
				relayed, _ = c.allocateAll(tt.ask)
			} else {
				relayed = []netip.AddrPort{c.allocate()}
			}
			if len(relayed) != len(tt.want) {
				t.Fatalf("relayed %v, want addresses %v", relayed, tt.want)
			}
			socks := e.relaySockets(c.addr())
			if len(socks) != len(relayed) {
				t.Fatalf("%d relay sockets for %d relayed addresses", len(socks), len(relayed))
			}
			for i, r := range relayed {
				if r.Addr() != tt.want[i] || int(r.Port()) < e.opts.PortMin || int(r.Port()) > e.opts.PortMax {
					t.Errorf("relayed[%d] = %v, want %v and a port in %d-%d", i, r, tt.want[i], e.opts.PortMin, e.opts.PortMax)
				}
				bound := e.opts.RelayAddr
				if r.Addr().Is6() {
					bound = e.opts.RelayAddrV6
				}
				if got, want := socks[i].LocalAddr(), netip.AddrPortFrom(bound, r.Port()); got != want {
					t.Errorf("relay socket %d bound to %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestRelayAdvertisedRefused: New refuses an advertised address that is not
// a concrete address of its family.
func TestRelayAdvertisedRefused(t *testing.T) {
	tests := []struct {
		v4, v6 string
		want   string
	}{
		{v4: "2001:db8::1", want: "advertised relay address"},
		{v4: "0.0.0.0", want: "advertised relay address"},
		{v6: "203.0.113.1", want: "advertised IPv6 relay address"},
		{v6: "::ffff:203.0.113.1", want: "advertised IPv6 relay address"},
		{v6: "::", want: "advertised IPv6 relay address"},
		{v6: "fe80::1%eth0", want: "advertised IPv6 relay address"},
	}
	for _, tt := range tests {
		t.Run(tt.v4+tt.v6, func(t *testing.T) {
			o := Options{
				Auth:        new(auth.Authenticator),
				Policy:      loopbackPolicy(),
				RelayAddr:   netip.MustParseAddr("127.0.0.1"),
				RelayAddrV6: netip.MustParseAddr("::1"),
			}
			if tt.v4 != "" {
				o.RelayAdvertised = netip.MustParseAddr(tt.v4)
			}
			if tt.v6 != "" {
				o.RelayAdvertisedV6 = netip.MustParseAddr(tt.v6)
			}
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about the %s", err, tt.want)
			}
		})
	}
}

// TestMSRelayAdvertised: behind a 1:1 NAT an [MS-TURN] allocation, like an
// RFC one, names the advertised address in MAPPED-ADDRESS (with the port of
// the relay socket, which stays bound to the relay address), and a refresh
// names it again.
func TestMSRelayAdvertised(t *testing.T) {
	public := netip.MustParseAddr("203.0.113.10")
	e := newTestEdge(t, func(o *Options) { o.RelayAdvertised = public })
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	if c.relayed.Addr() != public || int(c.relayed.Port()) < e.opts.PortMin || int(c.relayed.Port()) > e.opts.PortMax {
		t.Fatalf("MAPPED-ADDRESS %v, want %v with a relay port", c.relayed, public)
	}
	socks := e.relaySockets(c.addr())
	if len(socks) != 1 || socks[0].LocalAddr() != netip.AddrPortFrom(e.opts.RelayAddr, c.relayed.Port()) {
		t.Fatalf("relay sockets %v, want one bound to %v:%d", socks, e.opts.RelayAddr, c.relayed.Port())
	}
	r := c.roundTrip(c.allocateMsg(newTxID()))
	c.wantSuccess(r, msturn.AllocateResponse)
	if got, _ := r.Address(msturn.AttrMappedAddress); got != c.relayed {
		t.Fatalf("refresh: MAPPED-ADDRESS %v, want %v", got, c.relayed)
	}
}
