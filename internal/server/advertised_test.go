package server

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
)

// TestRelayAdvertised: with an advertised address (the public address of a
// 1:1 NAT), XOR-RELAYED-ADDRESS carries it with the relay port, while the
// relay socket binds the real relay address on that port; IPv6 relayed
// addresses are never rewritten. No traffic goes to the advertised address.
func TestRelayAdvertised(t *testing.T) {
	public := netip.MustParseAddr("203.0.113.10")
	loop := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name       string
		advertised netip.Addr
		dual       bool
		want       []netip.Addr // the addresses of XOR-RELAYED-ADDRESS
	}{
		{"not configured", netip.Addr{}, false, []netip.Addr{loop}},
		{"advertised", public, false, []netip.Addr{public}},
		{"dual allocation", public, true, []netip.Addr{public, netip.MustParseAddr("::1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dual {
				requireIPv6(t)
			}
			e := newTestEdge(t, func(o *Options) {
				o.RelayAdvertised = tt.advertised
				if tt.dual {
					withIPv6(o)
				}
			})
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			var relayed []netip.AddrPort
			if tt.dual {
				relayed, _ = c.allocateAll(alsoIPv6)
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
// a concrete IPv4 address.
func TestRelayAdvertisedRefused(t *testing.T) {
	for _, a := range []string{"2001:db8::1", "0.0.0.0"} {
		t.Run(a, func(t *testing.T) {
			_, err := New(Options{
				Auth:            new(auth.Authenticator),
				Policy:          loopbackPolicy(),
				RelayAddr:       netip.MustParseAddr("127.0.0.1"),
				RelayAdvertised: netip.MustParseAddr(a),
			})
			if err == nil || !strings.Contains(err.Error(), "advertised relay address") {
				t.Fatalf("New: %v, want an error about the advertised address", err)
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
