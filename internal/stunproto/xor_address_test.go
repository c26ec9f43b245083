package stunproto

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

func TestXORAddressRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   netip.AddrPort
		want netip.AddrPort
		size int
	}{
		{"ipv4", netip.MustParseAddrPort("192.0.2.1:32853"), netip.MustParseAddrPort("192.0.2.1:32853"), 8},
		{"ipv4 port 0", netip.MustParseAddrPort("203.0.113.9:0"), netip.MustParseAddrPort("203.0.113.9:0"), 8},
		{"ipv6", netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:65535"), netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:65535"), 20},
		{"ipv4-mapped encodes as ipv4", netip.MustParseAddrPort("[::ffff:198.51.100.7]:3478"), netip.MustParseAddrPort("198.51.100.7:3478"), 8},
		{"zone dropped", netip.MustParseAddrPort("[fe80::1%eth0]:9"), netip.MustParseAddrPort("[fe80::1]:9"), 20},
	}
	kinds := []struct {
		name string
		typ  stun.AttrType
		set  func(netip.AddrPort) stun.Setter
		get  func(m *stun.Message) (netip.AddrPort, error)
	}{
		{"peer", stun.AttrXORPeerAddress, func(a netip.AddrPort) stun.Setter { return XORPeerAddress{Addr: a} },
			func(m *stun.Message) (netip.AddrPort, error) {
				var a XORPeerAddress
				err := a.GetFrom(m)
				return a.Addr, err
			}},
		{"relayed", stun.AttrXORRelayedAddress, func(a netip.AddrPort) stun.Setter { return XORRelayedAddress{Addr: a} },
			func(m *stun.Message) (netip.AddrPort, error) {
				var a XORRelayedAddress
				err := a.GetFrom(m)
				return a.Addr, err
			}},
		{"mapped", stun.AttrXORMappedAddress, func(a netip.AddrPort) stun.Setter { return XORMappedAddress{Addr: a} },
			func(m *stun.Message) (netip.AddrPort, error) {
				var a XORMappedAddress
				err := a.GetFrom(m)
				return a.Addr, err
			}},
	}
	for _, k := range kinds {
		for _, tc := range tests {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				m := build(t, k.set(tc.in))
				v, err := m.Get(k.typ)
				if err != nil {
					t.Fatal(err)
				}
				if len(v) != tc.size {
					t.Errorf("value size = %d, want %d", len(v), tc.size)
				}
				got, err := k.get(m)
				if err != nil {
					t.Fatalf("GetFrom: %v", err)
				}
				if got != tc.want {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				// Interoperates with pion's own decoder.
				var p stun.XORMappedAddress
				if err := p.GetFromAs(m, k.typ); err != nil {
					t.Fatalf("pion decode: %v", err)
				}
				if !p.IP.Equal(net.IP(tc.want.Addr().AsSlice())) || p.Port != int(tc.want.Port()) {
					t.Errorf("pion decoded %v:%d, want %v", p.IP, p.Port, tc.want)
				}
			})
		}
	}
}

func TestXORAddressDecodesPionEncoding(t *testing.T) {
	for _, s := range []string{"192.0.2.1:32853", "[2001:db8::1]:3478"} {
		want := netip.MustParseAddrPort(s)
		m := build(t, &stun.XORMappedAddress{IP: net.IP(want.Addr().AsSlice()), Port: int(want.Port())})
		var got XORMappedAddress
		if err := got.GetFrom(m); err != nil {
			t.Fatal(err)
		}
		if got.Addr != want {
			t.Errorf("got %v, want %v", got.Addr, want)
		}
	}
}

func TestXORAddressAddToInvalid(t *testing.T) {
	if err := (XORPeerAddress{}).AddTo(stun.New()); !errors.Is(err, ErrBadAddress) {
		t.Errorf("AddTo(zero address) = %v, want ErrBadAddress", err)
	}
}

func TestXORAddressGetFromAllocs(t *testing.T) {
	for _, s := range []string{"192.0.2.1:32853", "[2001:db8::1]:3478"} {
		m := build(t, XORPeerAddress{Addr: netip.MustParseAddrPort(s)})
		var a XORPeerAddress
		allocs := testing.AllocsPerRun(100, func() {
			if err := a.GetFrom(m); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: GetFrom allocs = %v, want 0", s, allocs)
		}
	}
}
